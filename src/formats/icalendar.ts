/**
 * iCalendar (RFC 5545) calendar object resources holding one event, in and out.
 */
import type { Appointment, AppointmentOverride } from '../domain/appointment.js';
import { errorMessage, LiaisonError } from '../domain/errors.js';
import { asUid, type Uid } from '../domain/ids.js';
import { Anchors, writeAnchored } from './anchors.js';
import {
  buildComponents,
  excerpt,
  joinFolded,
  propertyName,
  type RawComponent,
  unfoldLines,
  valueStart,
} from './content-lines.js';
import { dateTimeLine, dateTimeOf, utcStamp } from './date-values.js';
import { EventReader, encodeAddress, STAMPS } from './event-reader.js';
import { normalizeComponent, readComponent } from './ical-component.js';
import { ICALENDAR, type ParsedProperty, paramText, parseProperty } from './ical-property.js';
import { LIAISON_PRODID } from './product-id.js';
import { decodeText, encodeParamValue, escapeText } from './text-values.js';
import { ianaVtimezone, isIanaZone, isUtcName, tzidOfLines, vtimezoneId } from './timezones.js';

/** VEVENT properties whose unmodelled parameters are kept as anchors in `extra`. */
export const EVENT_ANCHORED: ReadonlySet<string> = new Set(['ORGANIZER', 'ATTENDEE']);

/**
 * Parses a calendar object resource holding one event: a master VEVENT and any overridden
 * instances (VEVENTs with RECURRENCE-ID) sharing its UID, with the VTIMEZONEs they use.
 *
 * @param fallbackUid used when the event has no UID
 * @throws LiaisonError `Unsupported` for a task (VTODO) or journal entry (VJOURNAL);
 *   `InvalidData` when the text is not readable iCalendar, holds no VEVENT,
 *   holds other kinds of components (RFC 4791 §4.1 allows one kind per resource), or holds
 *   more than one event
 */
/** Calendar components that are not events, which a calendar collection may also hold. */
const NOT_EVENTS: ReadonlySet<string> = new Set(['VTODO', 'VJOURNAL']);

export function parseEvent(text: string, fallbackUid: Uid): Appointment {
  const calendar = readCalendar(text);
  const events = calendar.children.filter((c) => c.name === 'VEVENT');
  const zones = calendar.children.filter((c) => c.name === 'VTIMEZONE');
  const other = calendar.children.find((c) => c.name !== 'VEVENT' && c.name !== 'VTIMEZONE');
  if (events.length === 0) {
    // A calendar may hold tasks and journal entries beside its events (RFC 4791 §5.2.3):
    // well-formed, and not Liaison's to sync.
    if (other && NOT_EVENTS.has(other.name)) {
      throw new LiaisonError(
        'Unsupported',
        `a ${other.name}, not an event: calendar sync carries events only`,
      );
    }
    const held = other ? `it holds ${other.name}` : 'it holds no component';
    throw new LiaisonError('InvalidData', `calendar object has no VEVENT: ${held}`);
  }
  if (other) {
    throw new LiaisonError(
      'InvalidData',
      `calendar object mixes VEVENT with ${other.name}; one kind per object`,
    );
  }
  const parsed = events.map((e) => ({ raw: e, props: readProperties(e) }));
  const masters = parsed.filter((e) => !e.props.some((p) => p.name === 'RECURRENCE-ID'));
  if (masters.length !== 1) {
    const what =
      masters.length === 0
        ? 'only overridden instances (RECURRENCE-ID) and no master VEVENT'
        : `${masters.length} VEVENTs without RECURRENCE-ID; one object holds one event`;
    throw new LiaisonError('InvalidData', `calendar object holds ${what}`);
  }
  const master = masters[0]!;
  const reader = new EventReader();
  for (const p of master.props) reader.add(p);
  for (const c of master.raw.children) reader.addComponent(c);
  // A master without UID takes its instances' UID before the fallback.
  const instanceUid = parsed.flatMap((e) => e.props).find((p) => p.name === 'UID');
  const parts = reader.parts(asUid((instanceUid ? decodeText(instanceUid.raw).trim() : '') || fallbackUid));
  const tzids = new Set(reader.tzids);
  const overrides = parsed
    .filter((e) => e !== master)
    .map((e) => readOverride(e.raw, e.props, parts.uid, tzids))
    .sort(compareOverrides);
  return { ...parts, overrides, timezones: carriedZones(zones, tzids) };
}

