import { describe, expect, it } from 'vitest';
import { emptyAppointment } from '../../src/domain/appointment.js';
import { emptyContact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { contactCodec } from '../../src/formats/contact-codec.js';

const UID = asUid('codec-uid');

describe('contact codec', () => {
  const contact = {
    ...emptyContact(UID),
    name: { prefix: 'Dr.', given: ' Jane ', additional: 'Q', family: 'Doe', suffix: 'PhD' },
    formattedName: 'Dr. Jane Q. Doe',
    organization: '  Acme   Corp ',
    emails: [
      { types: ['work'], value: ' Jane.Doe@Example.COM ' },
      { types: [], value: 'jane.doe@example.com' },
      { types: [], value: '' },
    ],
  };

  it('is the contacts codec, with no span', () => {
    expect(contactCodec.kind).toBe('contacts');
    expect(contactCodec.span(contact)).toBeNull();
  });

  it('matches by uid, then normalized e-mails, then name and organization', () => {
    expect(contactCodec.matchKeys(contact)).toEqual([
      ['uid:codec-uid'],
      ['email:jane.doe@example.com'],
      ['name:jane q doe|acme corp'],
    ]);
  });

  it('leaves out empty tiers', () => {
    expect(contactCodec.matchKeys(emptyContact(UID))).toEqual([['uid:codec-uid'], [], []]);
    expect(contactCodec.matchKeys({ ...emptyContact(UID), formattedName: 'Acme Front Desk' })[2]).toEqual([
      'name:acme front desk|',
    ]);
  });

  it('reads an e-mail address written as a mailto: URI as the plain address', () => {
    const text =
      'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:m\r\nFN:Paul Smith\r\nEMAIL: mailto:Paul.Smith@ACME.com \r\nEND:VCARD\r\n';
    const fields = contactCodec.fields(contactCodec.parse(text, UID));
    expect(fields.emails).toEqual([{ types: [], value: 'paul.smith@acme.com' }]);
  });

  it('is private exactly when the flag is set', () => {
    expect(contactCodec.isPrivate(contact)).toBe(false);
    expect(contactCodec.isPrivate({ ...contact, private: true })).toBe(true);
  });

  it('normalizes fields: trimmed, NFC, lower-case e-mails, sorted types, no empty values', () => {
    const fields = contactCodec.fields({
      ...contact,
      note: 'Cafe\u0301 \r\nnext  \r\n',
      phones: [{ types: ['VOICE', 'work', 'voice'], value: ' +1 ' }],
      emails: [{ types: ['INTERNET', 'Home'], value: 'A@B.example' }],
      categories: ['b', ' a', 'b', ''],
    });
    expect(fields.note).toBe('Café\nnext');
    expect(fields.phones).toEqual([{ types: ['voice', 'work'], value: '+1' }]);
    expect(fields.emails).toEqual([{ types: ['home'], value: 'a@b.example' }]);
    expect(fields.categories).toEqual(['a', 'b']);
  });

  it('hashes equal fields equally whatever their key order, and different fields differently', () => {
    const fields = contactCodec.fields(contact);
    const reordered = Object.fromEntries(Object.entries(fields).reverse());
    expect(contactCodec.hash(reordered)).toBe(contactCodec.hash(fields));
    expect(contactCodec.hash(fields)).toMatch(/^[0-9a-f]{64}$/);
    expect(contactCodec.hash(contactCodec.fields({ ...contact, title: 'CEO' }))).not.toBe(
      contactCodec.hash(fields),
    );
  });

  it('rebuilds from fields, and fields of the rebuilt contact are unchanged', () => {
    const fields = contactCodec.fields(contact);
    const rebuilt = contactCodec.fromFields(UID, fields);
    expect(rebuilt.uid).toBe(UID);
    expect(contactCodec.fields(rebuilt)).toEqual(fields);
  });

  it('reads missing fields as empty and rejects fields of the wrong shape', () => {
    expect(contactCodec.fromFields(UID, {})).toEqual(emptyContact(UID));
    let caught: unknown;
    try {
      contactCodec.fromFields(UID, { emails: 'jane@example.com' });
    } catch (e) {
      caught = e;
    }
    expect(isLiaisonError(caught, 'InvalidData')).toBe(true);
  });
});

describe('appointment codec', () => {
  const meeting = {
    ...emptyAppointment(
      UID,
      { value: '2024-06-12T16:00:00', tzid: 'Europe/Berlin' },
      { value: '2024-06-12T17:00:00', tzid: 'Europe/Berlin' },
    ),
    summary: '  Case   Review ',
  };

  it('is the calendar codec', () => {
    expect(appointmentCodec.kind).toBe('calendar');
  });

  it('matches by uid, then normalized summary and UTC start', () => {
    expect(appointmentCodec.matchKeys(meeting)).toEqual([
      ['uid:codec-uid'],
      ['event:case review|2024-06-12T14:00:00Z'],
    ]);
  });

  it('matches an all-day event by its date', () => {
    const day = { ...emptyAppointment(UID, { value: '2024-06-12', tzid: '' }, null), summary: 'Holiday' };
    expect(appointmentCodec.matchKeys(day)[1]).toEqual(['event:holiday|2024-06-12']);
  });

  it('is private for PRIVATE and CONFIDENTIAL only', () => {
    expect(appointmentCodec.isPrivate(meeting)).toBe(false);
    expect(appointmentCodec.isPrivate({ ...meeting, privacy: 'PUBLIC' })).toBe(false);
    expect(appointmentCodec.isPrivate({ ...meeting, privacy: 'PRIVATE' })).toBe(true);
    expect(appointmentCodec.isPrivate({ ...meeting, privacy: 'CONFIDENTIAL' })).toBe(true);
  });

  it('treats an explicit PUBLIC class and default attendee values as no change', () => {
    const attendee = { email: 'a@b.example', name: 'A', role: '', partstat: '', rsvp: false };
    const implicit = { ...meeting, attendees: [attendee] };
    const explicit = {
      ...meeting,
      privacy: 'PUBLIC' as const,
      attendees: [{ ...attendee, email: 'A@B.example', role: 'REQ-PARTICIPANT', partstat: 'needs-action' }],
    };
    expect(appointmentCodec.hash(appointmentCodec.fields(explicit))).toBe(
      appointmentCodec.hash(appointmentCodec.fields(implicit)),
    );
  });

  it('rebuilds from fields, and fields of the rebuilt appointment are unchanged', () => {
    const fields = appointmentCodec.fields({
      ...meeting,
      exdates: [
        { value: '2024-06-19T16:00:00', tzid: 'Europe/Berlin' },
        { value: '2024-06-19T16:00:00', tzid: 'Europe/Berlin' },
      ],
      rrule: 'byday=we;freq=weekly',
    });
    expect(fields.rrule).toBe('FREQ=WEEKLY;BYDAY=WE');
    expect(fields.exdates).toEqual([{ value: '2024-06-19T16:00:00', tzid: 'Europe/Berlin' }]);
    expect(appointmentCodec.fields(appointmentCodec.fromFields(UID, fields))).toEqual(fields);
  });

  it('rejects fields without a start or with an unknown privacy class', () => {
    const fields = appointmentCodec.fields(meeting);
    for (const broken of [
      { ...fields, start: null },
      { ...fields, privacy: 'SECRET' },
    ]) {
      let caught: unknown;
      try {
        appointmentCodec.fromFields(UID, broken);
      } catch (e) {
        caught = e;
      }
      expect(isLiaisonError(caught, 'InvalidData')).toBe(true);
    }
  });
});
