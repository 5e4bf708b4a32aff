/**
 * Keeping a scheduling server from sending invitations, replies or cancellations when
 * Liaison writes an event (RFC 6638).
 *
 * A server with `calendar-auto-schedule` sends iTIP messages when a scheduling object
 * (an event with ORGANIZER and ATTENDEEs) is created, changed or removed, for every
 * ORGANIZER/ATTENDEE whose SCHEDULE-AGENT parameter is SERVER — the default when it is
 * absent (§7.1). Liaison copies events between the firm database and mailboxes; such a copy
 * is not the organizer scheduling a meeting, so the server must not act on it. Liaison:
 *
 * - On create, marks every ORGANIZER and ATTENDEE without SCHEDULE-AGENT as `CLIENT`: the
 *   server then leaves scheduling to the client (§3.2.1.1 and §3.2.2.2 tables, "CLIENT":
 *   no message), and Liaison, as that client, sends none.
 * - Before an update or a delete, reads the stored copy (one GET before the conditional
 *   request). A copy the server schedules for some address (SCHEDULE-AGENT SERVER, or
 *   absent: a meeting made in a mail client) is neither changed nor deleted: any change
 *   to it makes the server send an update (§3.2.1.2), a delete a cancellation (§3.2.1.3),
 *   and marking its addresses CLIENT first is itself answered with a CANCEL. The write is
 *   refused (`Unsupported`); sync then keeps the mailbox's version and says so. Meetings
 *   are changed in the mail client, which schedules them as its user means to.
 * - A copy whose addresses are all CLIENT or NONE (one Liaison wrote) is updated with each
 *   address's stored value kept and a new address marked CLIENT, and deleted with
 *   `Schedule-Reply: F` (§8.1), so that no REPLY is sent either (§3.2.2.4).
 *
 * The text is edited line by line (never re-serialized), so nothing else in it changes.
 */
import { foldLine, propertyName, unfoldLines, valueStart } from '../../formats/content-lines.js';

const SCHEDULING_PROPERTIES = new Set(['ORGANIZER', 'ATTENDEE']);

/** The request header that keeps a deleting attendee's server from replying (RFC 6638 §8.1). */
export const NO_SCHEDULE_REPLY = { 'schedule-reply': 'F' } as const;

/** Whether `text` has an ORGANIZER or ATTENDEE property, i.e. may be a scheduling object. */
export function hasSchedulingProperties(text: string): boolean {
  return /^(ORGANIZER|ATTENDEE)[;:]/im.test(text);
}

/**
 * `text` with a SCHEDULE-AGENT on every ORGANIZER and ATTENDEE that lacks one: the value
 * `stored` (the copy on the server, or null for a create) gives that property and address,
 * or `CLIENT` where it has none. Returns `text` itself when nothing needs adding.
 */
export function withClientScheduling(text: string, stored: string | null): string {
  const storedAgents = stored === null ? new Map<string, string | null>() : agentsByAddress(stored);
  let changed = false;
  const lines = schedulingLines(unfoldLines(text), (line) => {
    const property = propertyName(line);
    const colon = valueStart(line);
    if (colon < 0 || scheduleAgent(line, colon) !== null) return line;
    const key = addressKey(property, line.slice(colon + 1));
    // A stored SERVER (no parameter) stays: switching it to CLIENT would send a CANCEL.
    const agent = storedAgents.has(key) ? storedAgents.get(key) : 'CLIENT';
    if (agent === null || agent === undefined) return line;
    changed = true;
    return `${line.slice(0, colon)};SCHEDULE-AGENT=${agent}${line.slice(colon)}`;
  });
  if (!changed) return text;
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}

/**
 * Whether the server schedules `text` for some address: an ORGANIZER or ATTENDEE whose
 * SCHEDULE-AGENT is SERVER or absent. Liaison never writes or deletes such a copy.
 */
export function scheduledByServer(text: string): boolean {
  // Line by line: each component (the series, each changed occurrence) is scheduled on its
  // own, so a CLIENT in one occurrence does not make the series' own addresses CLIENT.
  let server = false;
  schedulingLines(unfoldLines(text), (line) => {
    const colon = valueStart(line);
    const agent = colon < 0 ? 'CLIENT' : scheduleAgent(line, colon);
    if (agent === null || agent === 'SERVER') server = true;
    return line;
  });
  return server;
}

/**
 * SCHEDULE-AGENT of each ORGANIZER/ATTENDEE address in `text` (null: absent, i.e. SERVER).
 * An address the text gives different agents in different components counts as scheduled
 * by the server wherever one of them says so: never to be switched to CLIENT.
 */
function agentsByAddress(text: string): Map<string, string | null> {
  const agents = new Map<string, string | null>();
  schedulingLines(unfoldLines(text), (line) => {
    const colon = valueStart(line);
    if (colon < 0) return line;
    const key = addressKey(propertyName(line), line.slice(colon + 1));
    const agent = scheduleAgent(line, colon);
    const known = agents.get(key);
    const serverBefore = agents.has(key) && (known === null || known === 'SERVER');
    if (!serverBefore) agents.set(key, agent);
    return line;
  });
  return agents;
}

/**
 * Maps the ORGANIZER and ATTENDEE lines of `lines` through `edit`, leaving every other line
 * as is. An ATTENDEE inside a VALARM is an alarm's e-mail recipient (RFC 5545 §3.6.6), not a
 * scheduling attendee, and is left alone.
 */
function schedulingLines(lines: readonly string[], edit: (line: string) => string): string[] {
  const open: string[] = [];
  return lines.map((line) => {
    const marker = /^(BEGIN|END):(.*)$/i.exec(line);
    if (marker) {
      if (marker[1]?.toUpperCase() === 'BEGIN') open.push((marker[2] ?? '').trim().toUpperCase());
      else open.pop();
      return line;
    }
    if (open.at(-1) === 'VALARM' || !SCHEDULING_PROPERTIES.has(propertyName(line))) return line;
    return edit(line);
  });
}

/** Property and address, the address compared as RFC 6638 §7.1 says values "match". */
function addressKey(property: string, value: string): string {
  const address = value.trim();
  return `${property}:${/^mailto:/i.test(address) ? address.toLowerCase() : address}`;
}

/** The SCHEDULE-AGENT value of a content line (upper case), or null when it has none. */
function scheduleAgent(line: string, colon: number): string | null {
  for (const param of splitParams(line.slice(0, colon)).slice(1)) {
    const eq = param.indexOf('=');
    if (eq > 0 && param.slice(0, eq).trim().toUpperCase() === 'SCHEDULE-AGENT') {
      return param
        .slice(eq + 1)
        .replace(/^"|"$/g, '')
        .toUpperCase();
    }
  }
  return null;
}

/** Splits `NAME;A=1;B="x;y"` at the semicolons outside quotes. */
function splitParams(head: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of head) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}
