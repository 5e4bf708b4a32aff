import { afterEach, describe, expect, it } from 'vitest';
import { asHref, type Href } from '../../src/domain/ids.js';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { MemoryDiscoveryCache } from '../../src/mailbox/dav/discovery-cache.js';
import type { ReadResult } from '../../src/mailbox/port.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import {
  type ScriptedDavServer,
  startScriptedDavServer,
} from '../support/dav-servers/scripted-dav-server.js';

const BOOK = '/card/alice/book/';

/** Answers every addressbook-multiget with a small vCard for each href it names. */
function multigetAnswer(body: string): string {
  const hrefs = [...body.matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => m[1]!);
  const responses = hrefs.map((href) => {
    const uid = href.slice(BOOK.length).replace(/\.vcf$/, '');
    const card = `BEGIN:VCARD&#13;\nVERSION:3.0&#13;\nUID:${uid}&#13;\nFN:${uid}&#13;\nEND:VCARD&#13;\n`;
    return (
      `<D:response><D:href>${href}</D:href><D:propstat><D:prop><D:getetag>"${uid}"</D:getetag>` +
      `<C:address-data>${card}</C:address-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`
    );
  });
  return `<?xml version="1.0"?><D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav">${responses.join('')}</D:multistatus>`;
}

let server: ScriptedDavServer | undefined;
let dav: DavMailboxServer | undefined;

afterEach(async () => {
  await dav?.close();
  await server?.close();
});

/** Reads `count` items through a DAV collection with batches of 100 over 6 connections. */
async function readThrough(count: number): Promise<{ sizes: number[]; results: ReadResult[] }> {
  server = await startScriptedDavServer((req) => ({
    status: 207,
    headers: { 'content-type': 'application/xml; charset=utf-8' },
    body: multigetAnswer(req.body),
  }));
  const cache = new MemoryDiscoveryCache();
  const collection = (href: string) => ({ href, displayName: 'x', syncCollection: true, multiget: true });
  await cache.set('alice', {
    account: 'alice',
    principal: '/p/alice/',
    homes: { contacts: '/card/alice/', calendar: '/cal/alice/' },
    collections: { contacts: collection(BOOK), calendar: collection('/cal/alice/home/') },
    autoSchedule: false,
  });
  dav = new DavMailboxServer(
    davTestConfig(
      { url: server.url, username: 'svc', password: 'pw' },
      { multigetBatch: 100, maxConnections: 6 },
    ),
    { discoveryCache: cache },
  );
  const book = await dav.open('alice').collection('contacts');
  const hrefs: Href[] = Array.from({ length: count }, (_, i) => asHref(`${BOOK}c${i}.vcf`));
  const results: ReadResult[] = [];
  for await (const r of book.read(hrefs)) results.push(r);
  const sizes = server.requests.map((r) => r.body.split('<D:href>').length - 1);
  return { sizes, results };
}

describe('multiget batches', () => {
  it('spreads a read smaller than the connections can carry over several requests', async () => {
    const { sizes, results } = await readThrough(100);
    expect(sizes).toEqual([20, 20, 20, 20, 20]);
    expect(results.map((r) => r.href)).toEqual(Array.from({ length: 100 }, (_, i) => `${BOOK}c${i}.vcf`));
    expect(
      results.every((r) => 'text' in r && r.text.includes(`UID:${r.href.slice(BOOK.length, -4)}\r\n`)),
    ).toBe(true);
  });

  it('keeps full batches for a large read, and one request for a few items', async () => {
    expect((await readThrough(1_000)).sizes).toEqual(Array(10).fill(100));
    await dav?.close();
    await server?.close();
    expect((await readThrough(7)).sizes).toEqual([7]);
  });
});
