/**
 * Moving an appointment in time, recurring ones included. A recurring event names its
 * instances by their original start: an EXDATE cancels the instance that starts then, an
 * overridden instance (RECURRENCE-ID) replaces it, an RDATE adds one. When the series'
 * start moves and those stay put, they name instances that no longer exist: the cancelled
 * meetings come back and every moved one shows twice. So they move with the start, by the
 * same wall-clock amount, as calendar clients move them.
 */
import ICAL from 'ical.js';
import type { Appointment, DateTimeValue } from '../domain/appointment.js';
import { valueStart } from './content-lines.js';
import { dateTimeLine, fromIcalTime, isDate, toIcalTime } from './date-values.js';
import { parseEvent, serializeEvent } from './icalendar.js';
import { encodeParamValue } from './text-values.js';
import { resolveZone } from './timezones.js';

const DAY = 86_400_000;

/**
 * A function that moves a date or date-time as `from` moved to `to`: by the same wall-clock
 * amount, read in `from`'s time zone and written in `to`'s (a move from 09:00 to 10:00 Berlin
 * time stays at 10:00 across a daylight-saving change). Between an all-day and a timed start,
 * the day moves with the start's day and takes `to`'s time of day.
 */
export function shiftLike(
  from: DateTimeValue,
  to: DateTimeValue,
  carried: readonly string[] = [],
): (v: DateTimeValue) => DateTimeValue {
  const fromAt = wallClock(from, from, carried);
  const toAt = wallClock(to, to, carried);
  const sameKind = isDate(from) === isDate(to);
  return (v) => {
    const at = wallClock(v, from, carried);
    if (sameKind) return written(at + toAt - fromAt, to);
    const day = dayOf(at) + dayOf(toAt) - dayOf(fromAt);
    return written(isDate(to) ? day : day + (toAt - dayOf(toAt)), to);
  };
}

/**
 * The appointment with its start (and end) set to `start` and `end`, its EXDATEs, RDATEs
 * and overridden instances moved along with the start, and its rule's UNTIL (and a weekly
 * rule's weekday, see {@link seriesMoveProblem}). The result is as the iCalendar
 * reader would give it back, so that the content hash of what is written matches.
 */
export function moveAppointment(
  a: Appointment,
  start: DateTimeValue,
  end: DateTimeValue | null,
  options: {
    /** The rule is the one wanted for the new start, as it is (not moved along). */
    readonly ruleGiven?: boolean;
  } = {},
): Appointment {
  if (start.value === a.start.value && start.tzid === a.start.tzid) return { ...a, end };
  const shift = shiftLike(a.start, start, a.timezones);
  const moved: Appointment = {
    ...a,
    start,
    end,
    allDay: isDate(start),
    rrule: options.ruleGiven ? a.rrule : movedWeekday(movedUntil(a, shift), a.start, start, a.timezones),
    rdates: a.rdates.map(shift),
    exdates: a.exdates.map(shift),
    extra: a.extra.map((line) => movedPeriods(line, shift)),
    overrides: a.overrides.map((o) => {
      const recurrenceId = shift(o.recurrenceId);
      return { recurrenceId, component: withLine(o.component, 'RECURRENCE-ID', recurrenceId) };
    }),
  };
  return parseEvent(serializeEvent(moved), a.uid);
}

const WEEKDAYS = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
/** Rule parts that tie occurrences to days whatever the start: moving days does not move them. */
const DAY_PARTS = ['BYDAY', 'BYMONTHDAY', 'BYYEARDAY', 'BYWEEKNO', 'BYSETPOS'];

/** Days between the two starts' dates, each read in its own zone. */
function daysMoved(from: DateTimeValue, to: DateTimeValue, carried: readonly string[]): number {
  return (dayOf(wallClock(to, to, carried)) - dayOf(wallClock(from, from, carried))) / DAY;
}

/**
 * Why the series cannot be moved from its start to `start` by moving its occurrences along,
 * or null when it can: its rule names days (BYDAY=TU, BYMONTHDAY=4, …) that the new start's
 * day does not follow. A weekly rule on the start's own weekday alone is moved with it.
 */
export function seriesMoveProblem(a: Appointment, start: DateTimeValue): string | null {
  if (a.rrule === '' || daysMoved(a.start, start, a.timezones) === 0) return null;
  const tied = a.rrule
    .split(';')
    .map((part) => part.split('=')[0]?.toUpperCase() ?? '')
    .filter((name) => DAY_PARTS.includes(name));
  const weekdayMoved = movedWeekday(a.rrule, a.start, start, a.timezones) !== a.rrule;
  if (tied.length === 0 || (weekdayMoved && tied.length === 1 && tied[0] === 'BYDAY')) return null;
  return `the rule ${a.rrule} ties the series to its days (${tied.join(', ')}): moving its start to another day would leave the occurrences where they are; give the rule for the new days with --rrule as well`;
}

/** A weekly rule on the start's weekday alone (BYDAY=TU) moved to the new start's weekday. */
function movedWeekday(
  rrule: string,
  from: DateTimeValue,
  to: DateTimeValue,
  carried: readonly string[],
): string {
  const days = daysMoved(from, to, carried);
  if (days === 0 || !/(^|;)FREQ=WEEKLY(;|$)/i.test(rrule)) return rrule;
  const before = WEEKDAYS[new Date(wallClock(from, from, carried)).getUTCDay()];
  const after = WEEKDAYS[new Date(wallClock(to, to, carried)).getUTCDay()];
  return rrule.replace(new RegExp(`(^|;)BYDAY=${before}(?=;|$)`, 'i'), `$1BYDAY=${after}`);
}

