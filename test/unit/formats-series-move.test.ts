import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import type { Appointment } from '../../src/domain/appointment.js';
import { asUid } from '../../src/domain/ids.js';
import { parseEvent, serializeEvent } from '../../src/formats/icalendar.js';
import { moveAppointment, seriesMoveProblem, shiftLike } from '../../src/formats/series-move.js';
import { registerIanaZone } from '../../src/formats/timezones.js';
import { calendarText } from '../support/sample-items.js';

const UID = asUid('fallback-uid');

const lines = calendarText;

/** A weekly Monday meeting at 09:00 Berlin time, two Mondays cancelled, one moved to 16:00. */
const WEEKLY = lines(
  'BEGIN:VEVENT',
  'UID:weekly-1',
  'DTSTAMP:20261101T000000Z',
  'DTSTART;TZID=Europe/Berlin:20261012T090000',
  'DTEND;TZID=Europe/Berlin:20261012T100000',
  'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10',
  // One in summer time written as the zone's local time, one in winter time written in UTC.
  'EXDATE;TZID=Europe/Berlin:20261019T090000',
  'EXDATE:20261116T080000Z',
  'SUMMARY:Weekly',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:weekly-1',
  'DTSTAMP:20261101T000000Z',
  'RECURRENCE-ID;TZID=Europe/Berlin:20261123T090000',
  'DTSTART;TZID=Europe/Berlin:20261123T160000',
  'DTEND;TZID=Europe/Berlin:20261123T170000',
  'SUMMARY:Weekly, moved this once',
  'END:VEVENT',
);

/** Every occurrence as "start (summary)", in UTC, exceptions and overrides applied. */
function occurrences(a: Appointment): string[] {
  registerIanaZone('Europe/Berlin');
  const vcalendar = new ICAL.Component(ICAL.parse(serializeEvent(a)));
  const [master, ...others] = vcalendar.getAllSubcomponents('vevent');
  const event = new ICAL.Event(master!);
  for (const o of others) event.relateException(new ICAL.Event(o));
  const out: string[] = [];
  const it = event.iterator();
  for (let next = it.next(); next && out.length < 50; next = it.next()) {
    const details = event.getOccurrenceDetails(next);
    out.push(`${details.startDate.toJSDate().toISOString()} (${details.item.summary})`);
  }
  return out;
}