function readCalendar(text: string): RawComponent {
  if (text.trim() === '') throw new LiaisonError('InvalidData', 'not iCalendar: the text is empty');
  const lines = unfoldLines(text);
  if (!lines.some((l) => /^BEGIN:VCALENDAR$/i.test(l.trim()))) {
    throw new LiaisonError(
      'InvalidData',
      `not iCalendar: no BEGIN:VCALENDAR line (starts with ${excerpt(lines[0] ?? '')})`,
    );
  }
  const roots = buildComponents(lines, 'iCalendar');
  const [calendar, ...more] = roots;
  if (calendar?.name !== 'VCALENDAR' || more.length > 0) {
    throw new LiaisonError('InvalidData', `not one VCALENDAR: found ${roots.map((r) => r.name).join(', ')}`);
  }
  return calendar;
}

function readProperties(c: RawComponent): ParsedProperty[] {
  return c.lines.map((line, index) => {
    try {
      return parseProperty(recurUpperCase(line), ICALENDAR);
    } catch (e) {
      throw new LiaisonError(
        'InvalidData',
        `${c.name} property ${index + 1} cannot be read (${errorMessage(e)}): ${excerpt(line)}`,
        { cause: e },
      );
    }
  });
}

/**
 * A recurrence rule's parts are case-insensitive (RFC 5545 §3.1), but ical.js only reads them
 * upper case; nothing in a rule is case-sensitive, so the value is upper-cased before reading.
 */
function recurUpperCase(line: string): string {
  if (!/^(RRULE|EXRULE)[;:]/i.test(line)) return line;
  const at = valueStart(line);
  return at < 0 ? line : line.slice(0, at + 1) + line.slice(at + 1).toUpperCase();
}

/** An overridden instance: its RECURRENCE-ID and its normalized text without UID and stamps. */
function readOverride(
  raw: RawComponent,
  props: ParsedProperty[],
  uid: string,
  tzids: Set<string>,
): AppointmentOverride {
  const ownUid = props.find((p) => p.name === 'UID');
  if (ownUid && decodeText(ownUid.raw).trim() !== uid) {
    // RFC 4791 §4.1: all components of one calendar object resource share one UID.
    throw new LiaisonError(
      'InvalidData',
      `overridden instance has UID ${excerpt(ownUid.raw)}, not the event's`,
    );
  }
  const rid = props.find((p) => p.name === 'RECURRENCE-ID')!;
  let recurrenceId: AppointmentOverride['recurrenceId'];
  try {
    recurrenceId = dateTimeOf(rid);
  } catch (e) {
    throw new LiaisonError('InvalidData', errorMessage(e), { cause: e });
  }
  const component = normalizeComponent(raw, {
    dropProperty: (n) => STAMPS.has(n),
    dropTopLevel: new Set(['UID']),
    tzids,
  });
  return { recurrenceId, component };
}