/**
 * The recurrence rule with its UNTIL moved too: clients often write the last occurrence's
 * start as UNTIL, so a series moved later would otherwise lose its last occurrence. UNTIL is
 * written as RFC 5545 §3.3.10 asks for the new start: a date for an all-day start, UTC for
 * a zoned or UTC one, local for a floating one.
 */
function movedUntil(a: Appointment, shift: (v: DateTimeValue) => DateTimeValue): string {
  const match = /(^|;)UNTIL=(\d{8})(?:T(\d{6})(Z?))?(?=;|$)/i.exec(a.rrule);
  if (match === null) return a.rrule;
  const [whole, lead, date, time, z] = match as unknown as [
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const day = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
  const until: DateTimeValue =
    time === undefined
      ? { value: day, tzid: '' }
      : {
          value: `${day}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}${z ? 'Z' : ''}`,
          tzid: z ? '' : a.start.tzid,
        };
  let moved = shift(until);
  if (!isDate(moved) && moved.tzid !== '')
    moved = fromIcalTime(toIcalTime(moved, a.timezones).convertToZone(ICAL.Timezone.utcTimezone), '');
  const basic = moved.value.replace(/[-:]/g, '');
  return a.rrule.replace(whole, `${lead}UNTIL=${basic}`);
}

/**
 * Wall-clock time of `v` in the time zone of `zoneOf`, as milliseconds on a UTC scale. A
 * floating or all-day `zoneOf`, or a zone that cannot be resolved, reads `v` as written.
 */
function wallClock(v: DateTimeValue, zoneOf: DateTimeValue, carried: readonly string[]): number {
  let t = toIcalTime(v, carried);
  const convertible = !isDate(v) && (v.value.endsWith('Z') || resolveZone(v.tzid, carried) !== undefined);
  if (convertible && !isDate(zoneOf)) {
    if (zoneOf.value.endsWith('Z')) t = t.convertToZone(ICAL.Timezone.utcTimezone);
    else {
      const zone = resolveZone(zoneOf.tzid, carried);
      if (zone) t = t.convertToZone(zone);
    }
  }
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

function dayOf(at: number): number {
  return Math.floor(at / DAY) * DAY;
}

/** A wall-clock time written like `like`: a date, a UTC time, or a time in `like`'s zone. */
function written(at: number, like: DateTimeValue): DateTimeValue {
  const text = new Date(at).toISOString();
  if (isDate(like)) return { value: text.slice(0, 10), tzid: '' };
  const value = text.slice(0, 19);
  return like.value.endsWith('Z') ? { value: `${value}Z`, tzid: '' } : { value, tzid: like.tzid };
}

/**
 * The component text with its (top-level) property `name` written anew for `v`; parameters
 * other than the value's own (TZID, VALUE) stay, such as RECURRENCE-ID's RANGE=THISANDFUTURE,
 * without which an override of "this and all following" would cancel one occurrence only.
 */
function withLine(component: string, name: string, v: DateTimeValue): string {
  const line = dateTimeLine(name, v);
  return component
    .split('\r\n')
    .map((l) => {
      if (!l.startsWith(`${name};`) && !l.startsWith(`${name}:`)) return l;
      const kept = paramsOf(l).filter((p) => !/^(TZID|VALUE)=/i.test(p));
      return kept.length === 0 ? line : `${name};${kept.join(';')}${line.slice(name.length)}`;
    })
    .join('\r\n');
}

/** The parameters of a content line (`NAME=value` texts), quoted values kept whole. */
function paramsOf(line: string): string[] {
  const head = line.slice(0, valueStart(line));
  return (head.match(/;[^;"]*(?:"[^"]*"[^;"]*)*/g) ?? []).map((p) => p.slice(1));
}

/**
 * An RDATE of periods (RFC 5545 §3.8.5.2), which `extra` holds since a DateTimeValue
 * cannot, with each period's start (and an end given as a time) moved by `shift`. Any
 * other line is returned as it is.
 */
function movedPeriods(line: string, shift: (v: DateTimeValue) => DateTimeValue): string {
  if (!/^RDATE;/i.test(line)) return line;
  const params = paramsOf(line);
  if (!params.some((p) => /^VALUE=PERIOD$/i.test(p))) return line;
  const tzid =
    params
      .find((p) => /^TZID=/i.test(p))
      ?.slice(5)
      .replace(/^"|"$/g, '') ?? '';
  const value = (basic: string): DateTimeValue => {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$/.exec(basic);
    if (!m) throw new Error(`not a DATE-TIME: ${basic}`);
    return { value: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7]}`, tzid: m[7] ? '' : tzid };
  };
  let zone = tzid;
  let periods: string[];
  try {
    periods = line
      .slice(valueStart(line) + 1)
      .split(',')
      .map((period) => {
        const [from = '', to = ''] = period.split('/');
        const start = shift(value(from));
        zone = start.tzid;
        const end = /^[+-]?P/i.test(to) ? to : basicOf(shift(value(to)));
        return `${basicOf(start)}/${end}`;
      });
  } catch {
    return line;
  }
  const others = params.filter((p) => !/^TZID=/i.test(p));
  const head = ['RDATE', ...others, ...(zone === '' ? [] : [`TZID=${encodeParamValue(zone)}`])].join(';');
  return `${head}:${periods.join(',')}`;
}

function basicOf(v: DateTimeValue): string {
  return v.value.replace(/[-:]/g, '');
}
