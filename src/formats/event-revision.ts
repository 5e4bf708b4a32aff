/**
 * The revision bookkeeping of a stored event, carried into the text that replaces it.
 *
 * SEQUENCE (RFC 5545 §3.8.7.4) and CREATED change without the event changing, so they are
 * not part of an appointment's fields, and an event rebuilt from merged fields has neither.
 * Written over the mailbox's copy like that, a meeting would fall back to SEQUENCE 0: the
 * organizer's client then sends its next update with a lower number than the attendees
 * have seen, and their clients may ignore it as outdated. So before Liaison replaces an
 * event, the stored copy's values are put back, component by component (the master, and
 * each overridden occurrence by its RECURRENCE-ID).
 */
import { joinFolded, propertyName, rawValue, unfoldLines } from './content-lines.js';

/** Kept from the stored copy; a higher stored SEQUENCE also replaces a lower written one. */
const KEPT = ['SEQUENCE', 'CREATED'] as const;

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

/** The kept lines of each VEVENT of `text`, by the value of its RECURRENCE-ID ('' for the master). */
function keptLines(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let lines = new Map<string, string>();
  for (const l of eventLines(text)) {
    if (l.rid === null) continue;
    if (l.endsEvent) {
      out.set(l.rid, lines);
      lines = new Map();
    } else if ((KEPT as readonly string[]).includes(l.name)) lines.set(l.name, l.line);
  }
  return out;
}

function sequenceOf(line: string | undefined): number {
  const n = line === undefined ? Number.NaN : Number.parseInt(rawValue(line).trim(), 10);
  return Number.isFinite(n) ? n : -1;
}

/**
 * `written` (an event about to replace `stored`) with the stored copy's SEQUENCE and CREATED
 * in each of its VEVENTs that has the stored one's RECURRENCE-ID. `written` is returned
 * as it is when the stored copy has nothing to keep.
 */
export function keepStoredRevision(written: string, stored: string): string {
  const kept = keptLines(stored);
  if ([...kept.values()].every((m) => m.size === 0)) return written;
  const out: string[] = [];
  let own = new Map<string, number>();
  for (const l of eventLines(written)) {
    if (l.endsEvent && l.rid !== null) {
      // The component's lines are all out: what it lacks of the stored copy's goes last.
      for (const [property, line] of kept.get(l.rid) ?? []) {
        const at = own.get(property);
        if (at === undefined) out.push(line);
        else if (property === 'SEQUENCE' && sequenceOf(line) > sequenceOf(out[at])) out[at] = line;
      }
      own = new Map();
    } else if (l.rid !== null && (KEPT as readonly string[]).includes(l.name)) own.set(l.name, out.length);
    out.push(l.line);
  }
  return joinFolded(out);
}
