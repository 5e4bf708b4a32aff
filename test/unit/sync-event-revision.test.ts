import { describe, expect, it } from 'vitest';
import { asHref, asUid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { keepStoredRevision } from '../../src/formats/event-revision.js';
import { moveAppointment } from '../../src/formats/series-move.js';
import { memoryItemSync } from '../support/memory-sync.js';
import { calendarText } from '../support/sample-items.js';

const calendar = calendarText;

const SERIES = calendar(
  'BEGIN:VEVENT',
  'UID:weekly',
  'DTSTAMP:20260101T000000Z',
  'CREATED:20250101T080000Z',
  'SEQUENCE:3',
  'DTSTART:20270104T090000Z',
  'DTEND:20270104T100000Z',
  'RRULE:FREQ=WEEKLY;COUNT=8',
  'SUMMARY:Weekly',
  'ORGANIZER:mailto:ann@example.com',
  'ATTENDEE:mailto:bob@example.com',
  'BEGIN:VALARM',
  'ACTION:DISPLAY',
  'TRIGGER:-PT15M',
  'DESCRIPTION:Soon',
  'END:VALARM',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:weekly',
  'DTSTAMP:20260101T000000Z',
  'RECURRENCE-ID:20270111T090000Z',
  'SEQUENCE:5',
  'DTSTART:20270111T130000Z',
  'DTEND:20270111T140000Z',
  'SUMMARY:Weekly, moved',
  'END:VEVENT',
);

const parse = (text: string) => appointmentCodec.parse(text, asUid('x'));

/** The values of `name` in `text`, in order. */
function values(text: string, name: string): string[] {
  return text
    .split('\r\n')
    .filter((l) => l.startsWith(`${name}:`))
    .map((l) => l.slice(name.length + 1));
}

describe('keepStoredRevision', () => {
  it('puts the stored SEQUENCE and CREATED back into the master and each overridden occurrence', () => {
    // As an update writes it: rebuilt from the fields, which leave both out.
    const event = parse(SERIES);
    const rewritten = appointmentCodec.serialize(
      appointmentCodec.fromFields(event.uid, appointmentCodec.fields(event)),
    );
    expect(values(rewritten, 'SEQUENCE')).toEqual([]);
    const kept = keepStoredRevision(rewritten, SERIES);
    expect(values(kept, 'SEQUENCE')).toEqual(['3', '5']);
    expect(values(kept, 'CREATED')).toEqual(['20250101T080000Z']);
    // Properties come before the master's alarm, as RFC 5545 writes them.
    expect(kept.indexOf('SEQUENCE:3')).toBeLessThan(kept.indexOf('BEGIN:VALARM'));
    expect(appointmentCodec.fields(parse(kept))).toEqual(appointmentCodec.fields(event));
  });

  it('raises a lower SEQUENCE to the stored one, keeps a higher one, and leaves text without any alone', () => {
    const stored = calendar('BEGIN:VEVENT', 'UID:e', 'SEQUENCE:4', 'DTSTART:20270104T090000Z', 'END:VEVENT');
    const lower = calendar('BEGIN:VEVENT', 'UID:e', 'SEQUENCE:1', 'DTSTART:20270104T090000Z', 'END:VEVENT');
    const higher = calendar('BEGIN:VEVENT', 'UID:e', 'SEQUENCE:9', 'DTSTART:20270104T090000Z', 'END:VEVENT');
    expect(values(keepStoredRevision(lower, stored), 'SEQUENCE')).toEqual(['4']);
    expect(values(keepStoredRevision(higher, stored), 'SEQUENCE')).toEqual(['9']);
    const plain = calendar('BEGIN:VEVENT', 'UID:e', 'DTSTART:20270104T090000Z', 'END:VEVENT');
    expect(keepStoredRevision(lower, plain)).toBe(lower);
  });
});

describe('keepStoredRevision after a move', () => {
  it('keeps a meeting’s SEQUENCE when its time changed (only its organizer raises it), and finds moved occurrences by their place', () => {
    const event = parse(SERIES);
    const moved = moveAppointment(
      event,
      { value: '2027-01-04T10:00:00Z', tzid: '' },
      { value: '2027-01-04T11:00:00Z', tzid: '' },
    );
    const kept = keepStoredRevision(appointmentCodec.serialize(moved), SERIES);
    // The series moved; its changed occurrence kept its own time, under a new RECURRENCE-ID.
    expect(values(kept, 'SEQUENCE')).toEqual(['3', '5']);
    expect(values(kept, 'CREATED')).toEqual(['20250101T080000Z']);
    expect(values(kept, 'RECURRENCE-ID')).toEqual(['20270111T100000Z']);
  });

  it('keeps what clients store about dismissed and snoozed reminders, and the calendar’s own properties', () => {
    const stored = calendar(
      'CALSCALE:GREGORIAN',
      'X-WR-TIMEZONE:Europe/Berlin',
      'BEGIN:VEVENT',
      'UID:e',
      'DTSTAMP:20261101T000000Z',
      'LAST-MODIFIED:20261101T000000Z',
      'DTSTART:20270104T090000Z',
      'SUMMARY:Call',
      'X-MOZ-LASTACK:20261126T120000Z',
      'X-MOZ-SNOOZE-TIME-1795946400000000:20261126T130000Z',
      'BEGIN:VALARM',
      'ACTION:DISPLAY',
      'TRIGGER:-PT15M',
      'DESCRIPTION:Call',
      'ACKNOWLEDGED:20261126T120500Z',
      'END:VALARM',
      'END:VEVENT',
    );
    const event = parse(stored);
    const rewritten = appointmentCodec.serialize({ ...event, location: 'Room 2' });
    const kept = keepStoredRevision(rewritten, stored);
    expect(values(kept, 'X-MOZ-LASTACK')).toEqual(['20261126T120000Z']);
    expect(values(kept, 'X-MOZ-SNOOZE-TIME-1795946400000000')).toEqual(['20261126T130000Z']);
    expect(values(kept, 'ACKNOWLEDGED')).toEqual(['20261126T120500Z']);
    expect(values(kept, 'X-WR-TIMEZONE')).toEqual(['Europe/Berlin']);
    expect(values(kept, 'CALSCALE')).toEqual(['GREGORIAN']);
    expect(kept.indexOf('X-WR-TIMEZONE')).toBeLessThan(kept.indexOf('BEGIN:VEVENT'));
    // LAST-MODIFIED is this write's time.
    expect(values(kept, 'LAST-MODIFIED')).toEqual(values(kept, 'DTSTAMP'));
    expect(appointmentCodec.fields(parse(kept))).toEqual(appointmentCodec.fields(parse(rewritten)));
  });

  it('gives a first SEQUENCE to an event that had none when its time changes', () => {
    const stored = calendar('BEGIN:VEVENT', 'UID:e', 'DTSTART:20270104T090000Z', 'END:VEVENT');
    const moved = calendar('BEGIN:VEVENT', 'UID:e', 'DTSTART:20270104T100000Z', 'END:VEVENT');
    expect(values(keepStoredRevision(moved, stored), 'SEQUENCE')).toEqual(['1']);
    // Spelled differently, the same time is no revision.
    const respelled = calendar(
      'BEGIN:VEVENT',
      'UID:e',
      'DTSTART;VALUE=DATE-TIME:20270104T090000Z',
      'END:VEVENT',
    );
    const same = calendar('BEGIN:VEVENT', 'UID:e', 'DTSTART;value=date-time:20270104T090000Z', 'END:VEVENT');
    expect(keepStoredRevision(same, respelled)).toBe(same);
    // A DURATION written back as the DTEND it comes to, RDATEs split over lines: no revision.
    const byDuration = calendar(
      'BEGIN:VEVENT',
      'UID:e',
      'SEQUENCE:2',
      'DTSTART;TZID=Europe/Berlin:20270328T013000',
      'DURATION:PT3H',
      'RDATE:20270407T080000Z,20270408T080000Z',
      'SUMMARY:Old',
      'END:VEVENT',
    );
    const rewritten = appointmentCodec.serialize({ ...parse(byDuration), summary: 'New' });
    expect(rewritten).toContain('DTEND;TZID=Europe/Berlin:20270328T053000');
    expect(values(keepStoredRevision(rewritten, byDuration), 'SEQUENCE')).toEqual(['2']);
  });
});

describe('an event edited on the firm side', () => {
  it('is written over the mailbox copy with that copy’s SEQUENCE and CREATED', async () => {
    const { server, firm, sync } = await memoryItemSync(appointmentCodec);
    server.put('acct', 'calendar', 'weekly.ics', SERIES);
    await sync();
    const [id, item] = [...firm.items.entries()][0]!;
    firm.userPut(id, { ...item, location: 'Room B' });

    const report = await sync();

    expect(report.toMailbox.updated).toBe(1);
    const stored = server.items('acct', 'calendar').get(asHref('weekly.ics'))!;
    expect(values(stored, 'LOCATION')).toEqual(['Room B']);
    expect(values(stored, 'SEQUENCE')).toEqual(['3', '5']);
    expect(values(stored, 'CREATED')).toEqual(['20250101T080000Z']);
    expect((await sync()).outcome).toBe('unchanged');
  });
});
