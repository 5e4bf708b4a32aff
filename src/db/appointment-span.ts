import type { Appointment, DateTimeValue } from '../domain/appointment.js';
import type { TimeSpan } from '../domain/codec.js';

const DAY_MS = 86_400_000;

/**
 * A conservative time span for the `start_utc` / `end_utc` columns, used when no codec
 * span is supplied. The columns only narrow window queries, so every doubt widens the
 * span: a recurring event is unbounded, an unknown time zone is read as UTC (off by at
 * most a day, which window margins absorb). Returns null when the start cannot be read.
 */
export function defaultAppointmentSpan(item: Appointment): TimeSpan | null {
  const start = toEpochMs(item.start);
  if (start === null) return null;
  if (item.rrule !== '' || item.rdates.length > 0) return { start, end: null };
  const end = item.end === null ? null : toEpochMs(item.end);
  if (end !== null) return { start, end: Math.max(start, end) };
  // RFC 5545 §3.6.1: without DTEND, an all-day event lasts one day and a timed one is an instant.
  return { start, end: item.allDay ? start + DAY_MS : start };
}

/** Epoch milliseconds of a date or date-time, or null when it cannot be read. */
export function toEpochMs(dt: DateTimeValue): number | null {
  const value = dt.value;
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (date !== null) return Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
  const time = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z?)$/.exec(value);
  if (time === null) return null;
  const local = Date.UTC(
    Number(time[1]),
    Number(time[2]) - 1,
    Number(time[3]),
    Number(time[4]),
    Number(time[5]),
    Number(time[6]),
  );
  if (time[7] === 'Z' || dt.tzid === '') return local;
  const offset = zoneOffsetMs(local, dt.tzid);
  if (offset === null) return local;
  // The offset at the guessed instant may differ near a DST change: correct once.
  const second = zoneOffsetMs(local - offset, dt.tzid) ?? offset;
  return local - second;
}

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(tzid: string): Intl.DateTimeFormat | null {
  let f = formatters.get(tzid);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tzid,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch {
      // Not an IANA zone (a feed's own TZID): the caller falls back to UTC.
      f = null;
    }
    formatters.set(tzid, f);
  }
  return f;
}

/** Local time minus UTC at `instant` in zone `tzid`, or null for an unknown zone. */
function zoneOffsetMs(instant: number, tzid: string): number | null {
  const f = formatter(tzid);
  if (f === null) return null;
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(instant)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  return asUtc - Math.floor(instant / 1000) * 1000;
}
