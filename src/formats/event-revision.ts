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

/** The kept lines of each VEVENT of `text`, by the value of its RECURRENCE-ID ('' for the master). */
function keptLines(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let depth = 0;
  let inEvent = false;
  let rid = '';
  let lines = new Map<string, string>();
  for (const line of unfoldLines(text)) {
    const name = propertyName(line);
    if (name === 'BEGIN') {
      depth += 1;
      if (rawValue(line).trim().toUpperCase() === 'VEVENT' && depth === 2) {
        inEvent = true;
        rid = '';
        lines = new Map();
      }
    } else if (name === 'END') {
      if (inEvent && depth === 2) {
        out.set(rid, lines);
        inEvent = false;
      }
      depth -= 1;
    } else if (inEvent && depth === 2) {
      if (name === 'RECURRENCE-ID') rid = rawValue(line).trim();
      else if ((KEPT as readonly string[]).includes(name)) lines.set(name, line);
    }
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
  let depth = 0;
  let inEvent = false;
  let rid = '';
  let own = new Map<string, number>();
  for (const line of unfoldLines(written)) {
    const name = propertyName(line);
    if (name === 'BEGIN') {
      depth += 1;
      if (rawValue(line).trim().toUpperCase() === 'VEVENT' && depth === 2) {
        inEvent = true;
        rid = '';
        own = new Map();
      }
    } else if (name === 'END' && inEvent && depth === 2) {
      // The component's lines are all out: what it lacks of the stored copy's goes last.
      for (const [property, line] of kept.get(rid) ?? []) {
        const at = own.get(property);
        if (at === undefined) out.push(line);
        else if (property === 'SEQUENCE' && sequenceOf(line) > sequenceOf(out[at])) out[at] = line;
      }
      inEvent = false;
    } else if (inEvent && depth === 2) {
      if (name === 'RECURRENCE-ID') rid = rawValue(line).trim();
      else if ((KEPT as readonly string[]).includes(name)) own.set(name, out.length);
    }
    if (name === 'END') depth -= 1;
    out.push(line);
  }
  return joinFolded(out);
}
