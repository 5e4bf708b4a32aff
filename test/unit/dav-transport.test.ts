import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLiaisonError, type LiaisonError } from '../../src/domain/errors.js';
import type { DavServerConfig } from '../../src/mailbox/dav/dav-config.js';
import { type DavRequestEvent, DavTransport } from '../../src/mailbox/dav/dav-transport.js';
import { WebDavClient } from '../../src/mailbox/dav/webdav-client.js';
import { DAV_NS } from '../../src/mailbox/dav/xml-element.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import {
  multistatus,
  type Script,
  type ScriptedDavServer,
  startScriptedDavServer,
} from '../support/dav-servers/scripted-dav-server.js';
import { freePort } from '../support/dav-servers/server-process.js';

const PASSWORD = 'S3cret-Passw0rd!';
const TOKEN = 'bearer-token-abc123';
const OK = multistatus(
  '<multistatus xmlns="DAV:"><response><href>/c/</href><propstat><prop><getetag>"1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>',
);
const GETETAG = [{ ns: DAV_NS, local: 'getetag' }];

let server: ScriptedDavServer | undefined;
const clients: WebDavClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.transport.close()));
  await server?.close();
  server = undefined;
});

async function setup(
  script: Script,
  overrides: Partial<DavServerConfig> = {},
  events: DavRequestEvent[] = [],
) {
  server = await startScriptedDavServer(script);
  const config = davTestConfig(
    { url: server.url, username: 'svc', password: PASSWORD },
    { retries: 2, ...overrides },
  );
  const client = new WebDavClient(
    new DavTransport(config, { backoffMs: 10, maxWaitMs: 5_000, onRequest: (e) => events.push(e) }),
  );
  clients.push(client);
  return { server, client };
}

