import { afterEach, describe, expect, it } from 'vitest';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { MemoryDiscoveryCache } from '../../src/mailbox/dav/discovery-cache.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import {
  multistatus,
  type Script,
  type ScriptedDavServer,
  startScriptedDavServer,
} from '../support/dav-servers/scripted-dav-server.js';

const HOME = '/card/alice/book/';
let server: ScriptedDavServer | undefined;
let dav: DavMailboxServer | undefined;

afterEach(async () => {
  await dav?.close();
  await server?.close();
});

/** An address book on a scripted server, with or without RFC 6578 support. */
async function addressBook(script: Script, syncCollection: boolean) {
  server = await startScriptedDavServer(script);
  const cache = new MemoryDiscoveryCache();
  const collection = { href: HOME, displayName: 'x', syncCollection, multiget: true };
  await cache.set('alice', {
    account: 'alice',
    principal: '/p/alice/',
    homes: { contacts: '/card/alice/', calendar: null },
    collections: { contacts: collection, calendar: null },
    autoSchedule: false,
  });
  dav = new DavMailboxServer(davTestConfig({ url: server.url, username: 'svc', password: 'pw' }), {
    discoveryCache: cache,
  });
  return { server, collection: await dav.open('alice').collection('contacts') };
}

const own = (prop: string) =>
  multistatus(`<D:multistatus xmlns:D="DAV:" xmlns:CS="http://calendarserver.org/ns/"><D:response><D:href>${HOME}</D:href>
    <D:propstat><D:prop>${prop}</D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`);
const missing = multistatus(`<D:multistatus xmlns:D="DAV:"><D:response><D:href>${HOME}</D:href>
    <D:propstat><D:prop><D:sync-token/></D:prop><D:status>HTTP/1.1 404 Not Found</D:status></D:propstat></D:response></D:multistatus>`);
const listing = (etag: string) =>
  multistatus(`<D:multistatus xmlns:D="DAV:"><D:response><D:href>${HOME}</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
    <D:response><D:href>${HOME}a.vcf</D:href><D:propstat><D:prop><D:getetag>${etag}</D:getetag><D:resourcetype/></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response></D:multistatus>`);

describe('probe', () => {
  it('is the sync-token, by one Depth 0 PROPFIND, where the server keeps change lists', async () => {
    const { server, collection } = await addressBook(
      () => own('<D:sync-token>http://s/1</D:sync-token>'),
      true,
    );
    expect(await collection.probe()).toBe('sync:http://s/1');
    expect(server.requests.map((r) => [r.method, r.headers.depth])).toEqual([['PROPFIND', '0']]);
    expect(server.requests[0]?.body).toContain('sync-token');
  });

  it('is the getctag where there is no change list', async () => {
    const { server, collection } = await addressBook(() => own('<CS:getctag>"c7"</CS:getctag>'), false);
    expect(await collection.probe()).toBe('ctag:"c7"');
    expect(server.requests).toHaveLength(1);
    expect(await collection.currentToken()).toBeNull();
    expect(server.requests).toHaveLength(1);
  });

  it('falls back to a digest of the listing, which moves when an etag does', async () => {
    let etag = '"1"';
    const { collection } = await addressBook(
      (req) => (req.headers.depth === '1' ? listing(etag) : missing),
      false,
    );
    const before = await collection.probe();
    expect(before).toMatch(/^list:1:[0-9a-f]{64}$/);
    expect(await collection.probe()).toBe(before);
    etag = '"2"';
    expect(await collection.probe()).not.toBe(before);
  });
});
