import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalPath,
  isItemOf,
  memberPath,
  normalizeHref,
  parsedHref,
} from '../../src/mailbox/dav/dav-href.js';
import {
  MultistatusSyntaxError,
  parseMultistatus,
  parseMultistatusText,
  propHrefs,
  propStatus,
  propText,
} from '../../src/mailbox/dav/multistatus.js';
import { propfindBody, proppatchBody } from '../../src/mailbox/dav/request-bodies.js';
import { CALDAV_NS, DAV_NS, parseXmlDocument } from '../../src/mailbox/dav/xml-element.js';

const BASE = new URL('http://dav.example:8080/dav/calendars/alice/home/');
const GETETAG = { ns: DAV_NS, local: 'getetag' };

describe('multistatus parser', () => {
  it('reads names by namespace URI, whatever the prefixes', async () => {
    const a = `<?xml version="1.0"?><d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
      <d:response><d:href>/dav/calendars/alice/home/a.ics</d:href>
        <d:propstat><d:prop><d:getetag>"1"</d:getetag><c:calendar-data>BEGIN:VCALENDAR</c:calendar-data></d:prop>
        <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`;
    const b = `<multistatus xmlns="DAV:"><response><href>/dav/calendars/alice/home/a.ics</href>
      <propstat><status>HTTP/1.1 200 OK</status><prop><getetag>"1"</getetag>
      <X:calendar-data xmlns:X="urn:ietf:params:xml:ns:caldav">BEGIN:VCALENDAR</X:calendar-data></prop></propstat></response></multistatus>`;
    // Same local names in a foreign namespace are not DAV's.
    const c = `<multistatus xmlns="DAV:"><response><href>/x.ics</href><propstat><prop>
      <getetag xmlns="urn:other">"wrong"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`;
    for (const xml of [a, b]) {
      const [r] = (await parseMultistatusText(xml, BASE)).responses;
      expect(r?.href).toBe('/dav/calendars/alice/home/a.ics');
      expect(r && propText(r, GETETAG)).toBe('"1"');
      expect(r && propText(r, { ns: CALDAV_NS, local: 'calendar-data' })).toBe('BEGIN:VCALENDAR');
    }
    const [other] = (await parseMultistatusText(c, BASE)).responses;
    expect(other && propText(other, GETETAG)).toBeUndefined();
  });

  it('normalizes hrefs: relative, absolute, escaped differently — one path each', async () => {
    const spellings = [
      'a%40b.ics',
      '/dav/calendars/alice/home/a@b.ics',
      'http://dav.example:8080/dav/calendars/alice/home/a%40b.ics',
      '/dav/calendars/alice/home/a%40b.ics',
      // Xandikos escapes the scheme separator of absolute hrefs in some answers.
      'http%3A//dav.example%3A8080/dav/calendars/alice/home/a%40b.ics',
    ];
    const xml = `<multistatus xmlns="DAV:">${spellings
      .map((h) => `<response><href>${h}</href><status>HTTP/1.1 404 Not Found</status></response>`)
      .join('')}</multistatus>`;
    const { responses } = await parseMultistatusText(xml, BASE);
    expect(new Set(responses.map((r) => r.href))).toEqual(new Set(['/dav/calendars/alice/home/a@b.ics']));
    expect(responses.map((r) => r.status)).toEqual([404, 404, 404, 404, 404]);
  });

  it('keeps one status per propstat and the hrefs inside properties', async () => {
    const xml = `<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/p/alice/</href>
      <propstat><prop><C:calendar-home-set><href>http://dav.example:8080/cal%20home/alice/</href></C:calendar-home-set></prop>
      <status>HTTP/1.1 200 OK</status></propstat>
      <propstat><prop><getetag/><displayname/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response></multistatus>`;
    const [r] = (await parseMultistatusText(xml, BASE)).responses;
    if (r === undefined) throw new Error('no response');
    expect(propHrefs(r, { ns: CALDAV_NS, local: 'calendar-home-set' })).toEqual(['/cal%20home/alice/']);
    expect(propStatus(r, GETETAG)).toBe(404);
    expect(propText(r, GETETAG)).toBeUndefined();
  });

  it('reads the sync-token and a 507 response (RFC 6578 §3.6)', async () => {
    const xml = `<multistatus xmlns="DAV:">
      <response><href>/dav/calendars/alice/home/a.ics</href><propstat><prop><getetag>"2"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>
      <response><href>/dav/calendars/alice/home/</href><status>HTTP/1.1 507 Insufficient Storage</status></response>
      <sync-token>http://example/sync/42</sync-token></multistatus>`;
    const ms = await parseMultistatusText(xml, BASE);
    expect(ms.syncToken).toBe('http://example/sync/42');
    expect(ms.responses.map((r) => [r.href, r.status])).toEqual([
      ['/dav/calendars/alice/home/a.ics', null],
      ['/dav/calendars/alice/home/', 507],
    ]);
  });

  it('gives the same result however the bytes are split, even inside a UTF-8 character', async () => {
    const xml = `<multistatus xmlns="DAV:"><response><href>/r/%C3%A9t%C3%A9.vcf</href><propstat><prop>
      <getetag>"é-日本-😀"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>`;
    const bytes = new TextEncoder().encode(xml);
    const whole = await parseMultistatusText(xml, BASE);
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
      const streamed: string[] = [];
      const ms = await parseMultistatus(
        (async function* () {
          yield* chunks;
        })(),
        BASE,
        (r) => streamed.push(`${r.href} ${propText(r, GETETAG)}`),
      );
      expect(ms.responses).toEqual([]);
      expect(streamed).toEqual(whole.responses.map((r) => `${r.href} ${propText(r, GETETAG)}`));
    }
    expect(whole.responses[0]?.href).toBe('/r/%C3%A9t%C3%A9.vcf');
  });

  it('refuses what is not a multistatus', async () => {
    await expect(parseMultistatusText('<multistatus xmlns="DAV:"><response>', BASE)).rejects.toBeInstanceOf(
      MultistatusSyntaxError,
    );
    await expect(parseMultistatusText('<html><body>Oops</body></html>', BASE)).rejects.toThrow(
      /DAV:multistatus/,
    );
    await expect(parseMultistatusText('', BASE)).rejects.toBeInstanceOf(MultistatusSyntaxError);
    await expect(
      parseMultistatusText(
        '<multistatus xmlns="DAV:"><response><status>HTTP/1.1 200 OK</status></response></multistatus>',
        BASE,
      ),
    ).rejects.toThrow(/no DAV:href/);
  });
});