async function failure(promise: Promise<unknown>): Promise<LiaisonError> {
  try {
    await promise;
  } catch (e) {
    if (isLiaisonError(e)) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

/** Everything an error could show: message, context, stack and causes. */
function everything(e: unknown): string {
  const parts: string[] = [];
  for (let x: unknown = e, depth = 0; x !== undefined && depth < 5; depth++) {
    if (x instanceof Error) {
      parts.push(x.message, x.stack ?? '', JSON.stringify(x), JSON.stringify(Object.entries(x)));
      x = x.cause;
    } else {
      parts.push(JSON.stringify(x));
      x = undefined;
    }
  }
  return parts.join('\n');
}

describe('DAV transport', () => {
  it('keeps the connection after a request with a body, whatever the method', async () => {
    const { server, client } = await setup(() => OK);
    // Each request once the one before is over (undici frees a connection a moment after).
    const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
    for (const method of ['REPORT', 'PROPFIND', 'REPORT'] as const) {
      await client.multistatus(method, '/c/', 0, '<x/>', {});
      await pause();
    }
    await client.exchange('MKCALENDAR', '/d/', { body: '<x/>' }, {});
    await pause();
    await client.multistatus('REPORT', '/c/', 0, '<x/>', {});
    expect(server.requests.map((r) => r.method)).toEqual([
      'REPORT',
      'PROPFIND',
      'REPORT',
      'MKCALENDAR',
      'REPORT',
    ]);
    expect(new Set(server.requests.map((r) => r.clientPort)).size).toBe(1);
  });

  it('waits as long as a 503 Retry-After says, then retries', async () => {
    const { server, client } = await setup((_, i) =>
      i === 0 ? { status: 503, headers: { 'retry-after': '1' } } : OK,
    );
    const started = Date.now();
    const ms = await client.propfind('/c/', 0, GETETAG, {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(ms.responses[0]?.href).toBe('/c/');
    expect(server.requests).toHaveLength(2);
  });

  it('does not wait for a Retry-After beyond the longest wait: RateLimited at once', async () => {
    const { server, client } = await setup(() => ({ status: 429, headers: { 'retry-after': '3600' } }));
    const started = Date.now();
    const e = await failure(client.propfind('/c/', 0, GETETAG, {}));
    expect(e.kind).toBe('RateLimited');
    expect(e.message).toContain(
      'answered 429: the server is rate limiting Liaison: retry later (the server asks to wait 60 min)',
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 5xx of a repeatable request a bounded number of times', async () => {
    const { server, client } = await setup(() => ({ status: 502 }));
    const e = await failure(client.propfind('/c/', 0, GETETAG, { collection: '/c/' }));
    expect(e.kind).toBe('Unavailable');
    expect(server.requests).toHaveLength(3);
    expect(e.message).toContain('test-dav');
    expect(e.context).toMatchObject({ server: 'test-dav', collection: '/c/' });
  });

  it('never repeats a write without a precondition after a 5xx', async () => {
    const { server, client } = await setup(() => ({ status: 500 }));
    const answer = await client.exchange('PUT', '/c/x.ics', { body: 'x' }, {});
    expect(answer.status).toBe(500);
    expect(server.requests).toHaveLength(1);
    const conditional = await client.exchange(
      'PUT',
      '/c/x.ics',
      { headers: { 'if-match': '"1"' }, body: 'x' },
      {},
    );
    expect(conditional.status).toBe(500);
    expect(server.requests).toHaveLength(4);
  });

  it('sends basic credentials, and keeps them out of every error and event', async () => {
    const events: DavRequestEvent[] = [];
    const { server, client } = await setup(() => ({ status: 401, body: 'denied' }), {}, events);
    const e = await failure(client.propfind('/c/', 0, GETETAG, { user: 'alice' }));
    expect(e.kind).toBe('AccessDenied');
    expect(e.message).toContain('test-dav');
    expect(server.requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from(`svc:${PASSWORD}`).toString('base64')}`,
    );
    const shown = everything(e) + JSON.stringify(events);
    expect(shown).not.toContain(PASSWORD);
    expect(shown).not.toContain(Buffer.from(`svc:${PASSWORD}`).toString('base64'));
  });

  it('sends a bearer token and keeps it out of errors', async () => {
    const { server, client } = await setup(() => ({ status: 403 }), {
      auth: { kind: 'bearer', token: TOKEN },
    });
    const e = await failure(client.propfind('/c/', 0, GETETAG, {}));
    expect(e.kind).toBe('AccessDenied');
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(everything(e)).not.toContain(TOKEN);
  });

  it('strips credentials from a configured URL', async () => {
    server = await startScriptedDavServer(() => ({ status: 404 }));
    const url = server.url.replace('http://', `http://svc:${PASSWORD}@`);
    const client = new WebDavClient(
      new DavTransport(davTestConfig({ url, username: 'svc', password: PASSWORD })),
    );
    clients.push(client);
    const e = await failure(client.propfind('/c/', 0, GETETAG, {}));
    expect(e.kind).toBe('NotFound');
    expect(everything(e)).not.toContain(PASSWORD);
  });

  it('reports an unreachable server as Unavailable, quickly, naming the server', async () => {
    const port = await freePort();
    const config = davTestConfig(
      { url: `http://127.0.0.1:${port}/`, username: 'svc', password: PASSWORD },
      { name: 'down-server', retries: 1, timeoutMs: 500 },
    );
    const client = new WebDavClient(new DavTransport(config, { backoffMs: 10 }));
    clients.push(client);
    const started = Date.now();
    const e = await failure(client.propfind('/c/', 0, GETETAG, {}));
    expect(e.kind).toBe('Unavailable');
    expect(e.message).toMatch(/^down-server: PROPFIND http:\/\/127\.0\.0\.1:\d+\/c\/: connection refused/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(everything(e)).not.toContain(PASSWORD);
  });

  it('times out a server that does not answer', async () => {
    const { client } = await setup(() => new Promise(() => undefined), { retries: 0, timeoutMs: 300 });
    const started = Date.now();
    const e = await failure(client.propfind('/c/', 0, GETETAG, {}));
    expect(e.kind).toBe('Unavailable');
    expect(e.message).toContain('timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('tries a request that timed out once more, not as often as other failures', async () => {
    const events: DavRequestEvent[] = [];
    const { client } = await setup(
      () => new Promise(() => undefined),
      { retries: 3, timeoutMs: 200 },
      events,
    );
    expect((await failure(client.propfind('/c/', 0, GETETAG, {}))).message).toContain('timeout');
    expect(events.map((e) => e.attempt)).toEqual([0, 1]);
  });

  it('stops asking, for the rest of the run, a server that has not answered at all', async () => {
    const events: DavRequestEvent[] = [];
    const { client } = await setup(
      () => new Promise(() => undefined),
      { retries: 0, timeoutMs: 300 },
      events,
    );
    const first = await failure(client.propfind('/c/', 0, GETETAG, {}));
    expect(first.message).toContain('timeout');
    const next = await failure(client.propfind('/d/', 0, GETETAG, {}));
    expect(next.kind).toBe('Unavailable');
    expect(next.message).toMatch(
      /^test-dav: not asked again: the server has not answered in this run \(test-dav: PROPFIND .*\/c\/: .*timeout/,
    );
    expect(events).toHaveLength(1);
  });

  it('keeps asking a server that answered before, when one request times out', async () => {
    const events: DavRequestEvent[] = [];
    let n = 0;
    const { client } = await setup(
      () => (++n === 2 ? new Promise(() => undefined) : OK),
      { retries: 0, timeoutMs: 300 },
      events,
    );
    await client.propfind('/c/', 0, GETETAG, {});
    expect((await failure(client.propfind('/c/', 0, GETETAG, {}))).message).toContain('timeout');
    await client.propfind('/c/', 0, GETETAG, {});
    expect(events.map((e) => e.status)).toEqual([207, null, 207]);
  });

  it('refuses a self-signed certificate, saying how to trust it, unless told to skip the check', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'liaison-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-subj',
          '/CN=127.0.0.1',
          '-days',
          '1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const https = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => {
          res.writeHead(207, { 'content-type': 'application/xml' });
          res.end(OK.body);
        },
      );
      await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
      const url = `https://127.0.0.1:${(https.address() as { port: number }).port}/`;
      try {
        const login = { url, username: 'svc', password: PASSWORD };
        const strict = new WebDavClient(
          new DavTransport(davTestConfig(login, { name: 'tls-test', retries: 0 })),
        );
        clients.push(strict);
        const e = await failure(strict.propfind('/c/', 0, GETETAG, {}));
        expect(e.kind).toBe('Config');
        expect(e.message).toContain('NODE_EXTRA_CA_CERTS');
        expect(e.message).toContain('liaison server set tls-test --insecure-skip-tls-verify');
        const lax = new WebDavClient(
          new DavTransport(davTestConfig(login, { retries: 0, tls: { skipVerify: true } })),
        );
        clients.push(lax);
        expect((await lax.propfind('/c/', 0, GETETAG, {})).responses).toHaveLength(1);
      } finally {
        https.closeAllConnections();
        await new Promise((resolve) => https.close(resolve));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports invalid XML as InvalidData naming server and URL', async () => {
    const { client } = await setup(() => multistatus('<multistatus xmlns="DAV:"><response><href>/c/</'));
    const e = await failure(client.propfind('/c/', 1, GETETAG, { collection: '/c/' }));
    expect(e.kind).toBe('InvalidData');
    expect(e.message).toMatch(/^test-dav: PROPFIND http:\/\/127\.0\.0\.1:\d+\/c\/ .*invalid XML/);
  });

  it('refuses to send credentials to another origin', async () => {
    const { client } = await setup(() => OK);
    const e = await failure(client.propfind('http://elsewhere.example/c/', 0, GETETAG, {}));
    expect(e.kind).toBe('Config');
  });
});