function compareOverrides(a: AppointmentOverride, b: AppointmentOverride): number {
  const ka = `${a.recurrenceId.value}|${a.component}`;
  const kb = `${b.recurrenceId.value}|${b.component}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * The VTIMEZONEs to carry: those the event refers to whose TZID is not an IANA zone. An IANA
 * zone is written from current data instead, even when the feed's definition is broken.
 */
function carriedZones(zones: readonly RawComponent[], tzids: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const tzid of [...tzids].sort()) {
    if (isUtcName(tzid) || isIanaZone(tzid)) continue;
    const zone = zones.find((z) => tzidOfLines(z.lines) === tzid);
    if (zone) out.push(normalizeComponent(zone));
  }
  return out;
}

/** Options for {@link serializeEvent}. */
export interface SerializeEventOptions {
  /** The DTSTAMP to write (RFC 5545 §3.8.7.2: when the object was last revised); default now. */
  readonly now?: Date;
}

/**
 * Serializes an appointment as a VCALENDAR 2.0 object: CRLF line ends, lines folded at 75
 * octets (RFC 5545 §3.1), a VTIMEZONE for every IANA TZID used (current data) plus the carried
 * ones, the master VEVENT, then the overridden instances.
 */
export function serializeEvent(a: Appointment, options: SerializeEventOptions = {}): string {
  const stamp = `DTSTAMP:${utcStamp(options.now ?? new Date())}`;
  const lines = ['BEGIN:VCALENDAR', 'VERSION:2.0', `PRODID:${LIAISON_PRODID}`];
  const carried = new Set(a.timezones.map(vtimezoneId));
  for (const tzid of [...usedTzids(a)].sort()) {
    if (carried.has(tzid) || isUtcName(tzid)) continue;
    const text = ianaVtimezone(tzid);
    if (text !== undefined) lines.push(...text.split('\r\n'));
  }
  for (const zone of a.timezones) lines.push(...zone.split('\r\n'));
  lines.push('BEGIN:VEVENT', `UID:${escapeText(a.uid)}`, stamp, ...masterLines(a), 'END:VEVENT');
  for (const o of a.overrides) lines.push(...overrideLines(o.component, a.uid, stamp));
  lines.push('END:VCALENDAR');
  return joinFolded(lines);
}

function masterLines(a: Appointment): string[] {
  const anchors = new Anchors(a.extra, EVENT_ANCHORED, ICALENDAR);
  const lines = [dateTimeLine('DTSTART', a.start)];
  if (a.end) lines.push(dateTimeLine('DTEND', a.end));
  if (a.summary !== '') lines.push(`SUMMARY:${escapeText(a.summary)}`);
  if (a.location !== '') lines.push(`LOCATION:${escapeText(a.location)}`);
  if (a.description !== '') lines.push(`DESCRIPTION:${escapeText(a.description)}`);
  if (a.privacy !== '') lines.push(`CLASS:${a.privacy}`);
  if (a.categories.length > 0) lines.push(`CATEGORIES:${a.categories.map(escapeText).join(',')}`);
  if (a.rrule !== '') lines.push(`RRULE:${a.rrule}`);
  for (const d of a.rdates) lines.push(dateTimeLine('RDATE', d));
  for (const d of a.exdates) lines.push(dateTimeLine('EXDATE', d));
  if (a.organizer !== '') lines.push(writeAnchored(anchors, 'ORGANIZER', [], encodeAddress(a.organizer)));
  for (const at of a.attendees) {
    const params: string[] = [];
    if (at.name !== '') params.push(`CN=${encodeParamValue(at.name)}`);
    if (at.role !== '') params.push(`ROLE=${encodeParamValue(at.role)}`);
    if (at.partstat !== '') params.push(`PARTSTAT=${encodeParamValue(at.partstat)}`);
    if (at.rsvp) params.push('RSVP=TRUE');
    lines.push(writeAnchored(anchors, 'ATTENDEE', params, encodeAddress(at.email)));
  }
  for (const x of a.extra) {
    const name = propertyName(x);
    if (!EVENT_ANCHORED.has(name) && !STAMPS.has(name) && name !== 'UID') lines.push(...x.split('\r\n'));
  }
  for (const alarm of a.alarms) lines.push(...alarm.split('\r\n'));
  return lines;
}

/** An override's lines with the event's UID and a fresh DTSTAMP (both required, RFC 5545 §3.6.1). */
function overrideLines(component: string, uid: string, stamp: string): string[] {
  const [begin = 'BEGIN:VEVENT', ...rest] = component.split('\r\n');
  let depth = 0;
  const body = rest.filter((line) => {
    if (/^BEGIN:/i.test(line)) depth++;
    if (/^END:/i.test(line)) depth--;
    const name = propertyName(line);
    return !(depth === 0 && (name === 'UID' || STAMPS.has(name)));
  });
  return [begin, `UID:${escapeText(uid)}`, stamp, ...body];
}

/** Every TZID the appointment uses: its own dates and those in the overridden instances. */
export function usedTzids(a: Appointment): Set<string> {
  const out = new Set<string>();
  for (const d of [a.start, ...(a.end ? [a.end] : []), ...a.rdates, ...a.exdates]) {
    if (d.tzid !== '') out.add(d.tzid);
  }
  for (const o of a.overrides) {
    if (o.recurrenceId.tzid !== '') out.add(o.recurrenceId.tzid);
    collectTzids(readComponent(o.component), out);
  }
  return out;
}

function collectTzids(c: RawComponent | undefined, into: Set<string>): void {
  if (!c) return;
  for (const line of c.lines) {
    try {
      const tzid = paramText(parseProperty(line, ICALENDAR), 'tzid');
      if (tzid !== '') into.add(tzid);
    } catch {
      // A line ical.js cannot read names no zone we could supply.
    }
  }
  for (const child of c.children) collectTzids(child, into);
}
