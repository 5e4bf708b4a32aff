import { afterEach, describe, expect, it } from 'vitest';
import { asEtag, asHref, asUid } from '../../src/domain/ids.js';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { type DiscoveredMailbox, MemoryDiscoveryCache } from '../../src/mailbox/dav/discovery-cache.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import {
  type Script,
  type ScriptedAnswer,
  type ScriptedDavServer,
  startScriptedDavServer,
} from '../support/dav-servers/scripted-dav-server.js';

const EVENT = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'BEGIN:VEVENT',
  'UID:meeting-1',
  'DTSTART:20260601T090000Z',
  'SUMMARY:Board meeting',
  'ORGANIZER;CN=Boss:mailto:boss@example.com',
  'ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:ann@example.com',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

/** The mailbox discovery would find, handed over through the cache so no discovery request is made. */
function mailbox(autoSchedule: boolean): DiscoveredMailbox {
  const collection = (href: string) => ({ href, displayName: 'x', syncCollection: true, multiget: true });
  return {
    account: 'alice',
    principal: '/p/alice/',
    homes: { contacts: '/card/alice/', calendar: '/cal/alice/' },
    collections: { contacts: collection('/card/alice/book/'), calendar: collection('/cal/alice/home/') },
    autoSchedule,
  };
}

let server: ScriptedDavServer | undefined;
let dav: DavMailboxServer | undefined;

afterEach(async () => {
  await dav?.close();
  await server?.close();
});

async function calendar(script: Script, autoSchedule: boolean) {
  server = await startScriptedDavServer(script);
  const cache = new MemoryDiscoveryCache();
  await cache.set('alice', mailbox(autoSchedule));
  dav = new DavMailboxServer(davTestConfig({ url: server.url, username: 'svc', password: 'pw' }), {
    discoveryCache: cache,
  });
  return { server, collection: await dav.open('alice').collection('calendar') };
}

