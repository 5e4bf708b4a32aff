/**
 * A throwaway Xandikos (Debian package `xandikos`, 0.2) for the tests:
 * `xandikos --defaults -d DIR -l 127.0.0.1 -p PORT` in a fresh folder (under /dev/shm where it
 * exists, see `scratchBase`). `--defaults` makes the principal `/user/` with a calendar
 * (`/user/calendars/calendar/`) and an address book (`/user/contacts/addressbook/`).
 *
 * Xandikos has no authentication (it expects a proxy in front): every request acts as the
 * one user, and the credentials below are sent and ignored. Other principals are made
 * with an extended MKCOL of resource type DAV:principal (`addUser`). Xandikos stores each
 * collection in a git repository and slows down past a few thousand items: keep data small.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  findProgram,
  freePort,
  type ServerProcess,
  scratchBase,
  startProcess,
  waitForHttp,
} from './server-process.js';

/** Points the tests at another Xandikos program. */
export const XANDIKOS_BIN_VARIABLE = 'LIAISON_XANDIKOS_BIN';

export interface XandikosServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** The default principal's name (`user`); Xandikos checks no credentials. */
  readonly username: string;
  readonly password: string;
  /** Makes the principal `/NAME/` (its home sets `calendars/` and `contacts/` do not exist yet). */
  addUser(name: string): Promise<void>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same port with the same data. */
  restart(): Promise<void>;
}

export async function startXandikos(): Promise<XandikosServer> {
  const program = findProgram('xandikos', 'xandikos', XANDIKOS_BIN_VARIABLE);
  const root = mkdtempSync(join(scratchBase(), 'liaison-xandikos-'));
  const log = join(root, 'xandikos.log');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const args = ['--defaults', '-d', join(root, 'data'), '-l', '127.0.0.1', '-p', String(port)];
  const start = async (): Promise<ServerProcess> => {
    const server = startProcess(program, args, log);
    await waitForHttp(url, server, log, 'Xandikos');
    return server;
  };
  let running: ServerProcess | undefined;
  try {
    running = await start();
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    url,
    username: 'user',
    password: randomBytes(12).toString('hex'),
    async addUser(name) {
      const response = await fetch(new URL(`${encodeURIComponent(name)}/`, url), {
        method: 'MKCOL',
        headers: { 'content-type': 'application/xml; charset=utf-8' },
        body: '<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:"><D:set><D:prop><D:resourcetype><D:principal/></D:resourcetype></D:prop></D:set></D:mkcol>',
      });
      await response.arrayBuffer();
      if (response.status !== 201)
        throw new Error(`Xandikos refused to make the principal ${name}: ${response.status}`);
    },
    async stop() {
      await running?.stop();
      running = undefined;
      rmSync(root, { recursive: true, force: true });
    },
    async restart() {
      await running?.stop();
      running = await start();
    },
  };
}
