/**
 * A throwaway Radicale (Debian package `radicale`, 3.1) for the tests: a fresh folder (under
 * /dev/shm where it exists, see `scratchBase`) holding
 *
 *     config       [server] hosts on a free port of 127.0.0.1; [auth] htpasswd, plain
 *                  passwords, no delay after a failed login; [rights] from_file; no web UI
 *     users        htpasswd lines `name:password` (Radicale re-reads it on every login)
 *     rights       the service account may read and write every collection; every user
 *                  their own; anyone logged in may read the root (for discovery)
 *     collections/ the storage
 *     radicale.log
 *
 * Radicale 3.1's rights letters: R/W read/write plain collections (principals, homes),
 * r/w read/write address books and calendars.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  findProgram,
  freePort,
  type ServerProcess,
  scratchBase,
  startProcess,
  waitForHttp,
} from './server-process.js';

/** Points the tests at another Radicale program. */
export const RADICALE_BIN_VARIABLE = 'LIAISON_RADICALE_BIN';

export interface RadicaleServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** The service account, allowed into every user's collections. */
  readonly username: string;
  readonly password: string;
  /**
   * Creates a user with a password and logs in once as that user, which makes Radicale
   * create the user's principal collection `/NAME/` — as a real user's first login does.
   */
  addUser(name: string): Promise<{ readonly username: string; readonly password: string }>;
  /** The storage folder (`collections/`). */
  readonly storage: string;
  /** Radicale's log (level warning): what it refused and why. */
  readonly log: string;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
  /**
   * Stops the server and starts it again on the same port with the same data; `whileStopped`
   * runs in between, to change the storage as a restore from a backup would.
   */
  restart(whileStopped?: () => void | Promise<void>): Promise<void>;
  /**
   * Kills the server with SIGKILL, as a crash or a power cut would: requests in flight get
   * no answer. It stays down until `restart()`.
   */
  crash(): Promise<void>;
}

export async function startRadicale(): Promise<RadicaleServer> {
  const program = findProgram('radicale', 'radicale', RADICALE_BIN_VARIABLE);
  const root = mkdtempSync(join(scratchBase(), 'liaison-radicale-'));
  const storage = join(root, 'collections');
  const users = join(root, 'users');
  const log = join(root, 'radicale.log');
  const username = 'liaison-service';
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  writeFileSync(users, `${username}:${password}\n`);
  writeFileSync(
    join(root, 'rights'),
    [
      '[service]',
      `user: ${escapeRegex(username)}`,
      'collection: .*',
      'permissions: RrWw',
      '',
      '[owner]',
      'user: .+',
      'collection: {user}(/.*)?',
      'permissions: RrWw',
      '',
      '[root]',
      'user: .+',
      'collection:',
      'permissions: R',
      '',
    ].join('\n'),
  );
  const config = join(root, 'config');
  writeFileSync(
    config,
    [
      '[server]',
      `hosts = 127.0.0.1:${port}`,
      'max_connections = 20',
      '[auth]',
      'type = htpasswd',
      `htpasswd_filename = ${users}`,
      'htpasswd_encryption = plain',
      'delay = 0',
      '[rights]',
      'type = from_file',
      `file = ${join(root, 'rights')}`,
      '[storage]',
      `filesystem_folder = ${storage}`,
      '[web]',
      'type = none',
      '[logging]',
      'level = warning',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}/`;
  const start = async (): Promise<ServerProcess> => {
    const server = startProcess(program, ['--config', config], log);
    await waitForHttp(url, server, log, 'Radicale');
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
    username,
    password,
    storage,
    log,
    async addUser(name) {
      const userPassword = randomBytes(8).toString('hex');
      appendFileSync(users, `${name}:${userPassword}\n`);
      const response = await fetch(url, {
        method: 'PROPFIND',
        headers: {
          authorization: `Basic ${Buffer.from(`${name}:${userPassword}`).toString('base64')}`,
          depth: '0',
        },
      });
      await response.arrayBuffer();
      if (response.status !== 207)
        throw new Error(`Radicale refused the first login of ${name}: ${response.status}`);
      return { username: name, password: userPassword };
    },
    async stop() {
      await running?.stop();
      running = undefined;
      rmSync(root, { recursive: true, force: true });
    },
    async restart(whileStopped) {
      await running?.stop();
      running = undefined;
      await whileStopped?.();
      running = await start();
    },
    async crash() {
      await running?.kill();
    },
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