describe('writing events to a server that schedules (RFC 6638)', () => {
  it('creates with SCHEDULE-AGENT=CLIENT on organizer and attendees, and If-None-Match: *', async () => {
    const { server, collection } = await calendar(() => ({ status: 201, headers: { etag: '"e1"' } }), true);
    const written = await collection.create(asUid('meeting-1'), EVENT);
    expect(written).toEqual({ href: '/cal/alice/home/meeting-1.ics', etag: '"e1"' });
    const [put] = server.requests;
    expect(put?.method).toBe('PUT');
    expect(put?.url).toBe('/cal/alice/home/meeting-1.ics');
    expect(put?.headers['if-none-match']).toBe('*');
    expect(put?.headers['content-type']).toBe('text/calendar; charset=utf-8');
    const body = put?.body.replace(/\r\n /g, '') ?? '';
    expect(body).toContain('ORGANIZER;CN=Boss;SCHEDULE-AGENT=CLIENT:mailto:boss@example.com');
    expect(body).toContain('ATTENDEE;PARTSTAT=NEEDS-ACTION;SCHEDULE-AGENT=CLIENT:mailto:ann@example.com');
    expect(server.requests).toHaveLength(1);
  });

  it('updates a meeting Liaison wrote after reading it, marking a new address CLIENT', async () => {
    const stored = EVENT.replace('ORGANIZER;CN=Boss:', 'ORGANIZER;CN=Boss;SCHEDULE-AGENT=CLIENT:').replace(
      'ATTENDEE;PARTSTAT=NEEDS-ACTION:',
      'ATTENDEE;SCHEDULE-AGENT=CLIENT;PARTSTAT=NEEDS-ACTION:',
    );
    const { server, collection } = await calendar(
      (req): ScriptedAnswer =>
        req.method === 'GET'
          ? { status: 200, headers: { etag: '"e1"', 'content-type': 'text/calendar' }, body: stored }
          : { status: 204, headers: { etag: '"e2"' } },
      true,
    );
    const next = EVENT.replace('Board meeting', 'Board meeting (moved)').replace(
      'END:VEVENT',
      'ATTENDEE:mailto:bob@example.com\r\nEND:VEVENT',
    );
    const written = await collection.update(asHref('/cal/alice/home/meeting-1.ics'), next, asEtag('"e1"'));
    expect(written.etag).toBe('"e2"');
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'PUT']);
    const put = server.requests[1];
    expect(put?.headers['if-match']).toBe('"e1"');
    const body = put?.body.replace(/\r\n /g, '') ?? '';
    expect(body).toContain('ORGANIZER;CN=Boss;SCHEDULE-AGENT=CLIENT:mailto:boss@example.com');
    expect(body).toContain('ATTENDEE;PARTSTAT=NEEDS-ACTION;SCHEDULE-AGENT=CLIENT:mailto:ann@example.com');
    expect(body).toContain('ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:bob@example.com');
  });

  it('neither changes nor deletes a meeting the server schedules: only reads it', async () => {
    // Made in a mail client: no SCHEDULE-AGENT, so the server schedules every address.
    const { server, collection } = await calendar(
      () => ({ status: 200, headers: { etag: '"e1"', 'content-type': 'text/calendar' }, body: EVENT }),
      true,
    );
    const href = asHref('/cal/alice/home/meeting-1.ics');
    const moved = EVENT.replace('Board meeting', 'Board meeting (moved)');
    for (const write of [
      () => collection.update(href, moved, asEtag('"e1"')),
      () => collection.delete(href, asEtag('"e1"')),
    ]) {
      await expect(write()).rejects.toMatchObject({
        kind: 'Unsupported',
        message: expect.stringContaining('a meeting the server schedules for its attendees'),
      });
    }
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
  });

  it('fails an update whose stored copy already changed, without writing', async () => {
    const { server, collection } = await calendar(
      () => ({ status: 200, headers: { etag: '"e9"' }, body: EVENT }),
      true,
    );
    await expect(
      collection.update(asHref('/cal/alice/home/meeting-1.ics'), EVENT, asEtag('"e1"')),
    ).rejects.toMatchObject({ kind: 'PreconditionFailed' });
    expect(server.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('deletes a meeting Liaison wrote with If-Match and Schedule-Reply: F; one gone already is done', async () => {
    const stored = EVENT.replace(/(ORGANIZER|ATTENDEE);/g, '$1;SCHEDULE-AGENT=CLIENT;');
    let gone = false;
    const { server, collection } = await calendar(
      (req): ScriptedAnswer =>
        req.method === 'GET'
          ? gone
            ? { status: 404 }
            : { status: 200, headers: { etag: '"e1"', 'content-type': 'text/calendar' }, body: stored }
          : { status: 204 },
      true,
    );
    await collection.delete(asHref('/cal/alice/home/meeting-1.ics'), asEtag('"e1"'));
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'DELETE']);
    expect(server.requests[1]?.headers['if-match']).toBe('"e1"');
    expect(server.requests[1]?.headers['schedule-reply']).toBe('F');
    gone = true;
    await collection.delete(asHref('/cal/alice/home/meeting-1.ics'), asEtag('"e1"'));
    expect(server.requests.map((r) => r.method)).toEqual(['GET', 'DELETE', 'GET']);
  });

  it('sends the text untouched and no Schedule-Reply where the server does not schedule', async () => {
    const { server, collection } = await calendar(() => ({ status: 201, headers: { etag: '"e1"' } }), false);
    await collection.create(asUid('meeting-1'), EVENT);
    await collection.delete(asHref('/cal/alice/home/meeting-1.ics'), asEtag('"e1"'));
    expect(server.requests[0]?.body).toBe(EVENT);
    expect(server.requests[1]?.headers['schedule-reply']).toBeUndefined();
  });
});

describe('etags of writes', () => {
  it('answers null, not a guessed etag, when the PUT answer has none or a weak one', async () => {
    const { server, collection } = await calendar(
      (_, i) => (i === 0 ? { status: 201 } : { status: 204, headers: { etag: 'W/"weak"' } }),
      false,
    );
    expect((await collection.create(asUid('meeting-1'), EVENT)).etag).toBeNull();
    expect(
      (await collection.update(asHref('/cal/alice/home/meeting-1.ics'), EVENT, asEtag('"e1"'))).etag,
    ).toBeNull();
    // No follow-up GET or PROPFIND: it could describe someone else's newer version.
    expect(server.requests.map((r) => r.method)).toEqual(['PUT', 'PUT']);
  });

  it('quotes an unquoted etag in If-Match (RFC 9110 §8.8.3)', async () => {
    const { server, collection } = await calendar(() => ({ status: 204, headers: { etag: '"2"' } }), false);
    await collection.update(asHref('/cal/alice/home/meeting-1.ics'), EVENT, asEtag('abc'));
    expect(server.requests[0]?.headers['if-match']).toBe('"abc"');
  });
});
