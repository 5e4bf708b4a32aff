/**
 * Maps the master VEVENT's properties, as ical.js reads them, onto an `Appointment`.
 */
import ICAL from 'ical.js';
import type { Appointment, Attendee, DateTimeValue, PrivacyClass } from '../domain/appointment.js';
import { errorMessage, LiaisonError } from '../domain/errors.js';
import type { Uid } from '../domain/ids.js';
import { anchorLine } from './anchors.js';
import { excerpt, type RawComponent } from './content-lines.js';
import { dateTimeOf, fromIcalTime, toIcalTime } from './date-values.js';
import { normalizeComponent } from './ical-component.js';
import { type ParsedProperty, paramText } from './ical-property.js';
import { rruleProblem } from './rrule-check.js';
import { decodeList, decodeText } from './text-values.js';

/** Parameters an `Attendee` holds. */
export const ATTENDEE_PARAMS: ReadonlySet<string> = new Set(['cn', 'role', 'partstat', 'rsvp', 'value']);
/** Parameters the organizer string holds (none but the value type). */
export const ORGANIZER_PARAMS: ReadonlySet<string> = new Set(['value']);

/**
 * Properties dropped on reading because every writer stamps them anew: DTSTAMP (RFC 5545
 * §3.8.7.2, Liaison writes its own) and LAST-MODIFIED (§3.8.7.3, set by whoever stores the item).
 */
export const STAMPS: ReadonlySet<string> = new Set(['DTSTAMP', 'LAST-MODIFIED']);

/** The master VEVENT's share of an appointment: everything but overrides and time zones. */
export type MasterParts = Omit<Appointment, 'overrides' | 'timezones'>;

/** A calendar address as held: a mailto: address lower case without its scheme; another URI as written. */
export function addressOf(raw: string): string {
  const value = decodeText(raw).trim();
  return /^mailto:/i.test(value) ? value.slice(7).trim().toLowerCase() : value;
}

/** A held address as a cal-address value (RFC 5545 §3.3.3). */
export function encodeAddress(address: string): string {
  return address.includes(':') ? address : `mailto:${address}`;
}

/** Collects the master VEVENT's properties; add every property, then call `parts()`. */
export class EventReader {
  readonly #seen = new Set<string>();
  #uid = '';
  #summary = '';
  #location = '';
  #description = '';
  #start: DateTimeValue | undefined;
  #end: DateTimeValue | null = null;
  #duration: ParsedProperty | undefined;
  #rrule = '';
  readonly #rdates: DateTimeValue[] = [];
  readonly #exdates: DateTimeValue[] = [];
  #organizer = '';
  readonly #attendees: Attendee[] = [];
  readonly #categories: string[] = [];
  #privacy: PrivacyClass = '';
  readonly #alarms: string[] = [];
  readonly #extra: string[] = [];
  /** TZIDs the master refers to. */
  readonly tzids = new Set<string>();

