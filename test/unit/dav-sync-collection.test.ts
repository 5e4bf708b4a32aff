import { afterEach, describe, expect, it } from 'vitest';
import { isLiaisonError } from '../../src/domain/errors.js';
import { DavTransport } from '../../src/mailbox/dav/dav-transport.js';
import { reportChanges } from '../../src/mailbox/dav/sync-collection.js';
import { WebDavClient } from '../../src/mailbox/dav/webdav-client.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import {
  multistatus,
  type Script,
  type ScriptedDavServer,
  startScriptedDavServer,
} from '../support/dav-servers/scripted-dav-server.js';

const COLLECTION = '/cal/alice/home/';
const isItem = (href: string) => href.startsWith(COLLECTION) && href !== COLLECTION;

const changed = (name: string, etag: string) =>
  `<D:response><D:href>${COLLECTION}${name}</D:href><D:propstat><D:prop><D:getetag>"${etag}"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
const removed = (name: string) =>
  `<D:response><D:href>${COLLECTION}${name}</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>`;
/** RFC 6578 §3.6: the collection itself with 507 says the answer is truncated. */
const truncated = `<D:response><D:href>${COLLECTION}</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status></D:response>`;
const page = (token: string, ...responses: string[]) =>
  multistatus(
    `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:">${responses.join('')}<D:sync-token>${token}</D:sync-token></D:multistatus>`,
  );

let server: ScriptedDavServer | undefined;
let client: WebDavClient | undefined;

afterEach(async () => {
  await client?.transport.close();
  await server?.close();
});

async function setup(script: Script) {
  server = await startScriptedDavServer(script);
  client = new WebDavClient(
    new DavTransport(davTestConfig({ url: server.url, username: 'svc', password: 'pw' }, { retries: 1 }), {
      backoffMs: 5,
    }),
  );
  return { server, client };
}

/** The sync-token a recorded request body asked from. */
function askedToken(body: string): string | null {
  const match = /<D:sync-token>([^<]*)<\/D:sync-token>/.exec(body);
  return match ? (match[1] ?? null) : null;
}

describe('sync-collection (RFC 6578)', () => {
  it('follows 507 truncation with each returned token until complete, later pages winning', async () => {
    const pages: Record<string, ReturnType<typeof page>> = {
      t0: page('t1', changed('a.ics', '1'), changed('b.ics', '1'), removed('c.ics'), truncated),
      t1: page('t2', changed('a.ics', '2'), removed('b.ics'), changed('c.ics', '5'), truncated),
      t2: page('t3', changed('d.ics', '1')),
    };
    const { server, client } = await setup((req) => pages[askedToken(req.body) ?? ''] ?? { status: 500 });
    const result = await reportChanges(client, COLLECTION, 't0', {}, { isItem, pageSize: 3 });
    expect(server.requests.map((r) => askedToken(r.body))).toEqual(['t0', 't1', 't2']);
    expect(server.requests[0]?.body).toContain('<D:limit><D:nresults>3</D:nresults></D:limit>');
    expect(server.requests.every((r) => r.method === 'REPORT' && r.headers.depth === '0')).toBe(true);
    expect(server.requests[0]?.body).toContain('<D:sync-level>1</D:sync-level>');
    expect(result.token).toBe('t3');
    expect(Object.fromEntries(result.changed)).toEqual({
      [`${COLLECTION}a.ics`]: '"2"',
      [`${COLLECTION}c.ics`]: '"5"',
      [`${COLLECTION}d.ics`]: '"1"',
    });
    expect([...result.removed]).toEqual([`${COLLECTION}b.ics`]);
  });

  it('asks for the initial state with an empty sync-token', async () => {
    const { server, client } = await setup(() => page('first', changed('a.ics', '1')));
    const result = await reportChanges(client, COLLECTION, null, {}, { isItem });
    expect(server.requests[0]?.body).toContain('<D:sync-token/>');
    expect(server.requests[0]?.body).not.toContain('limit');
    expect(result.token).toBe('first');
  });

  it('gives up on an answer that stays truncated without a new token', async () => {
    const { client } = await setup(() => page('same', changed('a.ics', '1'), truncated));
    await expect(reportChanges(client, COLLECTION, 'same', {}, { isItem })).rejects.toMatchObject({
      kind: 'InvalidSyncToken',
    });
  });

  it.each([
    ['403 with DAV:valid-sync-token', 403, '<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'],
    ['409 with DAV:valid-sync-token', 409, '<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'],
    ['410', 410, ''],
  ])('reads %s as an invalid token', async (_, status, body) => {
    const { client } = await setup(() => ({ status, headers: { 'content-type': 'application/xml' }, body }));
    const e = await reportChanges(client, COLLECTION, 'old', { user: 'alice' }, { isItem }).catch(
      (x: unknown) => x,
    );
    expect(isLiaisonError(e, 'InvalidSyncToken')).toBe(true);
    expect(isLiaisonError(e) && e.context).toMatchObject({ user: 'alice', collection: COLLECTION });
  });

  it('refuses a change list that answers an item with neither the item nor its removal (a 500)', async () => {
    const failing = `<D:response><D:href>${COLLECTION}b.ics</D:href><D:status>HTTP/1.1 500 Internal Server Error</D:status></D:response>`;
    // The initial listing and a change list from a token alike.
    for (const from of [null, 't0']) {
      const run = await setup(() => page('t1', changed('a.ics', '1'), failing));
      const error = await reportChanges(run.client, COLLECTION, from, {}, { isItem }).catch(
        (e: unknown) => e,
      );
      expect(isLiaisonError(error, 'Unavailable'), String(error)).toBe(true);
      expect(String(error)).toContain(`answered 500 for ${COLLECTION}b.ics`);
      if (from === null) {
        await run.client.transport.close();
        await run.server.close();
      }
    }
  });

  it('keeps a member whose etag was not given: it is there, to be read', async () => {
    const noEtag = `<D:response><D:href>${COLLECTION}b.ics</D:href><D:propstat><D:prop><D:getetag/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response>`;
    const { client } = await setup(() => page('t1', changed('a.ics', '1'), noEtag));
    const result = await reportChanges(client, COLLECTION, null, {}, { isItem });
    expect([...result.changed]).toEqual([
      [`${COLLECTION}a.ics`, '"1"'],
      [`${COLLECTION}b.ics`, null],
    ]);
    expect([...result.removed]).toEqual([]);
  });

  it('reads a 403 without the precondition as AccessDenied, not as a bad token', async () => {
    const { client } = await setup(() => ({ status: 403 }));
    await expect(reportChanges(client, COLLECTION, 'old', {}, { isItem })).rejects.toMatchObject({
      kind: 'AccessDenied',
    });
  });

  it('reads a 500 for a token as an invalid token only when the collection otherwise answers', async () => {
    const healthy = await setup((req) =>
      req.method === 'REPORT'
        ? { status: 500 }
        : multistatus(`<D:multistatus xmlns:D="DAV:"></D:multistatus>`),
    );
    await expect(reportChanges(healthy.client, COLLECTION, 'bogus', {}, { isItem })).rejects.toMatchObject({
      kind: 'InvalidSyncToken',
    });
    await healthy.client.transport.close();
    await healthy.server.close();
    const broken = await setup(() => ({ status: 500 }));
    await expect(reportChanges(broken.client, COLLECTION, 'bogus', {}, { isItem })).rejects.toMatchObject({
      kind: 'Unavailable',
    });
  });
});
