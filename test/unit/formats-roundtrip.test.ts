/**
 * Round trips over every readable fixture: what Liaison writes reads back as the same content,
 * whether the item comes straight from parsing or is rebuilt from (merged) fields.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ItemCodec } from '../../src/domain/codec.js';
import { asUid, type Uid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { contactCodec } from '../../src/formats/contact-codec.js';

function readable(kind: string, extension: string): [string, string][] {
  const dir = fileURLToPath(new URL(`../fixtures/${kind}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith(extension) && !f.startsWith('malformed-') && !f.startsWith('not-an-event-'))
    .sort()
    .map((f) => [f, readFileSync(dir + f, 'utf8')]);
}

/** Every physical line ends in CRLF and is at most 75 octets (RFC 5545 §3.1, RFC 6350 §3.2). */
function expectWellFolded(text: string): void {
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  for (const line of text.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
}

function roundTrips<T extends { readonly uid: Uid }>(
  codec: ItemCodec<T>,
  fixtures: [string, string][],
  serialize: (item: T) => string,
  edit: (item: T) => T,
): void {
  it.each(fixtures)('%s: parse, serialize, parse gives equal fields and hash', (name, text) => {
    const first = codec.parse(text, asUid(`fallback-${name}`));
    const written = serialize(first);
    expectWellFolded(written);
    const second = codec.parse(written, asUid('another-fallback'));
    expect(second.uid).toBe(first.uid);
    expect(codec.fields(second)).toEqual(codec.fields(first));
    expect(codec.hash(codec.fields(second))).toBe(codec.hash(codec.fields(first)));
  });

  it.each(fixtures)(
    '%s: an item rebuilt from its fields writes and reads back the same fields',
    (name, text) => {
      const parsed = codec.parse(text, asUid(`fallback-${name}`));
      const fields = codec.fields(parsed);
      const rebuilt = codec.fromFields(parsed.uid, fields);
      expect(codec.fields(rebuilt)).toEqual(fields);
      const reread = codec.parse(serialize(rebuilt), asUid('another-fallback'));
      expect(codec.fields(reread)).toEqual(fields);
      expect(codec.matchKeys(reread)).toEqual(codec.matchKeys(parsed));
      expect(codec.span(reread)).toEqual(codec.span(parsed));
    },
  );

  // After an edit, extra may hold anchors whose value is gone; they must not count as content.
  it.each(fixtures)('%s: an edited item reads back with the fields it had', (name, text) => {
    const edited = edit(codec.parse(text, asUid(`fallback-${name}`)));
    const reread = codec.parse(serialize(edited), asUid('another-fallback'));
    expect(codec.fields(reread)).toEqual(codec.fields(edited));
  });
}

const STAMP = new Date('2025-01-02T03:04:05Z');

describe('vCard round trips', () => {
  const fixtures = readable('vcard', '.vcf');
  roundTrips(
    contactCodec,
    fixtures,
    (c) => contactCodec.serialize(c),
    (c) => ({
      ...c,
      emails: c.emails.slice(1),
      phones: c.phones.map((p) => ({ ...p, value: `${p.value}9` })),
      urls: [],
      addresses: c.addresses.map((a) => ({ ...a, street: `${a.street} (rear)` })),
    }),
  );

  it.each(fixtures)(
    '%s: is written as vCard 3.0 (4.0 when read as 4.0), the same way twice',
    (name, text) => {
      const contact = contactCodec.parse(text, asUid(name));
      const written = contactCodec.serialize(contact);
      const version = /^VERSION:4\.0\r?$/m.test(text) ? '4.0' : '3.0';
      expect(
        written.startsWith(`BEGIN:VCARD\r\nVERSION:${version}\r\nPRODID:-//Liaison//Liaison//EN\r\n`),
      ).toBe(true);
      expect(written.endsWith('END:VCARD\r\n')).toBe(true);
      expect(contactCodec.serialize(contact)).toBe(written);
    },
  );
});

describe('iCalendar round trips', () => {
  const fixtures = readable('ical', '.ics');
  roundTrips(
    appointmentCodec,
    fixtures,
    (a) => appointmentCodec.serialize(a),
    (a) => ({
      ...a,
      organizer: a.organizer === '' ? '' : 'someone.else@example.com',
      attendees: a.attendees.slice(1),
    }),
  );

  it.each(fixtures)('%s: is written as one VCALENDAR 2.0 object', async (name, text) => {
    const { serializeEvent } = await import('../../src/formats/icalendar.js');
    const event = appointmentCodec.parse(text, asUid(name));
    const written = serializeEvent(event, { now: STAMP });
    expect(written.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Liaison//Liaison//EN\r\n')).toBe(
      true,
    );
    expect(written.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(written.match(/^BEGIN:VEVENT$/gm)?.length).toBe(1 + event.overrides.length);
    expect(written.match(/^DTSTAMP:20250102T030405Z$/gm)?.length).toBe(1 + event.overrides.length);
    expect(serializeEvent(event, { now: STAMP })).toBe(written);
  });
});
