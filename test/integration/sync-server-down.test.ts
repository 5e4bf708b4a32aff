import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../../src/main.js';
import { runMailboxSync } from '../../src/sync/run-sync.js';
import { DEFAULT_SETTINGS } from '../../src/sync/settings.js';

/*
 * A DAV server that accepts connections and never answers, with three users on it, and
 * one user on a working (vdir) server: the hung server is asked once in the run, its other
 * users fail at once naming that failure, and the working server's user is synced.
 */

let dir: string;
let app: App;
let hung: Server;
const sockets: Socket[] = [];
let connections = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'liaison-server-down-'));
  hung = createServer((socket) => {
    connections += 1;
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  const port = (hung.address() as { port: number }).port;
  app = await openApp(join(dir, 'firm.db'));
  await app.repos.servers.add({
    name: 'hung',
    kind: 'dav',
    url: `http://127.0.0.1:${port}/`,
    // No login needed to find out; a short timeout and no retries keep the test quick.
    options: { auth: 'none', timeoutMs: 300, retries: 0 },
  });
  mkdirSync(join(dir, 'mailboxes'));
  await app.repos.servers.add({ name: 'files', kind: 'vdir', url: join(dir, 'mailboxes') });
  for (const login of ['h1', 'h2', 'h3']) {
    await app.repos.users.add({ login, server: 'hung', contactsEnabled: true, calendarEnabled: true });
  }
  mkdirSync(join(dir, 'mailboxes', 'pat', 'contacts'), { recursive: true });
  await app.repos.users.add({ login: 'pat', server: 'files', contactsEnabled: true });
});
afterAll(async () => {
  await app?.close();
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => hung?.close(resolve));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a mailbox server that never answers', () => {
  it('is asked once per run; its users fail naming why, the others sync', async () => {
    const report = await runMailboxSync(
      app.syncDeps(),
      { users: 'all', servers: [], groups: [], scope: 'both' },
      DEFAULT_SETTINGS,
    );
    const outcome = (login: string) =>
      report.collections.filter((c) => c.user === login).map((c) => `${c.collection} ${c.outcome}`);
    expect(outcome('pat')).toEqual(['contacts unchanged']);
    for (const login of ['h1', 'h2', 'h3'])
      expect(outcome(login)).toEqual(['contacts failed', 'calendar failed']);
    const reasons = report.collections.filter((c) => c.user !== 'pat').map((c) => c.reason ?? '');
    expect(reasons[0]).toMatch(
      /^hung: PROPFIND .*: no answer within the timeout of 300 ms: the server took the connection but did not answer/,
    );
    for (const later of reasons.slice(1)) {
      expect(later).toMatch(
        /^hung: not asked again: the server has not answered in this run \(hung: PROPFIND/,
      );
    }
    expect(connections).toBe(1);
  });
});
