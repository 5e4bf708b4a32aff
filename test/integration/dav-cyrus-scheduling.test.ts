import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asHref, asUid, type Etag } from '../../src/domain/ids.js';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import type { MailboxCollection, ReadResult } from '../../src/mailbox/port.js';
import { type CyrusServer, startCyrus } from '../support/dav-servers/cyrus.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';

/*
 * Cyrus with RFC 6638 implicit scheduling on: whatever Liaison writes to alice's calendar,
 * bob's scheduling inbox receives nothing from it. A meeting alice's own client made is
 * scheduled by the server, so Liaison neither changes nor deletes it.
 */

let cyrus: CyrusServer;
let dav: DavMailboxServer;
let calendar: MailboxCollection;

const meeting = (uid: string, summary: string) =>
  [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Test//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20261101T000000Z',
    'DTSTART:20261210T100000Z',
    'DTEND:20261210T110000Z',
    `SUMMARY:${summary}`,
    'ORGANIZER:mailto:alice@internal',
    'ATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@internal',
    'ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@internal',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

async function as(user: string, method: string, path: string, body?: string, depth = '1') {
  const response = await fetch(new URL(path, cyrus.url), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${cyrus.userPassword(user)}`).toString('base64')}`,
      'content-type': body?.startsWith('BEGIN:VCALENDAR')
        ? 'text/calendar; charset=utf-8'
        : 'application/xml',
      depth,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, text: await response.text(), etag: response.headers.get('etag') };
}

/** What bob's scheduling inbox holds: one item per message delivered to him. */
async function bobsInbox(): Promise<number> {
  const answer = await as('bob', 'PROPFIND', `${new URL(cyrus.calendarHomeUrl('bob')).pathname}Inbox/`);
  expect(answer.status).toBe(207);
  return (answer.text.match(/<D:response>|<response>/gi)?.length ?? 1) - 1;
}

beforeAll(async () => {
  cyrus = await startCyrus({ scheduling: true, users: ['alice', 'bob'] });
  dav = new DavMailboxServer(
    davTestConfig({ url: cyrus.url, username: cyrus.adminUser, password: cyrus.adminPassword }),
    { backoffMs: 10 },
  );
  calendar = await dav.open('alice').collection('calendar');
});
afterAll(async () => {
  await dav?.close();
  await cyrus?.stop();
});

describe('writing meetings to a Cyrus that schedules (RFC 6638)', () => {
  it('sends bob nothing for a meeting Liaison creates, changes and deletes', async () => {
    const before = await bobsInbox();
    const made = await calendar.create(asUid('liaison-meeting'), meeting('liaison-meeting', 'Planning'));
    expect(await bobsInbox()).toBe(before);
    const etag = made.etag ?? (await etagOf(made.href));
    const moved = await calendar.update(made.href, meeting('liaison-meeting', 'Planning (moved)'), etag);
    expect(await bobsInbox()).toBe(before);
    await calendar.delete(made.href, moved.etag ?? (await etagOf(made.href)));
    expect(await bobsInbox()).toBe(before);
  });

  it('neither changes nor deletes a meeting alice scheduled in her client, and bob hears nothing', async () => {
    const path = `${new URL(cyrus.calendarHomeUrl('alice')).pathname}Default/client-meeting.ics`;
    const put = await as('alice', 'PUT', path, meeting('client-meeting', 'Review'));
    expect(put.status).toBeLessThan(300);
    const invited = await bobsInbox();
    expect(invited).toBeGreaterThan(0); // alice's client scheduled it: bob got the invitation
    const href = asHref(path);
    const etag = await etagOf(href);
    await expect(
      calendar.update(href, meeting('client-meeting', 'Review (moved)'), etag),
    ).rejects.toMatchObject({
      kind: 'Unsupported',
    });
    await expect(calendar.delete(href, etag)).rejects.toMatchObject({ kind: 'Unsupported' });
    expect(await bobsInbox()).toBe(invited);
    expect((await as('alice', 'GET', path, undefined, '0')).text).toContain('SUMMARY:Review\r\n');
  });

  it('neither changes nor deletes a scheduled series one of whose occurrences is marked CLIENT', async () => {
    const path = `${new URL(cyrus.calendarHomeUrl('alice')).pathname}Default/client-series.ics`;
    // The series is alice's client's, scheduled by the server; one changed occurrence is CLIENT.
    const override = [
      'BEGIN:VEVENT',
      'UID:client-series',
      'DTSTAMP:20261101T000000Z',
      'RECURRENCE-ID:20261217T100000Z',
      'DTSTART:20261217T140000Z',
      'DTEND:20261217T150000Z',
      'SUMMARY:Series (afternoon)',
      'ORGANIZER;SCHEDULE-AGENT=CLIENT:mailto:alice@internal',
      'ATTENDEE;SCHEDULE-AGENT=CLIENT;PARTSTAT=ACCEPTED:mailto:alice@internal',
      'ATTENDEE;SCHEDULE-AGENT=CLIENT;PARTSTAT=NEEDS-ACTION:mailto:bob@internal',
      'END:VEVENT',
    ];
    const series = (summary: string) =>
      meeting('client-series', summary)
        .replace('DTEND:20261210T110000Z', 'DTEND:20261210T110000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4')
        .replace('END:VCALENDAR', `${override.join('\r\n')}\r\nEND:VCALENDAR`);
    expect((await as('alice', 'PUT', path, series('Series'))).status).toBeLessThan(300);
    const invited = await bobsInbox();
    const href = asHref(path);
    const etag = await etagOf(href);
    await expect(calendar.update(href, series('Series (moved)'), etag)).rejects.toMatchObject({
      kind: 'Unsupported',
    });
    await expect(calendar.delete(href, etag)).rejects.toMatchObject({ kind: 'Unsupported' });
    expect(await bobsInbox()).toBe(invited);
  });
});

describe('an event read alone right before it is replaced, as a sync does to keep its SEQUENCE', () => {
  it('is not read again before the write, and bob still hears nothing', async () => {
    const requests: string[] = [];
    const watched = new DavMailboxServer(
      davTestConfig({ url: cyrus.url, username: cyrus.adminUser, password: cyrus.adminPassword }),
      { backoffMs: 10, onRequest: (e) => requests.push(`${e.method} ${new URL(e.url).pathname}`) },
    );
    try {
      const events = await watched.open('alice').collection('calendar');
      const before = await bobsInbox();
      const made = await events.create(asUid('read-then-write'), meeting('read-then-write', 'Budget'));
      let read: ReadResult | undefined;
      for await (const got of events.read([made.href])) read = got;
      if (read === undefined || !('text' in read)) throw new Error('the event was not read back');
      requests.length = 0;

      const moved = await events.update(made.href, meeting('read-then-write', 'Budget (moved)'), read.etag);

      expect(requests).toEqual([`PUT ${made.href}`]);
      expect(moved.href).toBe(made.href);
      expect(await bobsInbox()).toBe(before);
      const stored = await as('alice', 'GET', made.href, undefined, '0');
      expect(stored.text).toContain('SUMMARY:Budget (moved)');
      expect(stored.text).toMatch(/^ATTENDEE;[^:\r\n]*SCHEDULE-AGENT=CLIENT[^:\r\n]*:mailto:bob@internal/m);
    } finally {
      await watched.close();
    }
  });

  it('is read again when it is not the copy planned over, and a change after the read still stops the write', async () => {
    const requests: string[] = [];
    const watched = new DavMailboxServer(
      davTestConfig({ url: cyrus.url, username: cyrus.adminUser, password: cyrus.adminPassword }),
      { backoffMs: 10, onRequest: (e) => requests.push(`${e.method} ${new URL(e.url).pathname}`) },
    );
    // Another client's edit, which schedules nothing.
    const byClient = (summary: string) =>
      meeting('read-then-stale', summary)
        .replace('ORGANIZER:', 'ORGANIZER;SCHEDULE-AGENT=CLIENT:')
        .replaceAll('ATTENDEE;', 'ATTENDEE;SCHEDULE-AGENT=CLIENT;');
    const readBack = async (events: MailboxCollection, href: string): Promise<ReadResult> => {
      let read: ReadResult | undefined;
      for await (const got of events.read([asHref(href)])) read = got;
      if (read === undefined || !('text' in read)) throw new Error('the event was not read back');
      return read;
    };
    try {
      const events = await watched.open('alice').collection('calendar');
      const made = await events.create(asUid('read-then-stale'), meeting('read-then-stale', 'Audit'));
      const planned = made.etag ?? (await etagOf(made.href));

      // Edited before the read: the copy read is not the one planned over.
      expect((await as('alice', 'PUT', made.href, byClient('Audit (client)'))).status).toBeLessThan(300);
      await readBack(events, made.href);
      requests.length = 0;
      await expect(
        events.update(made.href, meeting('read-then-stale', 'Audit (firm)'), planned),
      ).rejects.toMatchObject({ kind: 'PreconditionFailed' });
      expect(requests).toEqual([`GET ${made.href}`]);

      // Edited after the read: the write's own precondition stops it.
      const read = await readBack(events, made.href);
      expect((await as('alice', 'PUT', made.href, byClient('Audit (client again)'))).status).toBeLessThan(
        300,
      );
      requests.length = 0;
      await expect(
        events.update(
          made.href,
          meeting('read-then-stale', 'Audit (firm)'),
          'etag' in read ? read.etag : planned,
        ),
      ).rejects.toMatchObject({ kind: 'PreconditionFailed' });
      expect(requests).toEqual([`PUT ${made.href}`]);
      expect((await as('alice', 'GET', made.href, undefined, '0')).text).toContain(
        'SUMMARY:Audit (client again)',
      );
    } finally {
      await watched.close();
    }
  });
});

/** The item's etag as the server lists it (a GET may answer a weak one). */
async function etagOf(href: string): Promise<Etag> {
  const ref = (await calendar.list()).find((r) => r.href === href);
  if (ref?.etag == null) throw new Error(`${href} is not listed with an etag`);
  return ref.etag;
}
