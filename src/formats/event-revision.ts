/**
 * What a client keeps in a stored event that is not the event's content, carried into the
 * text that replaces it.
 *
 * Some properties change without the event changing, so they are not part of an
 * appointment's fields, and an event rebuilt from merged fields has none of them. Written
 * over the mailbox's copy like that:
 * - a meeting would fall back to SEQUENCE 0 (RFC 5545 §3.8.7.4): the organizer's client then
 *   sends its next update with a lower number than the attendees have seen, and their
 *   clients may ignore it as outdated;
 * - reminders a user dismissed or snoozed would ring again (Thunderbird's X-MOZ-LASTACK and
 *   X-MOZ-SNOOZE-TIME on the event, ACKNOWLEDGED in a VALARM, RFC 9074 §6);
 * - calendar-level properties (CALSCALE, X-WR-TIMEZONE, which some importers read floating
 *   times by) would be gone.
 * So before Liaison replaces an event, the stored copy's values are put back, component by
 * component: the calendar, the master, each overridden occurrence by its RECURRENCE-ID (or by
 * its place among them when the series moved and renamed them all), and each reminder by its
 * place in its event. Where a plain event's time changed (a "significant revision": DTSTART,
 * DTEND, DURATION, RRULE, RDATE, EXDATE, STATUS) SEQUENCE goes up by one; a meeting's stays
 * as stored, since only its organizer may raise it (RFC 5546 §2.1.4), and the copy in this
 * mailbox may be an attendee's. LAST-MODIFIED, where the stored copy had one, becomes the
 * time of this write (the written DTSTAMP).
 */
import type { Appointment } from '../domain/appointment.js';
import type { Uid } from '../domain/ids.js';
import { joinFolded, propertyName, rawValue, unfoldLines } from './content-lines.js';
import { parseEvent } from './icalendar.js';

/** Properties kept from the stored copy in each kind of component. */
const KEPT: Readonly<Record<string, (name: string) => boolean>> = {
  VCALENDAR: (n) => n === 'CALSCALE' || n.startsWith('X-'),
  VEVENT: (n) =>
    n === 'SEQUENCE' ||
    n === 'CREATED' ||
    n === 'LAST-MODIFIED' ||
    n === 'X-MOZ-LASTACK' ||
    n === 'X-MOZ-GENERATION' ||
    n.startsWith('X-MOZ-SNOOZE-TIME') ||
    n.startsWith('X-MOZ-RECEIVED-'),
  VALARM: (n) => n === 'ACKNOWLEDGED',
};

/** Properties whose change is a significant revision (RFC 5545 §3.8.7.4). */
const SIGNIFICANT: ReadonlySet<string> = new Set([
  'DTSTART',
  'DTEND',
  'DURATION',
  'RRULE',
  'RDATE',
  'EXDATE',
  'STATUS',
]);

/** A component as read: its name, its own property lines in order, and its sub-components. */
interface Component {
  readonly name: string;
  readonly lines: string[];
  readonly children: Component[];
}

/** The components of `text` (the VCALENDAR), or null when it does not nest properly. */
function componentsOf(text: string): Component | null {
  const root: Component = { name: '', lines: [], children: [] };
  const stack: Component[] = [root];
  for (const line of unfoldLines(text)) {
    const name = propertyName(line);
    const top = stack[stack.length - 1]!;
    if (name === 'BEGIN') {
      const c: Component = { name: rawValue(line).trim().toUpperCase(), lines: [], children: [] };
      top.children.push(c);
      stack.push(c);
    } else if (name === 'END') {
      if (stack.length === 1) return null;
      stack.pop();
    } else top.lines.push(line);
  }
  return stack.length === 1 && root.children.length === 1 ? root.children[0]! : null;
}

function textOf(c: Component, out: string[] = []): string[] {
  out.push(`BEGIN:${c.name}`, ...c.lines);
  for (const child of c.children) textOf(child, out);
  out.push(`END:${c.name}`);
  return out;
}

function propertyValue(c: Component, property: string): string | undefined {
  const line = c.lines.find((l) => propertyName(l) === property);
  return line === undefined ? undefined : rawValue(line).trim();
}

/** The VEVENTs of a calendar by their RECURRENCE-ID value ('' for the master). */
function eventsOf(calendar: Component): Map<string, Component> {
  const out = new Map<string, Component>();
  for (const c of calendar.children)
    if (c.name === 'VEVENT') out.set(propertyValue(c, 'RECURRENCE-ID') ?? '', c);
  return out;
}

/**
 * For each overridden occurrence of `written`, the RECURRENCE-ID of the stored one it
 * replaces: its own, or — when a move renamed them all — the one at its place in order.
 */
function storedRids(written: Map<string, Component>, stored: Map<string, Component>): Map<string, string> {
  const mine = [...written.keys()].filter((r) => r !== '').sort();
  const theirs = [...stored.keys()].filter((r) => r !== '').sort();
  const byPlace = mine.length === theirs.length;
  return new Map(mine.map((r, i) => [r, stored.has(r) || !byPlace ? r : (theirs[i] ?? r)]));
}