  /** Takes one property. */
  add(p: ParsedProperty): void {
    const tzid = paramText(p, 'tzid');
    if (tzid !== '') this.tzids.add(tzid);
    switch (p.name) {
      case 'UID':
        if (this.#uid === '') this.#uid = decodeText(p.raw).trim();
        return;
      case 'DTSTAMP':
      case 'LAST-MODIFIED':
        return;
      case 'SUMMARY':
        this.#single(p, () => {
          this.#summary = decodeText(p.raw);
        });
        return;
      case 'LOCATION':
        this.#single(p, () => {
          this.#location = decodeText(p.raw);
        });
        return;
      case 'DESCRIPTION':
        this.#single(p, () => {
          this.#description = decodeText(p.raw);
        });
        return;
      case 'DTSTART':
        this.#single(p, () => {
          this.#start = date(p);
        });
        return;
      case 'DTEND':
        this.#single(p, () => {
          this.#end = date(p);
        });
        return;
      case 'DURATION':
        this.#single(p, () => {
          this.#duration = p;
        });
        return;
      case 'RRULE':
        this.#single(p, () => {
          this.#rrule = readRrule(p);
        });
        return;
      case 'RDATE':
        // RFC 5545 §3.8.5.2: an RDATE may list periods, which a DateTimeValue cannot hold.
        if (p.valueType === 'period') this.#extra.push(p.line);
        else this.#rdates.push(...p.values.map((v) => date(p, v)));
        return;
      case 'EXDATE':
        this.#exdates.push(...p.values.map((v) => date(p, v)));
        return;
      case 'ORGANIZER':
        // RFC 5545 §3.8.4.3 allows one ORGANIZER; a second one is dropped.
        if (this.#organizer === '') {
          this.#organizer = addressOf(p.raw);
          this.#anchor(p, ORGANIZER_PARAMS, this.#organizer);
        }
        return;
      case 'ATTENDEE':
        this.#attendee(p);
        return;
      case 'CATEGORIES':
        this.#categories.push(...decodeList(p.raw, ',').map((c) => c.trim()));
        return;
      case 'CLASS':
        this.#single(p, () => {
          const value = decodeText(p.raw).trim().toUpperCase();
          if (value !== 'PUBLIC' && value !== 'PRIVATE' && value !== 'CONFIDENTIAL') return false;
          this.#privacy = value;
        });
        return;
      default:
        this.#extra.push(p.line);
    }
  }

  /** Takes one sub-component of the master VEVENT. */
  addComponent(c: RawComponent): void {
    const text = normalizeComponent(c, { dropProperty: (n) => STAMPS.has(n) });
    if (c.name === 'VALARM') this.#alarms.push(text);
    else this.#extra.push(text);
  }

  /**
   * The master's share of the appointment.
   * @throws LiaisonError `InvalidData` when there is no DTSTART or the DURATION cannot be read
   */
  parts(fallbackUid: Uid): MasterParts {
    const start = this.#start;
    if (!start) {
      // RFC 5545 §3.6.1: DTSTART is required in a VEVENT of a calendar without METHOD.
      throw new LiaisonError('InvalidData', 'the VEVENT has no DTSTART');
    }
    // RFC 5545 §3.6.1: DTEND and DURATION must not both occur; where a writer sent both, DTEND wins.
    let end = this.#end;
    if (end === null && this.#duration) end = endFromDuration(start, this.#duration);
    return {
      uid: (this.#uid || fallbackUid) as Uid,
      summary: this.#summary,
      location: this.#location,
      description: this.#description,
      start,
      end,
      allDay: start.value.length === 10,
      rrule: this.#rrule,
      rdates: this.#rdates,
      exdates: this.#exdates,
      organizer: this.#organizer,
      attendees: this.#attendees,
      categories: this.#categories.filter((c) => c !== ''),
      privacy: this.#privacy,
      alarms: this.#alarms,
      extra: this.#extra,
    };
  }

  #single(p: ParsedProperty, read: () => unknown): void {
    if (!this.#seen.has(p.name) && read() !== false) this.#seen.add(p.name);
    else this.#extra.push(p.line);
  }

  #attendee(p: ParsedProperty): void {
    const email = addressOf(p.raw);
    if (email === '') return;
    this.#attendees.push({
      email,
      name: paramText(p, 'cn'),
      role: paramText(p, 'role').toUpperCase(),
      partstat: paramText(p, 'partstat').toUpperCase(),
      rsvp: paramText(p, 'rsvp').toUpperCase() === 'TRUE',
    });
    this.#anchor(p, ATTENDEE_PARAMS, email);
  }

  #anchor(p: ParsedProperty, modelled: ReadonlySet<string>, address: string): void {
    const line = anchorLine(p, modelled, encodeAddress(address));
    if (line !== undefined) this.#extra.push(line);
  }
}

function date(p: ParsedProperty, value?: unknown): DateTimeValue {
  try {
    return dateTimeOf(p, value === undefined ? p.values[0] : value);
  } catch (e) {
    throw new LiaisonError('InvalidData', `${errorMessage(e)}: ${excerpt(p.line)}`, { cause: e });
  }
}

/**
 * The RRULE in ical.js's canonical text (FREQ first, fixed part order, INTERVAL=1 dropped).
 * Rule parts are case-insensitive (RFC 5545 §3.3.10), ical.js wants them upper case.
 */
export function readRrule(p: ParsedProperty): string {
  // ical.js reads a rule without a FREQ (Xandikos stores an unreadable one as "None") as
  // FREQ=NULL, which would then be written back as such.
  const problem = rruleProblem(p.raw, true);
  if (problem !== null) throw new LiaisonError('InvalidData', `RRULE ${problem}: ${excerpt(p.line)}`);
  try {
    return ICAL.Recur.fromString(p.raw.trim().toUpperCase()).toString();
  } catch (e) {
    throw new LiaisonError('InvalidData', `RRULE cannot be read (${errorMessage(e)}): ${excerpt(p.line)}`, {
      cause: e,
    });
  }
}

/** DTEND from DTSTART + DURATION (RFC 5545 §3.8.2.5), in DTSTART's zone. */
function endFromDuration(start: DateTimeValue, p: ParsedProperty): DateTimeValue {
  try {
    const time = toIcalTime(start);
    const duration = ICAL.Duration.fromString(p.raw.trim());
    // Days and weeks are nominal (the same clock time days later), hours, minutes and
    // seconds exact (RFC 5545 §3.3.6): PT3H from 01:30 on the night clocks go forward ends
    // at 05:30, three real hours later, not at 04:30.
    const sign = duration.isNegative ? -1 : 1;
    time.addDuration(ICAL.Duration.fromSeconds(sign * (duration.weeks * 7 + duration.days) * 86_400));
    const exact = sign * (duration.hours * 3600 + duration.minutes * 60 + duration.seconds);
    if (exact === 0) return fromIcalTime(time, start.tzid);
    const zone = time.zone;
    if (time.isDate || zone === undefined || zone === ICAL.Timezone.localTimezone) {
      time.addDuration(ICAL.Duration.fromSeconds(exact));
      return fromIcalTime(time, start.tzid);
    }
    const utc = time.convertToZone(ICAL.Timezone.utcTimezone);
    utc.addDuration(ICAL.Duration.fromSeconds(exact));
    return fromIcalTime(utc.convertToZone(zone), start.tzid);
  } catch (e) {
    throw new LiaisonError(
      'InvalidData',
      `DURATION cannot be read (${errorMessage(e)}): ${excerpt(p.line)}`,
      {
        cause: e,
      },
    );
  }
}
