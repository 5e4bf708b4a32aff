/**
 * An appointment's normalized, mergeable fields: what decides whether an event changed.
 * Besides what parsing already evens out (folding, line ends, parameter order and case,
 * escaping), this drops what servers and clients stamp on their own.
 */
import ICAL from 'ical.js';
import type {
  Appointment,
  AppointmentOverride,
  Attendee,
  DateTimeValue,
  PrivacyClass,
} from '../domain/appointment.js';
import { LiaisonError } from '../domain/errors.js';
import { canonicalJson, type Fields, type FieldValue } from '../domain/fields.js';
import type { Uid } from '../domain/ids.js';
import { anchorKey, LiveAnchors } from './anchors.js';
import { isDate } from './date-values.js';
import { ATTENDEE_PARAMS, addressOf, encodeAddress, ORGANIZER_PARAMS } from './event-reader.js';
import {
  asRecord,
  type FieldRecord,
  readBoolean,
  readList,
  readRecord,
  readString,
  readStrings,
  sortedSet,
} from './field-readers.js';
import { type NormalizeOptions, renormalize } from './ical-component.js';
import {
  canonicalLine,
  canonicalParams,
  ICALENDAR,
  type ParsedProperty,
  parseProperty,
} from './ical-property.js';
import { clean, cleanMultiline } from './text-values.js';

/**
 * Properties that change without the event changing: stamps (RFC 5545 §3.8.7), the
 * organizer's revision counter SEQUENCE (§3.8.7.4), alarm acknowledgement (RFC 9074 §6),
 * and client or server bookkeeping (Thunderbird's X-MOZ-*, Radicale's X-RADICALE-*,
 * libical's X-LIC-ERROR).
 */
export function rewrittenProperty(name: string): boolean {
  return (
    name === 'DTSTAMP' ||
    name === 'LAST-MODIFIED' ||
    name === 'CREATED' ||
    name === 'SEQUENCE' ||
    name === 'ACKNOWLEDGED' ||
    name === 'X-MOZ-GENERATION' ||
    name === 'X-MOZ-LASTACK' ||
    name.startsWith('X-MOZ-SNOOZE-TIME') ||
    name.startsWith('X-MOZ-RECEIVED-') ||
    name.startsWith('X-RADICALE-') ||
    name === 'X-LIC-ERROR'
  );
}

/** SCHEDULE-STATUS is written by the scheduling server, never by a client (RFC 6638 §7.3). */
const SERVER_PARAMS: ReadonlySet<string> = new Set(['schedule-status']);

const NORMALIZE: NormalizeOptions = { dropProperty: rewrittenProperty, omitParams: SERVER_PARAMS };

/** The normalized fields of an appointment (no uid). Equal content gives equal fields. */
export function appointmentFields(a: Appointment): Fields {
  const organizer = normalizeAddress(a.organizer);
  const attendees = a.attendees.map(attendeeField);
  const live = new LiveAnchors([
    ...(organizer === '' ? [] : [anchorKey('ORGANIZER', encodeAddress(organizer))]),
    ...attendees.map((at) => anchorKey('ATTENDEE', encodeAddress(at.email))),
  ]);
  return {
    summary: clean(a.summary),
    location: clean(a.location),
    description: cleanMultiline(a.description),
    start: dateField(a.start),
    end: a.end ? dateField(a.end) : null,
    // iCalendar has no all-day flag: a DATE start is one (RFC 5545 §3.6.1), so the field follows it.
    allDay: isDate(a.start),
    rrule: normalizeRrule(a.rrule),
    rdates: dateList(a.rdates),
    exdates: dateList(a.exdates),
    overrides: a.overrides
      .map(
        (o): FieldValue => ({
          recurrenceId: dateField(o.recurrenceId),
          component: renormalize(o.component, NORMALIZE),
        }),
      )
      .sort(byJson),
    organizer,
    attendees: attendees.sort(byJson),
    categories: sortedSet(a.categories.map(clean)),
    // RFC 5545 §3.8.1.3: PUBLIC is the default.
    privacy: a.privacy === 'PUBLIC' ? '' : a.privacy,
    alarms: sortedSet(a.alarms.map((t) => renormalize(t, NORMALIZE))),
    extra: sortedSet(a.extra.map((line) => normalizeExtra(line, live)).filter((l) => l !== undefined)),
    timezones: sortedSet(a.timezones.map((t) => renormalize(t, NORMALIZE))),
  };
}

function byJson(a: FieldValue, b: FieldValue): number {
  const ja = canonicalJson(a);
  const jb = canonicalJson(b);
  return ja < jb ? -1 : ja > jb ? 1 : 0;
}

function dateField(d: DateTimeValue): FieldValue {
  return { value: d.value, tzid: d.tzid };
}

function dateList(list: readonly DateTimeValue[]): FieldValue[] {
  const unique = new Map(list.map((d) => [`${d.value}|${d.tzid}`, d]));
  return [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => dateField(d));
}

