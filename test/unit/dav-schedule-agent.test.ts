import { describe, expect, it } from 'vitest';
import {
  hasSchedulingProperties,
  scheduledByServer,
  withClientScheduling,
} from '../../src/mailbox/dav/schedule-agent.js';

const event = (...lines: string[]) =>
  `${['BEGIN:VCALENDAR', 'VERSION:2.0', 'BEGIN:VEVENT', 'UID:m1', ...lines, 'END:VEVENT', 'END:VCALENDAR'].join('\r\n')}\r\n`;

describe('SCHEDULE-AGENT (RFC 6638 §7.1)', () => {
  it('marks every organizer and attendee of a new event CLIENT', () => {
    const text = event(
      'ORGANIZER;CN="Boss; Inc":mailto:boss@example.com',
      'ATTENDEE;CN=Ann;PARTSTAT=NEEDS-ACTION:mailto:ann@example.com',
      'ATTENDEE:mailto:bob@example.com',
    );
    const out = withClientScheduling(text, null).replace(/\r\n /g, '');
    expect(out).toContain('ORGANIZER;CN="Boss; Inc";SCHEDULE-AGENT=CLIENT:mailto:boss@example.com');
    expect(out).toContain(
      'ATTENDEE;CN=Ann;PARTSTAT=NEEDS-ACTION;SCHEDULE-AGENT=CLIENT:mailto:ann@example.com',
    );
    expect(out).toContain('ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:bob@example.com');
    expect(out).toContain('UID:m1\r\n');
  });

  it('leaves an explicit SCHEDULE-AGENT, an alarm recipient and other lines alone', () => {
    const text = event(
      'ATTENDEE;SCHEDULE-AGENT=NONE:mailto:ann@example.com',
      'DESCRIPTION:ATTENDEE:mailto:nobody@example.com',
      'BEGIN:VALARM',
      'ACTION:EMAIL',
      'ATTENDEE:mailto:me@example.com',
      'END:VALARM',
    );
    expect(withClientScheduling(text, null)).toBe(text);
    expect(withClientScheduling(event('SUMMARY:no one'), null)).toBe(event('SUMMARY:no one'));
  });

  it('on update keeps what the stored copy says per address, and marks new addresses CLIENT', () => {
    const stored = event(
      'ORGANIZER:mailto:boss@example.com',
      'ATTENDEE:mailto:ann@example.com',
      'ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:BOB@example.com',
    );
    const next = event(
      'ORGANIZER:mailto:boss@example.com',
      'ATTENDEE:mailto:ann@example.com',
      'ATTENDEE:mailto:bob@example.com',
      'ATTENDEE:mailto:cid@example.com',
    );
    const out = withClientScheduling(next, stored).replace(/\r\n /g, '');
    // SERVER → CLIENT would make the server send a CANCEL (§3.2.1.2): stays as stored.
    expect(out).toContain('ORGANIZER:mailto:boss@example.com\r\n');
    expect(out).toContain('ATTENDEE:mailto:ann@example.com\r\n');
    expect(out).toContain('ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:bob@example.com');
    expect(out).toContain('ATTENDEE;SCHEDULE-AGENT=CLIENT:mailto:cid@example.com');
  });

  it('folds a lengthened line again at 75 octets', () => {
    const long = `ATTENDEE;CN=${'x'.repeat(50)}:mailto:someone@example.com`;
    const out = withClientScheduling(event(long), null);
    for (const line of out.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(out.replace(/\r\n /g, '')).toContain(
      `ATTENDEE;CN=${'x'.repeat(50)};SCHEDULE-AGENT=CLIENT:mailto:`,
    );
  });

  it('tells a scheduling object by its ORGANIZER or ATTENDEE', () => {
    expect(hasSchedulingProperties(event('ATTENDEE:mailto:a@example.com'))).toBe(true);
    expect(hasSchedulingProperties(event('SUMMARY:x'))).toBe(false);
  });
});

describe('a series scheduled by the server with one occurrence marked CLIENT', () => {
  const series = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'BEGIN:VEVENT',
    'UID:m2',
    'DTSTART:20261207T140000Z',
    'RRULE:FREQ=WEEKLY;COUNT=4',
    'ORGANIZER:mailto:alice@example.com',
    'ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com',
    'END:VEVENT',
    'BEGIN:VEVENT',
    'UID:m2',
    'RECURRENCE-ID:20261214T140000Z',
    'DTSTART:20261214T150000Z',
    'ORGANIZER;SCHEDULE-AGENT=CLIENT:mailto:alice@example.com',
    'ATTENDEE;SCHEDULE-AGENT=CLIENT;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com',
    'END:VEVENT',
    'END:VCALENDAR',
    '',
  ].join('\r\n');

  it('counts as scheduled by the server: the series itself is', () => {
    expect(scheduledByServer(series)).toBe(true);
  });

  it('never has the series’ own addresses switched to CLIENT (which would send a cancellation)', () => {
    const out = withClientScheduling(series, series).replace(/\r\n /g, '');
    expect(out).toContain('ORGANIZER:mailto:alice@example.com\r\n');
    expect(out).toContain('ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.com\r\n');
  });
});
