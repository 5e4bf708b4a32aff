/**
 * The time an appointment occupies, for the calendar window.
 */
import ICAL from 'ical.js';
import type { Appointment, DateTimeValue } from '../domain/appointment.js';
import type { TimeSpan } from '../domain/codec.js';
import { propertyName, rawValue } from './content-lines.js';
import { dateTimeOf, instantOf, timeInstant, toIcalTime } from './date-values.js';
import { readComponent } from './ical-component.js';
import { ICALENDAR, parseProperty } from './ical-property.js';

const DAY_MS = 86_400_000;

/**
 * Occurrences walked at most for a rule with COUNT or UNTIL; past that, UNTIL bounds the
 * span and a COUNT rule is treated as unbounded (a wider span is the safe side for a window).
 */
export const MAX_OCCURRENCES = 20_000;

/**
 * Start and end of an appointment in epoch ms. All-day dates are UTC midnights, floating
 * times are read as UTC, zoned times use the IANA zone (or the VTIMEZONE the item carries; a
 * zone that cannot be read makes the time floating). A recurring event without COUNT or
 * UNTIL has `end` null; with one, `end` is the end of its last occurrence (EXDATEs removed,
 * RDATEs and moved instances included).
 */
export function appointmentSpan(a: Appointment): TimeSpan {
  const start = instantOf(a.start, a.timezones);
  const duration = Math.max(0, endOf(a.start, a.end, a.timezones) - start);
  let first = start;
  let last: number | null = start + duration;
  if (a.rrule !== '') {
    const lastStart = lastOccurrence(a);
    last = lastStart === null ? null : lastStart + duration;
  }
  for (const d of a.rdates) {
    const at = instantOf(d, a.timezones);
    first = Math.min(first, at);
    if (last !== null) last = Math.max(last, at + duration);
  }
  for (const o of a.overrides) {
    const moved = overrideSpan(o.component, a.timezones);
    if (!moved) continue;
    first = Math.min(first, moved.start);
    if (last !== null) last = Math.max(last, moved.end);
  }
  return { start: first, end: last };
}

/**
 * Epoch ms of an event's end: DTEND, else (RFC 5545 §3.6.1) one day after a DATE start, or
 * the start itself for a DATE-TIME.
 */
function endOf(start: DateTimeValue, end: DateTimeValue | null, carried: readonly string[]): number {
  if (end) return instantOf(end, carried);
  const at = instantOf(start, carried);
  return start.value.length === 10 ? at + DAY_MS : at;
}

/** Start (epoch ms) of the last occurrence the RRULE yields, or null when it is unbounded. */
function lastOccurrence(a: Appointment): number | null {
  let rule: InstanceType<typeof ICAL.Recur>;
  try {
    rule = ICAL.Recur.fromString(a.rrule);
  } catch {
    return null;
  }
  if (!rule.isFinite()) return null;
  const excluded = new Set(a.exdates.map((d) => instantOf(d, a.timezones)));
  const iterator = rule.iterator(toIcalTime(a.start, a.timezones));
  let last = instantOf(a.start, a.timezones);
  for (let i = 0; i < MAX_OCCURRENCES; i++) {
    const next = iterator.next();
    if (!next) return last;
    const at = timeInstant(next);
    if (!excluded.has(at)) last = Math.max(last, at);
  }
  return rule.until ? timeInstant(rule.until) : null;
}

/** Start and end of an overridden instance, read from its component text; undefined if unreadable. */
function overrideSpan(text: string, carried: readonly string[]): { start: number; end: number } | undefined {
  const c = readComponent(text);
  if (!c) return undefined;
  const value = (name: string): DateTimeValue | undefined => {
    const line = c.lines.find((l) => propertyName(l) === name);
    if (!line) return undefined;
    try {
      return dateTimeOf(parseProperty(line, ICALENDAR));
    } catch {
      return undefined;
    }
  };
  const start = value('DTSTART') ?? value('RECURRENCE-ID');
  if (!start) return undefined;
  const at = instantOf(start, carried);
  const end = value('DTEND');
  if (end) return { start: at, end: Math.max(at, instantOf(end, carried)) };
  const duration = c.lines.find((l) => propertyName(l) === 'DURATION');
  if (duration) {
    try {
      const time = toIcalTime(start, carried);
      time.addDuration(ICAL.Duration.fromString(rawValue(duration).trim()));
      return { start: at, end: Math.max(at, timeInstant(time)) };
    } catch {
      // An unreadable DURATION leaves the instance as long as its start.
    }
  }
  return { start: at, end: start.value.length === 10 ? at + DAY_MS : at };
}
