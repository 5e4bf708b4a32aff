import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { type Appointment, emptyAppointment } from '../../src/domain/appointment.js';
import { asUid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { parseEvent } from '../../src/formats/icalendar.js';
import {
  ianaVtimezone,
  isIanaZone,
  registerIanaZone,
  resolveZone,
  timezoneFromText,
} from '../../src/formats/timezones.js';

const UID = asUid('span');
const at = (iso: string) => Date.parse(iso);

function event(start: string, end: string | null, tzid = '', more: Partial<Appointment> = {}): Appointment {
  return {
    ...emptyAppointment(UID, { value: start, tzid }, end === null ? null : { value: end, tzid }),
    ...more,
  };
}

describe('IANA time zones', () => {
  it('registers a zone with ical.js once, under the TZID asked for', () => {
    const first = registerIanaZone('Europe/Vienna');
    expect(first).toBeDefined();
    expect(ICAL.TimezoneService.has('Europe/Vienna')).toBe(true);
    expect(registerIanaZone('Europe/Vienna')).toBe(first);
    expect(registerIanaZone('Not/AZone')).toBeUndefined();
    expect(ICAL.TimezoneService.has('Not/AZone')).toBe(false);
  });

  it('knows links, and names a link VTIMEZONE after the link', () => {
    expect(isIanaZone('US/Pacific')).toBe(true);
    expect(isIanaZone('W. Europe Standard Time')).toBe(false);
    expect(isIanaZone('constructor')).toBe(false);
    const text = ianaVtimezone('US/Pacific') ?? '';
    expect(text.split('\r\n')).toContain('TZID:US/Pacific');
  });

  it('does not register an item’s own VTIMEZONE globally', () => {
    const custom =
      'BEGIN:VTIMEZONE\r\nTZID:Private Zone\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE';
    expect(resolveZone('Private Zone', [custom])).toBeDefined();
    expect(ICAL.TimezoneService.has('Private Zone')).toBe(false);
  });

  it('reads a broken definition as no zone instead of failing', () => {
    expect(
      timezoneFromText('BEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\nTZOFFSETTO+0100\r\nEND:STANDARD'),
    ).toBeUndefined();
  });
});

describe('span of an appointment', () => {
  it('gives the right UTC instants for a registered IANA zone, in winter and in summer', () => {
    expect(
      appointmentCodec.span(event('2024-01-15T09:00:00', '2024-01-15T10:00:00', 'Europe/Berlin')),
    ).toEqual({
      start: at('2024-01-15T08:00:00Z'),
      end: at('2024-01-15T09:00:00Z'),
    });
    expect(
      appointmentCodec.span(event('2024-07-15T09:00:00', '2024-07-15T10:00:00', 'America/New_York')),
    ).toEqual({
      start: at('2024-07-15T13:00:00Z'),
      end: at('2024-07-15T14:00:00Z'),
    });
  });

  it('crosses a daylight saving change correctly', () => {
    // 2024-03-31 02:00 CET becomes 03:00 CEST.
    expect(
      appointmentCodec.span(event('2024-03-31T01:30:00', '2024-03-31T03:30:00', 'Europe/Berlin')),
    ).toEqual({
      start: at('2024-03-31T00:30:00Z'),
      end: at('2024-03-31T01:30:00Z'),
    });
  });

  it('reads floating times and unknown zones without a definition as UTC', () => {
    expect(appointmentCodec.span(event('2024-01-15T09:00:00', '2024-01-15T10:00:00'))).toEqual({
      start: at('2024-01-15T09:00:00Z'),
      end: at('2024-01-15T10:00:00Z'),
    });
    expect(appointmentCodec.span(event('2024-01-15T09:00:00', null, 'Mars/Olympus_Mons'))).toEqual({
      start: at('2024-01-15T09:00:00Z'),
      end: at('2024-01-15T09:00:00Z'),
    });
  });

  it('uses a carried VTIMEZONE for a zone IANA does not know', () => {
    const custom =
      'BEGIN:VTIMEZONE\r\nTZID:Firm Time\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0300\r\nTZOFFSETTO:+0300\r\nEND:STANDARD\r\nEND:VTIMEZONE';
    const a = event('2024-01-15T09:00:00', null, 'Firm Time', { timezones: [custom] });
    expect(appointmentCodec.span(a)?.start).toBe(at('2024-01-15T06:00:00Z'));
  });

  it('prefers the IANA zone of the same name over a broken definition in the feed', () => {
    const text = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VTIMEZONE',
      'TZID:Asia/Tokyo',
      'BEGIN:STANDARD',
      'DTSTART:garbage',
      'TZOFFSETTO:-1200',
      'END:STANDARD',
      'END:VTIMEZONE',
      'BEGIN:VEVENT',
      'UID:x',
      'DTSTART;TZID=Asia/Tokyo:20240601T090000',
      'END:VEVENT',
      'END:VCALENDAR',
    ].join('\r\n');
    expect(appointmentCodec.span(parseEvent(text, UID))?.start).toBe(at('2024-06-01T00:00:00Z'));
  });

  it('spans all-day events from UTC midnight, one day when there is no end', () => {
    expect(appointmentCodec.span(event('2024-07-22', '2024-07-27'))).toEqual({
      start: at('2024-07-22T00:00:00Z'),
      end: at('2024-07-27T00:00:00Z'),
    });
    expect(appointmentCodec.span(event('2024-07-22', null))).toEqual({
      start: at('2024-07-22T00:00:00Z'),
      end: at('2024-07-23T00:00:00Z'),
    });
  });

  it('leaves the end open for a rule without COUNT or UNTIL', () => {
    const a = event('2024-01-01T09:00:00Z', '2024-01-01T10:00:00Z', '', { rrule: 'FREQ=WEEKLY;BYDAY=MO' });
    expect(appointmentCodec.span(a)).toEqual({ start: at('2024-01-01T09:00:00Z'), end: null });
  });

  it('ends with the last occurrence of a COUNT or UNTIL rule, in the event’s zone', () => {
    const count = event('2024-03-25T09:00:00', '2024-03-25T10:00:00', 'Europe/Berlin', {
      rrule: 'FREQ=WEEKLY;COUNT=2',
    });
    // The second occurrence falls after the change to summer time: 09:00 CEST is 07:00Z.
    expect(appointmentCodec.span(count)?.end).toBe(at('2024-04-01T08:00:00Z'));
    const until = event('2024-01-01T09:00:00Z', '2024-01-01T10:00:00Z', '', {
      rrule: 'FREQ=DAILY;UNTIL=20240110T090000Z',
    });
    expect(appointmentCodec.span(until)?.end).toBe(at('2024-01-10T10:00:00Z'));
  });

  it('leaves out excluded occurrences and counts added and moved ones', () => {
    const base = event('2024-01-01T09:00:00Z', '2024-01-01T10:00:00Z', '', { rrule: 'FREQ=DAILY;COUNT=3' });
    expect(appointmentCodec.span(base)?.end).toBe(at('2024-01-03T10:00:00Z'));
    const excluded = { ...base, exdates: [{ value: '2024-01-03T09:00:00Z', tzid: '' }] };
    expect(appointmentCodec.span(excluded)?.end).toBe(at('2024-01-02T10:00:00Z'));
    const added = { ...base, rdates: [{ value: '2024-02-01T09:00:00Z', tzid: '' }] };
    expect(appointmentCodec.span(added)?.end).toBe(at('2024-02-01T10:00:00Z'));
    const moved = {
      ...base,
      overrides: [
        {
          recurrenceId: { value: '2024-01-02T09:00:00Z', tzid: '' },
          component:
            'BEGIN:VEVENT\r\nDTEND:20240105T120000Z\r\nDTSTART:20231231T080000Z\r\nRECURRENCE-ID:20240102T090000Z\r\nEND:VEVENT',
        },
      ],
    };
    expect(appointmentCodec.span(moved)).toEqual({
      start: at('2023-12-31T08:00:00Z'),
      end: at('2024-01-05T12:00:00Z'),
    });
  });

  // Past MAX_OCCURRENCES, UNTIL bounds the span and a COUNT rule counts as open.
  it('bounds the walk over a huge rule', () => {
    const secondly = event('2024-01-01T00:00:00Z', null, '', {
      rrule: 'FREQ=SECONDLY;UNTIL=20340101T000000Z',
    });
    expect(appointmentCodec.span(secondly)?.end).toBe(at('2034-01-01T00:00:00Z'));
    expect(appointmentCodec.span({ ...secondly, rrule: 'FREQ=SECONDLY;COUNT=100000000' })?.end).toBeNull();
  });
});
