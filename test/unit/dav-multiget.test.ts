import { afterEach, describe, expect, it } from 'vitest';
import { asHref, type Href } from '../../src/domain/ids.js';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { MemoryDiscoveryCache } from '../../src/mailbox/dav/discovery-cache.js';
import type { ReadResult } from '../../src/mailbox/port.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import {
  type Script,
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

const answerEveryMultiget: Script = (req) => ({
  status: 207,
  headers: { 'content-type': 'application/xml; charset=utf-8' },
  body: multigetAnswer(req.body),
});

/** Reads `count` items through a DAV collection with batches of 100 over 6 connections. */
async function readThrough(
  count: number,
  script: Script = answerEveryMultiget,
): Promise<{ sizes: number[]; results: ReadResult[] }> {
  server = await startScriptedDavServer(script);
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
      { multigetBatch: 100, maxConnections: 6, retries: 0 },
    ),
    { discoveryCache: cache },
  );
  const book = await dav.open('alice').collection('contacts');
  const hrefs: Href[] = Array.from({ length: count }, (_, i) => asHref(`${BOOK}c${i}.vcf`));
  const results: ReadResult[] = [];
  for await (const r of book.read(hrefs)) results.push(r);
  const sizes = server.requests
    .filter((r) => r.method === 'REPORT')
    .map((r) => r.body.split('<D:href>').length - 1);
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

describe('a multiget the server cannot answer', () => {
  /** A vCard whose bytes are Latin-1, not UTF-8, as a client may have stored it. */
  const latin1 = Buffer.from('BEGIN:VCARD\r\nVERSION:3.0\r\nUID:c3\r\nFN:Jos\xe9\r\nEND:VCARD\r\n', 'latin1');
  const card = (uid: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${uid}\r\nEND:VCARD\r\n`;
  /** Each item by GET; c3 is the Latin-1 one, c4 fails with 500. */
  const getEach = (req: { url: string }) => {
    const uid = req.url.slice(BOOK.length).replace(/\.vcf$/, '');
    if (uid === 'c4') return { status: 500, body: 'internal error' };
    return { status: 200, headers: { etag: `"${uid}"` }, body: uid === 'c3' ? latin1 : card(uid) };
  };

  it('reads the items one by one after a 500 for the whole batch, reporting only those that fail', async () => {
    const { results } = await readThrough(6, (req) =>
      req.method === 'REPORT' ? { status: 500, body: 'internal error' } : getEach(req),
    );
    expect(results.map((r) => ('failed' in r ? `${r.href} failed: ${r.failed}` : r.href))).toEqual([
      `${BOOK}c0.vcf`,
      `${BOOK}c1.vcf`,
      `${BOOK}c2.vcf`,
      `${BOOK}c3.vcf failed: the server answered with text that is not valid UTF-8`,
      `${BOOK}c4.vcf failed: the server answered 500 for it`,
      `${BOOK}c5.vcf`,
    ]);
    expect(results[5]).toMatchObject({ etag: '"c5"', text: card('c5') });
  });

  it('reads the items one by one when the answer is not UTF-8, never turning bytes into U+FFFD', async () => {
    const { results } = await readThrough(4, (req) => {
      if (req.method !== 'REPORT') return getEach(req);
      const text = multigetAnswer(req.body);
      const at = text.indexOf('FN:c3');
      const bytes = Buffer.concat([
        Buffer.from(text.slice(0, at)),
        Buffer.from('FN:Jos\xe9', 'latin1'),
        Buffer.from(text.slice(at + 'FN:c3'.length)),
      ]);
      return { status: 207, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: bytes };
    });
    expect(results.filter((r) => 'failed' in r).map((r) => r.href)).toEqual([`${BOOK}c3.vcf`]);
    expect(results.filter((r) => 'text' in r)).toHaveLength(3);
    expect(results.some((r) => 'text' in r && r.text.includes('\ufffd'))).toBe(false);
  });
});