describe('hrefs', () => {
  it('encode an item name as one segment, so a UID cannot add a path level', () => {
    expect(memberPath('/a/b/', 'x%2F..%2Fy.vcf')).toBe('/a/b/x%252F..%252Fy.vcf');
    expect(memberPath('/a/b', 'alice@example.com.vcf')).toBe('/a/b/alice@example.com.vcf');
    expect(isItemOf('/a/b/', memberPath('/a/b/', 'x%2F..%2Fy.vcf'))).toBe(true);
    expect(isItemOf('/a/b/', '/a/b/sub/')).toBe(false);
    expect(isItemOf('/a/b/', '/a/b/')).toBe(false);
    expect(isItemOf('/a/b/', '/a/bc/x.vcf')).toBe(false);
  });

  it('canonicalize escapes, and keep invalid UTF-8 escapes as they are', () => {
    expect(canonicalPath('/a%2fb/%7euser/x%40y')).toBe('/a%2Fb/~user/x@y');
    expect(canonicalPath('/caf%e9/')).toBe('/caf%E9/');
    expect(normalizeHref(' ../other/ ', new URL('http://h/a/b/'))).toBe('/a/other/');
  });

  it('take the short way for plain paths only when parsing would give the same path', () => {
    const base = new URL('http://h/dav/calendars/');
    // Paths made of characters that need no escaping, dots, slashes and a few that do.
    const href = fc
      .array(
        fc.constantFrom(
          'a',
          'Z',
          '0',
          '-',
          '_',
          '.',
          '~',
          '@',
          ':',
          '!',
          "'",
          '(',
          '*',
          '/',
          '%',
          '20',
          ' ',
          'é',
          '?',
          '#',
        ),
        {
          maxLength: 24,
        },
      )
      .map((parts) => `/${parts.join('')}`);
    fc.assert(
      fc.property(href, (h) => {
        let slow: string | Error;
        try {
          slow = parsedHref(h.trim(), base);
        } catch (e) {
          slow = e as Error;
        }
        if (slow instanceof Error) expect(() => normalizeHref(h, base)).toThrow();
        else expect(normalizeHref(h, base)).toBe(slow);
      }),
      { numRuns: 3000 },
    );
    expect(normalizeHref('/dav/a/../b/./c.vcf', base)).toBe('/dav/b/c.vcf');
    expect(normalizeHref('/dav/x y.vcf', base)).toBe('/dav/x%20y.vcf');
  });
});

describe('request bodies', () => {
  it('declare every namespace they use and escape text', () => {
    const body = proppatchBody([{ name: { ns: 'urn:uuid:1', local: 'marker' }, value: 'a < b & "c"\r\n' }]);
    const root = parseXmlDocument(body);
    expect(root.local).toBe('propertyupdate');
    const value = root.children[0]?.children[0]?.children[0];
    expect(value).toMatchObject({ ns: 'urn:uuid:1', local: 'marker' });
    // The CR survives as a character reference (XML 1.0 §2.11 would drop a raw one).
    expect(value?.text).toBe('a < b & "c"\r\n');
    const propfind = parseXmlDocument(propfindBody([GETETAG, { ns: CALDAV_NS, local: 'calendar-data' }]));
    expect(propfind.children[0]?.children.map((c) => `${c.ns} ${c.local}`)).toEqual([
      'DAV: getetag',
      `${CALDAV_NS} calendar-data`,
    ]);
  });
});
