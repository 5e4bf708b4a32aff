import { LiaisonError } from '../domain/errors.js';
import type { CollectionKind } from '../domain/ids.js';
import { COLLECTION_KINDS } from '../domain/ids.js';
import type { MarkerNote } from './port.js';

/**
 * The sync marker as an iCalendar note (SPEC §5): one VJOURNAL whose X- properties hold
 * the last sync time of each collection. X- properties are kept by servers and not shown
 * by clients (RFC 5545 §3.8.8.2), and a VJOURNAL never appears in an address book or an
 * event view. The text is built by hand because its shape is fixed; it is parsed back
 * leniently about layout (folding, line endings, case, parameters) and strictly about
 * content, so that a note someone edited badly is reported rather than guessed at.
 */

/** UID of the marker note; fixed so a re-created note replaces the old one on a server. */
export const MARKER_UID = 'liaison-sync-marker';

/** Name of the property that holds the last sync time of `kind`. */
export function markerProperty(kind: CollectionKind): string {
  return `X-LIAISON-LAST-SYNC-${kind.toUpperCase()}`;
}

const SUMMARY = 'Liaison sync marker - do not delete';
const DESCRIPTION =
  'This note records when Liaison last synchronized this mailbox with the firm database. ' +
  'Do not edit or delete it: without it Liaison stops syncing this mailbox until an ' +
  'administrator runs a recovery.';

/** Formats the marker note as iCalendar text (CRLF line ends, lines folded at 75 octets). */
export function formatMarkerNote(note: MarkerNote, now: Date = new Date()): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Liaison//Sync marker//EN',
    'BEGIN:VJOURNAL',
    `UID:${MARKER_UID}`,
    `DTSTAMP:${utcStamp(now)}`,
    `SUMMARY:${escapeText(SUMMARY)}`,
    `DESCRIPTION:${escapeText(DESCRIPTION)}`,
    'CLASS:PRIVATE',
  ];
  for (const kind of COLLECTION_KINDS) {
    const value = note.collections[kind];
    if (value !== undefined) lines.push(`${markerProperty(kind)}:${escapeText(value)}`);
  }
  lines.push('END:VJOURNAL', 'END:VCALENDAR');
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

/**
 * Parses a marker note. Throws `InvalidData` (with the reason) when the text is not one
 * VCALENDAR holding a VJOURNAL, or when a collection's time is empty or given twice:
 * the caller must then treat the mailbox as out of sync instead of guessing.
 */
export function parseMarkerNote(text: string): MarkerNote {
  const lines = unfold(text);
  const fail = (reason: string) => new LiaisonError('InvalidData', `unreadable sync marker note: ${reason}`);
  const stack: string[] = [];
  let journals = 0;
  let sawCalendar = false;
  const collections: Partial<Record<CollectionKind, string>> = {};
  for (const line of lines) {
    const parsed = splitContentLine(line);
    if (parsed === null) throw fail(`malformed line "${line.slice(0, 40)}"`);
    const { name, value } = parsed;
    if (name === 'BEGIN') {
      const component = value.toUpperCase();
      if (stack.length === 0 && component !== 'VCALENDAR') throw fail(`starts with ${component}`);
      if (stack.length === 0 && sawCalendar) throw fail('more than one VCALENDAR');
      if (component === 'VCALENDAR') sawCalendar = true;
      if (component === 'VJOURNAL' && stack.length === 1) journals += 1;
      stack.push(component);
      continue;
    }
    if (name === 'END') {
      if (stack.pop() !== value.toUpperCase()) throw fail(`unbalanced END:${value}`);
      continue;
    }
    if (stack.length === 0) throw fail(`property ${name} outside VCALENDAR`);
    if (stack.length !== 2 || stack[1] !== 'VJOURNAL') continue;
    const kind = COLLECTION_KINDS.find((k) => markerProperty(k) === name);
    if (kind === undefined) continue;
    if (collections[kind] !== undefined) throw fail(`${name} appears twice`);
    const time = unescapeText(value);
    if (time.trim() === '') throw fail(`${name} is empty`);
    collections[kind] = time;
  }
  if (!sawCalendar) throw fail('no VCALENDAR');
  if (stack.length !== 0) throw fail(`${stack.at(-1)} is not closed`);
  if (journals !== 1) throw fail(`expected one VJOURNAL, found ${journals}`);
  return { collections };
}

/** RFC 5545 §3.1: a line break followed by a space or tab continues the previous line. */
function unfold(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .replace(/\r\n|\r/g, '\n')
    .replace(/\n[ \t]/g, '')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** Splits `NAME;PARAM="a:b":value` at the first colon outside a quoted parameter value. */
function splitContentLine(line: string): { name: string; value: string } | null {
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const ch = line[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === ':' && !quoted) {
      const name = (line.slice(0, i).split(';')[0] ?? '').trim().toUpperCase();
      if (!/^[A-Z0-9-]+$/.test(name)) return null;
      return { name, value: line.slice(i + 1) };
    }
  }
  return null;
}

/** RFC 5545 §3.3.11 TEXT escaping. */
function escapeText(value: string): string {
  return value.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\r\n|\r|\n/g, '\\n');
}

function unescapeText(value: string): string {
  return value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

/** RFC 5545 §3.1: fold lines longer than 75 octets, never inside a UTF-8 sequence. */
function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const ch of line) {
    const size = Buffer.byteLength(ch, 'utf8');
    // Continuation lines start with a space, which counts against their 75 octets.
    const limit = parts.length === 0 ? 75 : 74;
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += ch;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

function utcStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
