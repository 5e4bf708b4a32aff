/**
 * The revision bookkeeping of a stored event, carried into the text that replaces it.
 *
 * SEQUENCE (RFC 5545 §3.8.7.4) and CREATED change without the event changing, so they are
 * not part of an appointment's fields, and an event rebuilt from merged fields has neither.
 * Written over the mailbox's copy like that, a meeting would fall back to SEQUENCE 0: the
 * organizer's client then sends its next update with a lower number than the attendees
 * have seen, and their clients may ignore it as outdated. So before Liaison replaces an
 * event, the stored copy's values are put back, component by component (the master, and
 * each overridden occurrence by its RECURRENCE-ID, or by its place among them when the
 * series moved and renamed them all), and SEQUENCE goes up by one where the time changed
 * (a "significant revision": DTSTART, DTEND, DURATION, RRULE, RDATE, EXDATE, STATUS).
 */
import { joinFolded, propertyName, rawValue, unfoldLines, valueStart } from './content-lines.js';

/** Kept from the stored copy; a higher stored SEQUENCE also replaces a lower written one. */
const KEPT = ['SEQUENCE', 'CREATED'] as const;

/** Properties whose change is a significant revision, which raises SEQUENCE (RFC 5545 §3.8.7.4). */
const SIGNIFICANT: ReadonlySet<string> = new Set([
  'DTSTART',
  'DTEND',
  'DURATION',
  'RRULE',
  'RDATE',
  'EXDATE',
  'STATUS',
]);

/** One unfolded line of an iCalendar text, with the VEVENT (if any) it belongs to. */
interface EventLine {
  readonly line: string;
  readonly name: string;
  /** The RECURRENCE-ID value of the VEVENT it is in ('' for the master, so far); null outside one. */
  readonly rid: string | null;
  /** Whether this is the END of that VEVENT. */
  readonly endsEvent: boolean;
}

/** The lines of `text`, each with its VEVENT; lines of components inside a VEVENT (VALARM) count as outside. */
function* eventLines(text: string): Generator<EventLine> {
  let depth = 0;
  let rid: string | null = null;
  for (const line of unfoldLines(text)) {
    const name = propertyName(line);
    if (name === 'BEGIN') {
      depth += 1;
      if (depth === 2 && rawValue(line).trim().toUpperCase() === 'VEVENT') rid = '';
      yield { line, name, rid: depth === 2 ? rid : null, endsEvent: false };
    } else if (name === 'END') {
      const endsEvent = depth === 2 && rid !== null;
      yield { line, name, rid: depth === 2 ? rid : null, endsEvent };
      if (endsEvent) rid = null;
      depth -= 1;
    } else {
      if (depth === 2 && rid !== null && name === 'RECURRENCE-ID') rid = rawValue(line).trim();
      yield { line, name, rid: depth === 2 ? rid : null, endsEvent: false };
    }
  }
}

/** One VEVENT of a text: its kept lines, and its significant lines in a comparable form. */
interface EventPart {
  readonly kept: Map<string, string>;
  readonly significant: string[];
}

/** The VEVENTs of `text` by the value of their RECURRENCE-ID ('' for the master). */
function eventParts(text: string): Map<string, EventPart> {
  const out = new Map<string, EventPart>();
  let part: EventPart = { kept: new Map(), significant: [] };
  for (const l of eventLines(text)) {
    if (l.rid === null) continue;
    if (l.endsEvent) {
      out.set(l.rid, { kept: part.kept, significant: part.significant.sort() });
      part = { kept: new Map(), significant: [] };
    } else if ((KEPT as readonly string[]).includes(l.name)) part.kept.set(l.name, l.line);
    else if (SIGNIFICANT.has(l.name)) part.significant.push(comparable(l.line));
  }
  return out;
}

/** A content line with its parameters sorted and unquoted, so that spelling does not count. */
function comparable(line: string): string {
  const colon = valueStart(line);
  const [name = '', ...params] = line.slice(0, colon).split(';');
  const sorted = params.map((p) => p.replace(/"/g, '').toUpperCase()).sort();
  return `${[name.toUpperCase(), ...sorted].join(';')}:${line.slice(colon + 1).trim()}`;
}

function sequenceOf(line: string | undefined): number {
  const n = line === undefined ? Number.NaN : Number.parseInt(rawValue(line).trim(), 10);
  return Number.isFinite(n) ? n : -1;
}

/**
 * For each overridden occurrence of `written`, the RECURRENCE-ID of the stored one it
 * replaces: its own, or — when a move renamed them all — the one at its place in order.
 */
function storedRids(written: Map<string, EventPart>, stored: Map<string, EventPart>): Map<string, string> {
  const mine = [...written.keys()].filter((r) => r !== '').sort();
  const theirs = [...stored.keys()].filter((r) => r !== '').sort();
  const byPlace = mine.length === theirs.length;
  return new Map(mine.map((r, i) => [r, stored.has(r) || !byPlace ? r : (theirs[i] ?? r)]));
}

/**
 * `written` (an event about to replace `stored`) with the stored copy's SEQUENCE and CREATED
 * in each of its VEVENTs that replaces a stored one, SEQUENCE one higher where the VEVENT's
 * time changed. `written` is returned as it is when the stored copy has nothing to keep and
 * no time changed.
 */
export function keepStoredRevision(written: string, stored: string): string {
  const before = eventParts(stored);
  const after = eventParts(written);
  const ridOf = storedRids(after, before);
  const out: string[] = [];
  let own = new Map<string, number>();
  let changed = false;
  for (const l of eventLines(written)) {
    if (l.endsEvent && l.rid !== null) {
      const old = before.get(ridOf.get(l.rid) ?? l.rid);
      if (old !== undefined) {
        const revised = old.significant.join('\n') !== (after.get(l.rid)?.significant ?? []).join('\n');
        // The component's lines are all out: what it lacks of the stored copy's goes last.
        for (const [property, line] of old.kept) {
          if (property === 'SEQUENCE') continue;
          if (!own.has(property)) {
            out.push(line);
            changed = true;
          }
        }
        // No SEQUENCE is SEQUENCE 0 (RFC 5545 §3.8.7.4).
        const storedSequence = Math.max(0, sequenceOf(old.kept.get('SEQUENCE')));
        const at = own.get('SEQUENCE');
        const sequence = Math.max(
          storedSequence + (revised ? 1 : 0),
          sequenceOf(at === undefined ? undefined : out[at]),
        );
        if (sequence > 0 && (at === undefined || sequence !== sequenceOf(out[at]))) {
          if (at === undefined) out.push(`SEQUENCE:${sequence}`);
          else out[at] = `SEQUENCE:${sequence}`;
          changed = true;
        }
      }
      own = new Map();
    } else if (l.rid !== null && (KEPT as readonly string[]).includes(l.name)) own.set(l.name, out.length);
    out.push(l.line);
  }
  return changed ? joinFolded(out) : written;
}