describe('moving an appointment', () => {
  it('moves a series with its cancelled and changed occurrences: none comes back, none shows twice', () => {
    const before = parseEvent(WEEKLY, UID);
    expect(occurrences(before)).toHaveLength(8); // 10 Mondays, 2 cancelled
    const moved = moveAppointment(
      before,
      { value: '2026-10-12T10:00:00', tzid: 'Europe/Berlin' },
      { value: '2026-10-12T11:00:00', tzid: 'Europe/Berlin' },
    );
    const hour = 3_600_000;
    const expected = occurrences(before).map((o) =>
      o.endsWith('(Weekly)') ? o.replace(/^\S+/, (iso) => new Date(Date.parse(iso) + hour).toISOString()) : o,
    );
    expect(occurrences(moved)).toEqual(expected);
    // Winter time: 10:00 in Berlin is 09:00 UTC, an hour later than before, on the same day.
    expect(moved.exdates).toEqual([
      { value: '2026-10-19T10:00:00', tzid: 'Europe/Berlin' },
      { value: '2026-11-16T10:00:00', tzid: 'Europe/Berlin' },
    ]);
    expect(moved.overrides[0]!.recurrenceId).toEqual({ value: '2026-11-23T10:00:00', tzid: 'Europe/Berlin' });
    expect(moved.overrides[0]!.component).toContain('DTSTART;TZID=Europe/Berlin:20261123T160000');
    // What is written reads back the same: no spurious change on the next sync.
    expect(parseEvent(serializeEvent(moved), UID)).toEqual(moved);
  });

  it('moves a series to another day and to another time zone', () => {
    const before = parseEvent(WEEKLY, UID);
    const moved = moveAppointment(
      before,
      { value: '2026-10-13T09:00:00', tzid: 'America/New_York' },
      { value: '2026-10-13T10:00:00', tzid: 'America/New_York' },
    );
    expect(moved.exdates.map((e) => e.value)).toEqual(['2026-10-20T09:00:00', '2026-11-17T09:00:00']);
    expect(moved.exdates.every((e) => e.tzid === 'America/New_York')).toBe(true);
    expect(moved.overrides[0]!.recurrenceId).toEqual({
      value: '2026-11-24T09:00:00',
      tzid: 'America/New_York',
    });
  });

  it('moves all-day series by whole days, and between all-day and timed starts', () => {
    const allDay = parseEvent(
      lines(
        'BEGIN:VEVENT',
        'UID:all-day',
        'DTSTAMP:20261101T000000Z',
        'DTSTART;VALUE=DATE:20261201',
        'DTEND;VALUE=DATE:20261202',
        'RRULE:FREQ=DAILY;COUNT=5',
        'EXDATE;VALUE=DATE:20261203',
        'SUMMARY:Offsite',
        'END:VEVENT',
      ),
      UID,
    );
    const later = moveAppointment(
      allDay,
      { value: '2026-12-08', tzid: '' },
      { value: '2026-12-09', tzid: '' },
    );
    expect(later.exdates).toEqual([{ value: '2026-12-10', tzid: '' }]);
    const timed = shiftLike({ value: '2026-12-01', tzid: '' }, { value: '2026-12-02T14:00:00Z', tzid: '' });
    expect(timed({ value: '2026-12-03', tzid: '' })).toEqual({ value: '2026-12-04T14:00:00Z', tzid: '' });
  });

  it('moves UNTIL along, so that a series moved later keeps its last occurrence', () => {
    const until = (rule: string, start: string, moveTo: string, tzid = '') => {
      const a = parseEvent(
        lines(
          'BEGIN:VEVENT',
          'UID:until',
          'DTSTAMP:20261101T000000Z',
          tzid ? `DTSTART;TZID=${tzid}:${start}` : `DTSTART:${start}`,
          `RRULE:${rule}`,
          'SUMMARY:Until',
          'END:VEVENT',
        ),
        UID,
      );
      const to = { value: moveTo, tzid: moveTo.endsWith('Z') ? '' : tzid };
      const moved = moveAppointment(a, to, null);
      return { rrule: moved.rrule, count: occurrences(moved).length, before: occurrences(a).length };
    };
    // Zoned start, UNTIL in UTC at the last occurrence (as clients write it): one hour later.
    expect(
      until('FREQ=WEEKLY;UNTIL=20261123T080000Z', '20261102T090000', '2026-11-02T10:00:00', 'Europe/Berlin'),
    ).toEqual({
      rrule: 'FREQ=WEEKLY;UNTIL=20261123T090000Z',
      count: 4,
      before: 4,
    });
    // UTC start, moved a day later.
    expect(
      until('FREQ=DAILY;UNTIL=20261205T100000Z;INTERVAL=2', '20261201T100000Z', '2026-12-02T10:00:00Z'),
    ).toEqual({
      rrule: 'FREQ=DAILY;INTERVAL=2;UNTIL=20261206T100000Z',
      count: 3,
      before: 3,
    });
  });

  it('moves a weekly series on the weekday of its start to another day, rule included', () => {
    const weekly = parseEvent(WEEKLY, UID); // RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=10
    const moved = moveAppointment(
      weekly,
      { value: '2026-10-13T09:00:00', tzid: 'Europe/Berlin' },
      { value: '2026-10-13T10:00:00', tzid: 'Europe/Berlin' },
    );
    expect(moved.rrule).toContain('BYDAY=TU');
    const day = 86_400_000;
    const expected = occurrences(weekly).map((o) =>
      o.endsWith('(Weekly)') ? o.replace(/^\S+/, (iso) => new Date(Date.parse(iso) + day).toISOString()) : o,
    );
    // The moved occurrence keeps the time it was moved to; it stands for Tuesday's now.
    expect(occurrences(moved).filter((o) => o.endsWith('(Weekly)'))).toEqual(
      expected.filter((o) => o.endsWith('(Weekly)')),
    );
    expect(moved.overrides[0]!.recurrenceId.value).toBe('2026-11-24T09:00:00');
  });

  it('refuses to move to another day a series whose rule names its days', () => {
    const rule = (rrule: string) => ({ ...parseEvent(WEEKLY, UID), rrule });
    const tuesday = { value: '2026-10-13T09:00:00', tzid: 'Europe/Berlin' };
    expect(seriesMoveProblem(rule('FREQ=WEEKLY;BYDAY=MO'), tuesday)).toBeNull();
    expect(seriesMoveProblem(rule('FREQ=WEEKLY'), tuesday)).toBeNull();
    expect(seriesMoveProblem(rule('FREQ=WEEKLY;BYDAY=MO,TH'), tuesday)).toMatch(
      /ties the series to its days \(BYDAY\)/,
    );
    expect(seriesMoveProblem(rule('FREQ=MONTHLY;BYMONTHDAY=12'), tuesday)).toMatch(/BYMONTHDAY/);
    // The same day, another time: nothing to refuse.
    expect(
      seriesMoveProblem(rule('FREQ=MONTHLY;BYMONTHDAY=12'), {
        value: '2026-10-12T15:00:00',
        tzid: 'Europe/Berlin',
      }),
    ).toBeNull();
  });

  it('leaves a series that did not move as it was', () => {
    const before = parseEvent(WEEKLY, UID);
    expect(moveAppointment(before, before.start, before.end)).toEqual(before);
  });
});

describe('moving a series with periods and ranges', () => {
  const SERIES = lines(
    'BEGIN:VEVENT',
    'UID:weekly-2',
    'DTSTAMP:20261101T000000Z',
    'DTSTART:20270105T100000Z',
    'DTEND:20270105T110000Z',
    'RRULE:FREQ=WEEKLY;COUNT=6',
    'RDATE;VALUE=PERIOD:20270120T150000Z/20270120T160000Z,20270122T150000Z/PT2H',
    'SUMMARY:Weekly',
    'END:VEVENT',
    'BEGIN:VEVENT',
    'UID:weekly-2',
    'DTSTAMP:20261101T000000Z',
    'RECURRENCE-ID;RANGE=THISANDFUTURE:20270126T100000Z',
    'DTSTART:20270126T100000Z',
    'DTEND:20270126T110000Z',
    'STATUS:CANCELLED',
    'SUMMARY:Weekly',
    'END:VEVENT',
  );

  it('keeps RANGE=THISANDFUTURE on the moved RECURRENCE-ID, and moves RDATE periods along', () => {
    const a = parseEvent(SERIES, UID);
    const moved = moveAppointment(a, { value: '2027-01-06T10:00:00Z', tzid: '' }, null);
    const text = serializeEvent(moved).replace(/\r\n /g, '');
    expect(text).toContain('RECURRENCE-ID;RANGE=THISANDFUTURE:20270127T100000Z');
    expect(text).toContain('RDATE;VALUE=PERIOD:20270121T150000Z/20270121T160000Z,20270123T150000Z/PT2H');
    expect(text).not.toContain('20270120T150000Z');
  });
});
