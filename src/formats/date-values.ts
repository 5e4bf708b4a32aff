/**
 * iCalendar DATE and DATE-TIME values as `DateTimeValue`, and back to text; instants.
 */
import ICAL from 'ical.js';
import type { DateTimeValue } from '../domain/appointment.js';
import { type ParsedProperty, paramText } from './ical-property.js';
import { encodeParamValue } from './text-values.js';
import { isUtcName, resolveZone } from './timezones.js';

type Time = InstanceType<typeof ICAL.Time>;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z?)$/;

/**
 * One value of a DATE / DATE-TIME property (DTSTART, DTEND, RDATE, EXDATE, RECURRENCE-ID),
 * as ical.js decoded it. A time in a TZID that names UTC is written with Z instead: the same
 * instant, and the form RFC 5545 §3.3.5 prefers.
 * @throws Error when the value is neither (ical.js does not check the digits)
 */
export function dateTimeOf(p: ParsedProperty, value: unknown = p.values[0]): DateTimeValue {
  const text = typeof value === 'string' ? value : '';
  if (p.valueType === 'date' && DATE.test(text) && validFields(text)) return { value: text, tzid: '' };
  if (p.valueType === 'date-time' && DATE_TIME.test(text) && validFields(text)) {
    if (text.endsWith('Z')) return { value: text, tzid: '' };
    const tzid = paramText(p, 'tzid').trim();
    return isUtcName(tzid) ? { value: `${text}Z`, tzid: '' } : { value: text, tzid };
  }
  throw new Error(`${p.name} value ${JSON.stringify(p.raw)} is not a valid DATE or DATE-TIME`);
}

function validFields(text: string): boolean {
  const [, y, mo, d, h = '0', mi = '0', s = '0'] = DATE_TIME.exec(text) ?? DATE.exec(text) ?? [];
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    Number(h) <= 23 &&
    Number(mi) <= 59 &&
    Number(s) <= 60
  );
}

/** Whether the value is a DATE (an all-day value). */
export function isDate(v: DateTimeValue): boolean {
  return v.value.length === 10;
}

/**
 * The property line for a value: `VALUE=DATE` for dates, `TZID=` for zoned times, nothing for
 * UTC and floating times (RFC 5545 §3.3.4-5, §3.8.2.4).
 */
export function dateTimeLine(name: string, v: DateTimeValue): string {
  const basic = v.value.replace(/[-:]/g, '');
  if (isDate(v)) return `${name};VALUE=DATE:${basic}`;
  if (v.tzid !== '' && !v.value.endsWith('Z')) return `${name};TZID=${encodeParamValue(v.tzid)}:${basic}`;
  return `${name}:${basic}`;
}

/**
 * The value as an ical.js Time: a DATE is floating, a UTC time is in UTC, a zoned time in its
 * zone (IANA, else one of `carried` VTIMEZONE texts), else floating.
 */
export function toIcalTime(v: DateTimeValue, carried: readonly string[] = []): Time {
  const m = DATE_TIME.exec(v.value) ?? DATE.exec(v.value);
  if (!m) throw new Error(`not a DATE or DATE-TIME: ${JSON.stringify(v.value)}`);
  const [, y, mo, d, h, mi, s, z] = m;
  const data = { year: Number(y), month: Number(mo), day: Number(d) };
  if (h === undefined) return ICAL.Time.fromData({ ...data, isDate: true });
  const time = { ...data, hour: Number(h), minute: Number(mi), second: Number(s) };
  if (z === 'Z') return ICAL.Time.fromData(time, ICAL.Timezone.utcTimezone);
  const zone = resolveZone(v.tzid, carried);
  return zone ? ICAL.Time.fromData(time, zone) : ICAL.Time.fromData(time);
}

/**
 * Epoch milliseconds of a value. A DATE is its UTC midnight and a floating time is read as
 * UTC (the calendar window only needs a consistent instant); a zoned time whose zone is
 * unknown is read as floating.
 */
export function instantOf(v: DateTimeValue, carried: readonly string[] = []): number {
  return timeInstant(toIcalTime(v, carried));
}

/** Epoch milliseconds of an ical.js Time (floating times read as UTC). */
export function timeInstant(t: Time): number {
  return t.toUnixTime() * 1000;
}

/** An ical.js Time back as a `DateTimeValue` in the given TZID. */
export function fromIcalTime(t: Time, tzid: string): DateTimeValue {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const date = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
  if (t.isDate) return { value: date, tzid: '' };
  const value = `${date}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
  return t.zone === ICAL.Timezone.utcTimezone ? { value: `${value}Z`, tzid: '' } : { value, tzid };
}

/** DTSTAMP text for an instant: UTC, basic format (RFC 5545 §3.8.7.2). */
export function utcStamp(at: Date): string {
  return at
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
}
