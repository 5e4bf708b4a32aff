/**
 * Property tests: for any content the domain types can hold (within what the formats can
 * carry: TYPE values and addresses are tokens, dates are dates), writing and reading back
 * keeps the normalized fields, and normalizing twice changes nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Appointment } from '../../src/domain/appointment.js';
import type { Contact } from '../../src/domain/contact.js';
import { asUid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { contactCodec } from '../../src/formats/contact-codec.js';
import { parseEvent, serializeEvent } from '../../src/formats/icalendar.js';
import { parseVCard, serializeVCard } from '../../src/formats/vcard.js';

const text = fc.string({ unit: 'grapheme', maxLength: 40 });
const shortText = fc.string({ unit: 'grapheme', maxLength: 12 });
const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const types = fc.array(token, { maxLength: 3 });
const email = fc.tuple(token, token).map(([a, b]) => `${a}@${b}.example`);
const url = fc.webUrl();
const isoDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

const contact: fc.Arbitrary<Contact> = fc.record({
  uid: token.map((t) => asUid(`uid-${t}`)),
  name: fc.record({
    prefix: shortText,
    given: shortText,
    additional: shortText,
    family: shortText,
    suffix: shortText,
  }),
  formattedName: text,
  nickname: shortText,
  organization: text,
  department: text,
  title: text,
  emails: fc.array(fc.record({ types, value: email }), { maxLength: 3 }),
  phones: fc.array(fc.record({ types, value: shortText }), { maxLength: 3 }),
  addresses: fc.array(
    fc.record({
      types,
      poBox: shortText,
      extended: shortText,
      street: text,
      locality: shortText,
      region: shortText,
      postalCode: shortText,
      country: shortText,
    }),
    { maxLength: 2 },
  ),
  urls: fc.array(fc.record({ types, value: url }), { maxLength: 2 }),
  birthday: fc.oneof(
    fc.constant(''),
    isoDate,
    isoDate.map((d) => `--${d.slice(5)}`),
  ),
  note: fc.string({ unit: 'grapheme', maxLength: 200 }),
  categories: fc.array(shortText, { maxLength: 4 }),
  private: fc.boolean(),
  extra: fc.subarray(['X-A;X-P="a;b":1\\, 2', 'item1.X-ABLabel:Assistant', 'IMPP:xmpp:a@b.example']),
});

const dateTime = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2040-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 19));

const appointment: fc.Arbitrary<Appointment> = fc
  .record({
    uid: token.map((t) => asUid(`event-${t}`)),
    summary: text,
    location: text,
    description: fc.string({ unit: 'grapheme', maxLength: 200 }),
    start: dateTime,
    zone: fc.constantFrom('', 'Z', 'Europe/Berlin', 'America/New_York'),
    minutes: fc.integer({ min: 0, max: 600 }),
    rrule: fc.constantFrom('', 'FREQ=WEEKLY;BYDAY=MO', 'FREQ=DAILY;COUNT=3'),
    organizer: fc.oneof(fc.constant(''), email),
    attendees: fc.array(
      fc.record({
        email,
        name: shortText,
        role: fc.constantFrom('', 'REQ-PARTICIPANT', 'CHAIR'),
        partstat: fc.constantFrom('', 'ACCEPTED'),
        rsvp: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
    categories: fc.array(shortText, { maxLength: 3 }),
    privacy: fc.constantFrom('' as const, 'PRIVATE' as const, 'CONFIDENTIAL' as const),
  })
  .map((r) => {
    const end = new Date(Date.parse(`${r.start}Z`) + r.minutes * 60_000).toISOString().slice(0, 19);
    const at = (v: string) =>
      r.zone === 'Z' ? { value: `${v}Z`, tzid: '' } : { value: v, tzid: r.zone === '' ? '' : r.zone };
    return {
      uid: r.uid,
      summary: r.summary,
      location: r.location,
      description: r.description,
      start: at(r.start),
      end: at(end),
      allDay: false,
      rrule: r.rrule,
      rdates: [],
      exdates: [],
      overrides: [],
      organizer: r.organizer,
      attendees: r.attendees,
      categories: r.categories,
      privacy: r.privacy,
      alarms: [],
      extra: ['X-FIRM;X-P="a:b":v'],
      timezones: [],
    };
  });

describe('contacts, for any content', () => {
  it('read back with the fields they were written with', () => {
    fc.assert(
      fc.property(contact, (c) => {
        const back = parseVCard(serializeVCard(c), asUid('other'));
        expect(back.uid).toBe(c.uid);
        expect(contactCodec.fields(back)).toEqual(contactCodec.fields(c));
      }),
    );
  });

  it('normalize to fields that rebuild to the same fields', () => {
    fc.assert(
      fc.property(contact, (c) => {
        const fields = contactCodec.fields(c);
        expect(contactCodec.fields(contactCodec.fromFields(c.uid, fields))).toEqual(fields);
      }),
    );
  });
});

describe('appointments, for any content', () => {
  it('read back with the fields they were written with', () => {
    fc.assert(
      fc.property(appointment, (a) => {
        const back = parseEvent(serializeEvent(a), asUid('other'));
        expect(back.uid).toBe(a.uid);
        expect(appointmentCodec.fields(back)).toEqual(appointmentCodec.fields(a));
        expect(appointmentCodec.span(back)).toEqual(appointmentCodec.span(a));
      }),
    );
  });

  it('normalize to fields that rebuild to the same fields', () => {
    fc.assert(
      fc.property(appointment, (a) => {
        const fields = appointmentCodec.fields(a);
        expect(appointmentCodec.fields(appointmentCodec.fromFields(a.uid, fields))).toEqual(fields);
      }),
    );
  });
});