/** The RRULE in ical.js's canonical text; a rule ical.js cannot read is kept, upper case. */
function normalizeRrule(rrule: string): string {
  const text = rrule.trim().toUpperCase();
  if (text === '') return '';
  try {
    return ICAL.Recur.fromString(text).toString();
  } catch {
    return text;
  }
}

/** An address as held, with an e-mail address (no scheme) in lower case. */
function normalizeAddress(address: string): string {
  const value = clean(address);
  return value.includes(':') ? value : value.toLowerCase();
}

/** Attendee with RFC 5545 §3.2.16/§3.2.12 defaults spelled out, so an explicit default is no change. */
function attendeeField(at: Attendee): {
  email: string;
  name: string;
  role: string;
  partstat: string;
  rsvp: boolean;
} {
  return {
    email: normalizeAddress(at.email),
    name: clean(at.name),
    role: clean(at.role).toUpperCase() || 'REQ-PARTICIPANT',
    partstat: clean(at.partstat).toUpperCase() || 'NEEDS-ACTION',
    rsvp: at.rsvp,
  };
}

/**
 * An extra line (or extra component text) in canonical form, or undefined when it does not
 * count: a rewritten property, or an anchor left with nothing but server-written parameters.
 */
function normalizeExtra(line: string, live: LiveAnchors): string | undefined {
  if (line.includes('\n')) return renormalize(line, NORMALIZE);
  let p: ParsedProperty;
  try {
    p = parseProperty(line, ICALENDAR);
  } catch {
    return clean(line);
  }
  if (rewrittenProperty(p.name)) return undefined;
  const modelled =
    p.name === 'ATTENDEE' ? ATTENDEE_PARAMS : p.name === 'ORGANIZER' ? ORGANIZER_PARAMS : undefined;
  if (!modelled) return canonicalLine(p, { omit: SERVER_PARAMS });
  const value = encodeAddress(normalizeAddress(addressOf(p.raw)));
  if (!live.take(anchorKey(p.name, value))) return undefined;
  const omit = new Set([...modelled, ...SERVER_PARAMS]);
  if (p.group === '' && canonicalParams(p, omit).length === 0) return undefined;
  return canonicalLine(p, { omit, value });
}

const PRIVACY: readonly PrivacyClass[] = ['PUBLIC', 'PRIVATE', 'CONFIDENTIAL', ''];

/**
 * Rebuilds an appointment from (merged) fields.
 * @throws LiaisonError `InvalidData` when a field has the wrong shape or no start
 */
export function appointmentFromFields(uid: Uid, f: Fields): Appointment {
  const start = readRecord(f, 'start');
  if (!start) throw new LiaisonError('InvalidData', 'field start is missing');
  const end = readRecord(f, 'end');
  const privacy = readString(f, 'privacy');
  if (!PRIVACY.includes(privacy as PrivacyClass)) {
    throw new LiaisonError(
      'InvalidData',
      `field privacy should be PUBLIC, PRIVATE, CONFIDENTIAL or '', not ${privacy}`,
    );
  }
  const startValue = readDate(start, 'start');
  return {
    uid,
    summary: readString(f, 'summary'),
    location: readString(f, 'location'),
    description: readString(f, 'description'),
    start: startValue,
    end: end ? readDate(end, 'end') : null,
    allDay: isDate(startValue),
    rrule: readString(f, 'rrule'),
    rdates: readList(f, 'rdates').map((v, i) => readDate(asRecord(v, `rdates[${i}]`), `rdates[${i}]`)),
    exdates: readList(f, 'exdates').map((v, i) => readDate(asRecord(v, `exdates[${i}]`), `exdates[${i}]`)),
    overrides: readList(f, 'overrides').map((v, i) => readOverride(asRecord(v, `overrides[${i}]`), i)),
    organizer: readString(f, 'organizer'),
    attendees: readList(f, 'attendees').map((v, i) => readAttendee(asRecord(v, `attendees[${i}]`), i)),
    categories: readStrings(f, 'categories'),
    privacy: privacy as PrivacyClass,
    alarms: readStrings(f, 'alarms'),
    extra: readStrings(f, 'extra'),
    timezones: readStrings(f, 'timezones'),
  };
}

function readDate(r: FieldRecord, path: string): DateTimeValue {
  return { value: readString(r, 'value', `${path}.value`), tzid: readString(r, 'tzid', `${path}.tzid`) };
}

function readOverride(r: FieldRecord, i: number): AppointmentOverride {
  const rid = readRecord(r, 'recurrenceId', `overrides[${i}].recurrenceId`);
  if (!rid) throw new LiaisonError('InvalidData', `field overrides[${i}].recurrenceId is missing`);
  return {
    recurrenceId: readDate(rid, `overrides[${i}].recurrenceId`),
    component: readString(r, 'component', `overrides[${i}].component`),
  };
}

function readAttendee(r: FieldRecord, i: number): Attendee {
  const at = (k: string) => readString(r, k, `attendees[${i}].${k}`);
  return {
    email: at('email'),
    name: at('name'),
    role: at('role'),
    partstat: at('partstat'),
    rsvp: readBoolean(r, 'rsvp', `attendees[${i}].rsvp`),
  };
}
