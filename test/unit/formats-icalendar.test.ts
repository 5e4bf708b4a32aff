import { describe, expect, it } from 'vitest';
import { type Appointment, emptyAppointment } from '../../src/domain/appointment.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { parseEvent, serializeEvent } from '../../src/formats/icalendar.js';

const UID = asUid('event-uid');
const NOW = new Date('2025-03-04T05:06:07Z');

function calendar(...eventLines: string[]): string {
  return [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Test//EN',
    'BEGIN:VEVENT',
    'UID:event-uid',
    'DTSTAMP:20240101T000000Z',
    ...eventLines,
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');
}

function logicalLines(text: string): string[] {
  return text.replace(/\r\n[ \t]/g, '').split('\r\n');
}

function hashOf(text: string): string {
  return appointmentCodec.hash(appointmentCodec.fields(parseEvent(text, UID)));
}

function expectInvalid(text: string): void {
  let caught: unknown;
  try {
    parseEvent(text, UID);
  } catch (e) {
    caught = e;
  }
  expect(isLiaisonError(caught, 'InvalidData'), String(caught)).toBe(true);
}

describe('reading events', () => {
  it('keeps floating times floating and UTC times in UTC; a UTC TZID becomes Z', () => {
    expect(parseEvent(calendar('DTSTART:20240101T100000'), UID).start).toEqual({
      value: '2024-01-01T10:00:00',
      tzid: '',
    });
    expect(parseEvent(calendar('DTSTART:20240101T100000Z'), UID).start).toEqual({
      value: '2024-01-01T10:00:00Z',
      tzid: '',
    });
    expect(parseEvent(calendar('DTSTART;TZID=Etc/UTC:20240101T100000'), UID).start).toEqual({
      value: '2024-01-01T10:00:00Z',
      tzid: '',
    });
  });

  it('reads all-day events from VALUE=DATE', () => {
    const a = parseEvent(calendar('DTSTART;VALUE=DATE:20240722', 'DTEND;VALUE=DATE:20240723'), UID);
    expect([a.allDay, a.start, a.end]).toEqual([
      true,
      { value: '2024-07-22', tzid: '' },
      { value: '2024-07-23', tzid: '' },
    ]);
  });

  it('counts DURATION hours as exact time and days as calendar days across a daylight-saving change', () => {
    // 01:30 on the night Berlin's clocks go from 02:00 to 03:00: three real hours end at 05:30.
    const hours = parseEvent(calendar('DTSTART;TZID=Europe/Berlin:20270328T013000', 'DURATION:PT3H'), UID);
    expect(hours.end).toEqual({ value: '2027-03-28T05:30:00', tzid: 'Europe/Berlin' });
    const day = parseEvent(calendar('DTSTART;TZID=Europe/Berlin:20270327T090000', 'DURATION:P1DT1H'), UID);
    expect(day.end).toEqual({ value: '2027-03-28T10:00:00', tzid: 'Europe/Berlin' });
    const autumn = parseEvent(calendar('DTSTART;TZID=Europe/Berlin:20271031T013000', 'DURATION:PT3H'), UID);
    expect(autumn.end).toEqual({ value: '2027-10-31T03:30:00', tzid: 'Europe/Berlin' });
  });

  it('keeps an unquoted parameter list a list, and a quoted value with commas one value', () => {
    const text = calendar(
      'DTSTART:20270104T090000Z',
      'CONFERENCE;VALUE=URI;FEATURE=AUDIO,VIDEO;LABEL=Zoom:https://zoom.example/j/1',
      'ATTENDEE;CN="Smith, John":mailto:john@example.com',
    );
    // As an update writes it: rebuilt from the fields, whose extra lines are in canonical form.
    const event = parseEvent(text, UID);
    const rebuilt = appointmentCodec.fromFields(event.uid, appointmentCodec.fields(event));
    const written = serializeEvent(rebuilt).replace(/\r\n /g, '');
    expect(written).toContain('CONFERENCE;FEATURE=AUDIO,VIDEO;LABEL=Zoom;VALUE=URI:https://zoom.example/j/1');
    expect(written).toContain('CN="Smith, John"');
  });

  it('computes the end from DURATION in the start zone', () => {
    const a = parseEvent(calendar('DTSTART;TZID=Europe/Berlin:20240330T233000', 'DURATION:PT1H'), UID);
    expect(a.end).toEqual({ value: '2024-03-31T00:30:00', tzid: 'Europe/Berlin' });
    const day = parseEvent(calendar('DTSTART;VALUE=DATE:20240101', 'DURATION:P2D'), UID);
    expect(day.end).toEqual({ value: '2024-01-03', tzid: '' });
  });

  it('reads RRULE in canonical form, RDATE and EXDATE lists with their zones', () => {
    const a = parseEvent(
      calendar(
        'DTSTART;TZID=Europe/Berlin:20240108T090000',
        'RRULE:byday=MO;freq=weekly;interval=1',
        'EXDATE;TZID=Europe/Berlin:20240115T090000,20240122T090000',
        'RDATE;VALUE=DATE:20240301',
      ),
      UID,
    );
    expect(a.rrule).toBe('FREQ=WEEKLY;BYDAY=MO');
    expect(a.exdates).toEqual([
      { value: '2024-01-15T09:00:00', tzid: 'Europe/Berlin' },
      { value: '2024-01-22T09:00:00', tzid: 'Europe/Berlin' },
    ]);
    expect(a.rdates).toEqual([{ value: '2024-03-01', tzid: '' }]);
  });

  it('reads organizer and attendees with lower-case addresses', () => {
    const a = parseEvent(
      calendar(
        'DTSTART:20240101T100000Z',
        'ORGANIZER;CN="Doe, Jane":MAILTO:Jane@Example.COM',
        'ATTENDEE;CN=Bob;ROLE=chair;PARTSTAT=accepted;RSVP=TRUE:mailto:BOB@example.com',
        'ATTENDEE:urn:uuid:00000000-0000-0000-0000-000000000001',
      ),
      UID,
    );
    expect(a.organizer).toBe('jane@example.com');
    expect(a.attendees).toEqual([
      { email: 'bob@example.com', name: 'Bob', role: 'CHAIR', partstat: 'ACCEPTED', rsvp: true },
      {
        email: 'urn:uuid:00000000-0000-0000-0000-000000000001',
        name: '',
        role: '',
        partstat: '',
        rsvp: false,
      },
    ]);
  });

  it('takes overridden instances apart, sorted by recurrence id, without UID and stamps', () => {
    const text = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'UID:event-uid',
      'RECURRENCE-ID:20240115T090000Z',
      'DTSTAMP:20240101T000000Z',
      'DTSTART:20240115T100000Z',
      'SUMMARY:moved',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:event-uid',
      'DTSTART:20240108T090000Z',
      'RRULE:FREQ=WEEKLY;COUNT=4',
      'SUMMARY:weekly',
      'END:VEVENT',
      'BEGIN:VEVENT',
      'UID:event-uid',
      'RECURRENCE-ID:20240110T090000Z',
      'DTSTART:20240110T090000Z',
      'STATUS:CANCELLED',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const a = parseEvent(text, UID);
    expect(a.summary).toBe('weekly');
    expect(a.overrides.map((o) => o.recurrenceId.value)).toEqual([
      '2024-01-10T09:00:00Z',
      '2024-01-15T09:00:00Z',
    ]);
    expect(a.overrides[1]?.component).toBe(
      'BEGIN:VEVENT\r\nDTSTART:20240115T100000Z\r\nRECURRENCE-ID:20240115T090000Z\r\nSUMMARY:moved\r\nEND:VEVENT',
    );
  });

  it('keeps a VTIMEZONE only for a TZID that is not an IANA zone', () => {
    const text = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VTIMEZONE',
      'TZID:Europe/Paris',
      'BEGIN:STANDARD',
      'DTSTART:19701025T030000',
      'TZOFFSETFROM:+0200',
      'TZOFFSETTO:+0100',
      'END:STANDARD',
      'END:VTIMEZONE',
      'BEGIN:VTIMEZONE',
      'TZID:Custom',
      'BEGIN:STANDARD',
      'DTSTART:19700101T000000',
      'TZOFFSETFROM:+0300',
      'TZOFFSETTO:+0300',
      'END:STANDARD',
      'END:VTIMEZONE',
      'BEGIN:VTIMEZONE',
      'TZID:Unused',
      'END:VTIMEZONE',
      'BEGIN:VEVENT',
      'UID:x',
      'DTSTART;TZID=Europe/Paris:20240101T100000',
      'DTEND;TZID=Custom:20240101T120000',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    const a = parseEvent(text, UID);
    expect(a.timezones).toHaveLength(1);
    expect(a.timezones[0]).toContain('TZID:Custom');
  });

  it('keeps unmodelled properties and sub-components as extra', () => {
    const a = parseEvent(
      calendar(
        'DTSTART:20240101T100000Z',
        'X-FIRM;X-A="1;2":v\\, w',
        'STATUS:TENTATIVE',
        'CLASS:X-SECRET',
        'BEGIN:X-THING',
        'X-Y:1',
        'END:X-THING',
      ),
      UID,
    );
    expect(a.extra).toEqual([
      'X-FIRM;X-A="1;2":v\\, w',
      'STATUS:TENTATIVE',
      'CLASS:X-SECRET',
      'BEGIN:X-THING\r\nX-Y:1\r\nEND:X-THING',
    ]);
    expect(a.privacy).toBe('');
  });
});

describe('writing events', () => {
  const berlin: Appointment = {
    ...emptyAppointment(
      UID,
      { value: '2024-01-08T09:00:00', tzid: 'Europe/Berlin' },
      { value: '2024-01-08T10:00:00', tzid: 'Europe/Berlin' },
    ),
    summary: 'a;b,c\\d\ne',
    location: 'Room 1, floor 2',
    description: 'line 1\nline 2',
    categories: ['x,y', 'z'],
    privacy: 'PRIVATE',
    organizer: 'jane@example.com',
    attendees: [
      { email: 'bob@example.com', name: 'Doe, Bob', role: 'CHAIR', partstat: 'ACCEPTED', rsvp: true },
    ],
  };

  it('escapes TEXT values (RFC 5545 §3.3.11) and reads them back', () => {
    const text = serializeEvent(berlin, { now: NOW });
    const lines = logicalLines(text);
    expect(lines).toContain('SUMMARY:a\\;b\\,c\\\\d\\ne');
    expect(lines).toContain('LOCATION:Room 1\\, floor 2');
    expect(lines).toContain('CATEGORIES:x\\,y,z');
    expect(lines).toContain(
      'ATTENDEE;CN="Doe, Bob";ROLE=CHAIR;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:bob@example.com',
    );
    expect(lines).toContain('ORGANIZER:mailto:jane@example.com');
    expect(lines).toContain('CLASS:PRIVATE');
    const back = parseEvent(text, UID);
    expect(appointmentCodec.fields(back)).toEqual(appointmentCodec.fields(berlin));
  });

  it('writes a VTIMEZONE from current IANA data for each zone used, named as used', () => {
    const text = serializeEvent(
      { ...berlin, exdates: [{ value: '2024-01-15T09:00:00', tzid: 'US/Eastern' }] },
      { now: NOW },
    );
    const lines = logicalLines(text);
    expect(lines).toContain('TZID:Europe/Berlin');
    expect(lines).toContain('TZID:US/Eastern');
    expect(lines.filter((l) => l === 'BEGIN:VTIMEZONE')).toHaveLength(2);
    expect(lines).toContain('DTSTAMP:20250304T050607Z');
  });

  it('writes carried time zones instead of looking them up, and none for UTC or floating times', () => {
    const custom =
      'BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE';
    const zoned = serializeEvent(
      {
        ...emptyAppointment(UID, { value: '2024-01-01T10:00:00', tzid: 'Custom' }, null),
        timezones: [custom],
      },
      { now: NOW },
    );
    expect(zoned).toContain(custom);
    const utc = serializeEvent(emptyAppointment(UID, { value: '2024-01-01T10:00:00Z', tzid: '' }, null), {
      now: NOW,
    });
    expect(utc).not.toContain('VTIMEZONE');
    expect(logicalLines(utc)).toContain('DTSTART:20240101T100000Z');
    const floating = serializeEvent(emptyAppointment(UID, { value: '2024-01-01T10:00:00', tzid: '' }, null), {
      now: NOW,
    });
    expect(logicalLines(floating)).toContain('DTSTART:20240101T100000');
    expect(
      logicalLines(serializeEvent(emptyAppointment(UID, { value: '2024-01-01', tzid: '' }, null))),
    ).toContain('DTSTART;VALUE=DATE:20240101');
  });

  it('gives attendees and the organizer their unmodelled parameters back', () => {
    const a = parseEvent(
      calendar(
        'DTSTART:20240101T100000Z',
        'ORGANIZER;CN=Jane;SENT-BY="mailto:assistant@example.com":mailto:jane@example.com',
        'ATTENDEE;CN=Bob;SCHEDULE-AGENT=CLIENT;CUTYPE=INDIVIDUAL:mailto:bob@example.com',
      ),
      UID,
    );
    const rebuilt = appointmentCodec.fromFields(UID, appointmentCodec.fields(a));
    const lines = logicalLines(serializeEvent(rebuilt, { now: NOW }));
    expect(lines).toContain(
      'ORGANIZER;CN=Jane;SENT-BY="mailto:assistant@example.com":mailto:jane@example.com',
    );
    // The fields spell out the RFC 5545 defaults for ROLE and PARTSTAT.
    expect(lines).toContain(
      'ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;CUTYPE=INDIVIDUAL;SCHEDULE-AGENT=CLIENT:mailto:bob@example.com',
    );
    expect(lines.filter((l) => l.startsWith('ATTENDEE'))).toHaveLength(1);
  });
});

describe('content hash', () => {
  const base = calendar(
    'DTSTART;TZID=Europe/Berlin:20240108T090000',
    'DTEND;TZID=Europe/Berlin:20240108T100000',
    'SUMMARY:Jour fixe with a summary long enough to be folded by some writers',
    'ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.com',
    'X-CUSTOM;B=2;A=1:v',
    'LAST-MODIFIED:20240101T000000Z',
    'CREATED:20240101T000000Z',
    'SEQUENCE:1',
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'TRIGGER:-PT10M',
    'END:VALARM',
  );

  it('ignores DTSTAMP, LAST-MODIFIED, CREATED, SEQUENCE, client bookkeeping, folding and line ends', () => {
    const rewritten = base
      .replace('DTSTAMP:20240101T000000Z', 'DTSTAMP:20250101T000000Z')
      .replace('LAST-MODIFIED:20240101T000000Z', 'LAST-MODIFIED:20250101T000000Z\r\nX-MOZ-GENERATION:7')
      .replace('CREATED:20240101T000000Z', 'CREATED:20250101T000000Z')
      .replace('SEQUENCE:1', 'SEQUENCE:5')
      .replace(
        'TRIGGER:-PT10M',
        'TRIGGER:-PT10M\r\nX-MOZ-LASTACK:20250101T000000Z\r\nACKNOWLEDGED:20250101T000000Z',
      )
      .replace('PRODID:-//Test//EN', 'PRODID:-//Server//EN')
      .replace(/(.{40})/g, '$1\r\n\t')
      .replace(/\r\n(?![ \t])/g, '\n');
    expect(hashOf(rewritten)).toBe(hashOf(base));
  });

  it('ignores parameter order, letter case, mailto case, explicit defaults and SCHEDULE-STATUS', () => {
    const rewritten = base
      .replace(
        'ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:mailto:bob@example.com',
        'ATTENDEE;partstat=ACCEPTED;ROLE=REQ-PARTICIPANT;SCHEDULE-STATUS=1.2;cn=Bob:MAILTO:Bob@Example.com',
      )
      .replace('X-CUSTOM;B=2;A=1:v', 'X-CUSTOM;a=1;b=2:v')
      .replace('TRIGGER:-PT10M', 'TRIGGER;VALUE=DURATION:-PT10M');
    expect(hashOf(rewritten)).toBe(hashOf(base));
  });

  it('changes when content changes', () => {
    expect(hashOf(base.replace('Jour fixe', 'Jour fix'))).not.toBe(hashOf(base));
    expect(hashOf(base.replace('T100000', 'T103000'))).not.toBe(hashOf(base));
    expect(hashOf(base.replace('PARTSTAT=ACCEPTED', 'PARTSTAT=DECLINED'))).not.toBe(hashOf(base));
    expect(hashOf(base.replace('-PT10M', '-PT15M'))).not.toBe(hashOf(base));
  });
});

describe('calendar objects that are not events', () => {
  it.each([
    ['a task', 'BEGIN:VCALENDAR\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n'],
    ['a journal entry', 'BEGIN:VCALENDAR\r\nBEGIN:VJOURNAL\r\nUID:j\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n'],
  ])('calls %s Unsupported, not invalid', (_what, text) => {
    expect(() => appointmentCodec.parse(text, asUid('x'))).toThrow(
      expect.objectContaining({ kind: 'Unsupported', message: expect.stringMatching(/not an event/) }),
    );
  });
});

describe('malformed calendar objects', () => {
  it.each([
    ['empty text', ''],
    ['an HTML error page', '<html>502</html>'],
    [
      'a VEVENT with a VTODO',
      calendar('DTSTART:20240101T100000Z').replace(
        'END:VCALENDAR',
        'BEGIN:VTODO\r\nEND:VTODO\r\nEND:VCALENDAR',
      ),
    ],
    ['no DTSTART', calendar('SUMMARY:x')],
    ['an impossible date', calendar('DTSTART:20240230T100000Z')],
    ['an unreadable RRULE', calendar('DTSTART:20240101T100000Z', 'RRULE:FREQ=SOMETIMES')],
    [
      'an RRULE without FREQ (as Xandikos stores one it cannot read)',
      calendar('DTSTART:20240101T100000Z', 'RRULE:None'),
    ],
    [
      'an RRULE with a COUNT that is no number',
      calendar('DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY;COUNT=x'),
    ],
    ['an unreadable DURATION', calendar('DTSTART:20240101T100000Z', 'DURATION:soon')],
    ['a line without colon', calendar('DTSTART:20240101T100000Z', 'garbage')],
    ['no END', 'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\n'],
    [
      'two events',
      calendar('DTSTART:20240101T100000Z').replace(
        'END:VCALENDAR',
        'BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20240101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR',
      ),
    ],
    ['only an overridden instance', calendar('DTSTART:20240101T100000Z', 'RECURRENCE-ID:20240101T100000Z')],
    ['a vCard', 'BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n'],
  ])('rejects %s with InvalidData', (_what, text) => expectInvalid(text));

  it('rejects an overridden instance with another UID', () => {
    const text = calendar('DTSTART:20240101T100000Z', 'RRULE:FREQ=DAILY').replace(
      'END:VCALENDAR',
      'BEGIN:VEVENT\r\nUID:other\r\nRECURRENCE-ID:20240102T100000Z\r\nDTSTART:20240102T110000Z\r\nEND:VEVENT\r\nEND:VCALENDAR',
    );
    expectInvalid(text);
  });
});
