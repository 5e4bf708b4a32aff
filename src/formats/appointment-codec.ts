import type { Appointment } from '../domain/appointment.js';
import type { ItemCodec } from '../domain/codec.js';
import { appointmentFields, appointmentFromFields } from './appointment-fields.js';
import { alignMoves } from './appointment-moves.js';
import { contentHash } from './content-hash.js';
import { instantOf } from './date-values.js';
import { keepStoredRevision } from './event-revision.js';
import { appointmentSpan } from './event-span.js';
import { parseEvent, serializeEvent } from './icalendar.js';
import { clean } from './text-values.js';

/**
 * First-sync match keys of an event, strongest tier first (SPEC §4 First sync): [uid], then
 * [normalized summary + start], the start being the UTC instant (`YYYY-MM-DDTHH:MM:SSZ`) or,
 * for an all-day event, its date.
 */
export function appointmentMatchKeys(a: Appointment): string[][] {
  const summary = clean(a.summary).replace(/\s+/g, ' ').toLowerCase();
  const start = a.allDay
    ? a.start.value
    : new Date(instantOf(a.start, a.timezones)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return [[`uid:${a.uid}`], [`event:${summary}|${start}`]];
}

/** The appointment codec: iCalendar text in and out, normalized fields, hash, match keys and span. */
export const appointmentCodec: ItemCodec<Appointment> = {
  kind: 'calendar',
  parse: parseEvent,
  serialize: (a) => serializeEvent(a),
  fields: appointmentFields,
  fromFields: appointmentFromFields,
  keepFromStored: keepStoredRevision,
  alignForMerge: alignMoves,
  hash: contentHash,
  // CONFIDENTIAL is stricter than PRIVATE (RFC 5545 §3.8.1.3), so it is kept private too.
  isPrivate: (a) => a.privacy === 'PRIVATE' || a.privacy === 'CONFIDENTIAL',
  matchKeys: appointmentMatchKeys,
  span: appointmentSpan,
};