/**
 * What decides whether an event was revised, per VEVENT (by RECURRENCE-ID in basic form,
 * '' for the master), read from the parsed event so that spelling does not count: a
 * DURATION and the DTEND it comes to, one RDATE line or several, a VALUE=DATE-TIME written
 * or left out are the same time. Null when the text does not parse.
 */
function timesOf(text: string): Map<string, string> | null {
  let a: Appointment;
  try {
    a = parseEvent(text, 'revision' as Uid);
  } catch {
    return null;
  }
  const status = (lines: readonly string[]) => lines.find((l) => propertyName(l) === 'STATUS') ?? '';
  const out = new Map<string, string>();
  out.set('', JSON.stringify([a.start, a.end, a.rrule, a.rdates, a.exdates, status(a.extra)]));
  for (const o of a.overrides) {
    const lines = o.component.split(/\r?\n/).filter((l) => SIGNIFICANT.has(propertyName(l)));
    out.set(o.recurrenceId.value.replace(/[-:]/g, ''), lines.sort().join('\n'));
  }
  return out;
}

function sequenceOf(line: string | undefined): number {
  const n = line === undefined ? Number.NaN : Number.parseInt(rawValue(line).trim(), 10);
  return Number.isFinite(n) ? n : -1;
}

/**
 * Adds to `written` the kept lines of `stored` it lacks (see {@link KEPT}); returns whether
 * anything changed. `stamp` is the time of this write, for LAST-MODIFIED.
 */
function keepLines(written: Component, stored: Component, stamp: string | undefined): boolean {
  const kept = KEPT[written.name];
  if (kept === undefined) return false;
  const has = new Set(written.lines.map((l) => propertyName(l)));
  const missing = stored.lines.filter((l) => {
    const name = propertyName(l);
    return kept(name) && name !== 'SEQUENCE' && !has.has(name);
  });
  if (missing.length === 0) return false;
  const lines = missing.map((l) =>
    propertyName(l) === 'LAST-MODIFIED' && stamp !== undefined ? `LAST-MODIFIED:${stamp}` : l,
  );
  // Calendar properties come before its components (RFC 5545 §3.6); others anywhere.
  written.lines.push(...lines);
  return true;
}

/** SEQUENCE of `written` from the stored one's; returns whether it changed. */
function keepSequence(written: Component, stored: Component, timeChanged: boolean): boolean {
  const storedLine = stored.lines.find((l) => propertyName(l) === 'SEQUENCE');
  const at = written.lines.findIndex((l) => propertyName(l) === 'SEQUENCE');
  const own = sequenceOf(at < 0 ? undefined : written.lines[at]);
  // No SEQUENCE is SEQUENCE 0; a plain event's time change raises it, a meeting's never.
  const meeting = written.lines.some((l) => propertyName(l) === 'ORGANIZER');
  const revised = !meeting && timeChanged;
  const sequence = Math.max(Math.max(0, sequenceOf(storedLine)) + (revised ? 1 : 0), own);
  if (sequence <= 0 || sequence === own) return false;
  if (at < 0) written.lines.push(`SEQUENCE:${sequence}`);
  else written.lines[at] = `SEQUENCE:${sequence}`;
  return true;
}

/**
 * `written` (an event about to replace `stored`) with what the stored copy keeps that the
 * fields leave out (see the module comment). `written` is returned as it is when there is
 * nothing to keep and no time changed, or when either text does not nest properly.
 */
export function keepStoredRevision(written: string, stored: string): string {
  const mine = componentsOf(written);
  const theirs = componentsOf(stored);
  if (mine === null || theirs === null) return written;
  let changed = keepLines(mine, theirs, undefined);
  const before = eventsOf(theirs);
  const after = eventsOf(mine);
  const ridOf = storedRids(after, before);
  const newTimes = timesOf(written);
  const oldTimes = timesOf(stored);
  for (const [rid, event] of after) {
    const storedRid = ridOf.get(rid) ?? rid;
    const old = before.get(storedRid);
    if (old === undefined) continue;
    changed = keepLines(event, old, propertyValue(event, 'DTSTAMP')) || changed;
    const timeChanged =
      newTimes !== null &&
      oldTimes !== null &&
      newTimes.get(basicRid(rid)) !== oldTimes.get(basicRid(storedRid));
    changed = keepSequence(event, old, timeChanged) || changed;
    const alarms = event.children.filter((c) => c.name === 'VALARM');
    const oldAlarms = old.children.filter((c) => c.name === 'VALARM');
    alarms.forEach((alarm, i) => {
      const was = oldAlarms[i];
      if (was !== undefined) changed = keepLines(alarm, was, undefined) || changed;
    });
  }
  return changed ? joinFolded(textOf(mine)) : written;
}

/** A RECURRENCE-ID value in basic form, as `timesOf` keys it ('' stays ''). */
function basicRid(rid: string): string {
  return rid.replace(/[-:]/g, '');
}
