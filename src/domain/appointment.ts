import type { Uid } from './ids.js';

/**
 * A date or date-time as iCalendar states it.
 * - all-day: `value` is YYYY-MM-DD and `tzid` is ''.
 * - UTC: `value` is YYYY-MM-DDTHH:MM:SSZ.
 * - zoned: `value` is local YYYY-MM-DDTHH:MM:SS and `tzid` an IANA zone (or the feed's own TZID).
 * - floating: local value with no `tzid` and no Z.
 */
export interface DateTimeValue {
  readonly value: string;
  readonly tzid: string;
}

export interface Attendee {
  /** mailto: address, lower-cased. */
  readonly email: string;
  readonly name: string;
  readonly role: string;
  readonly partstat: string;
  readonly rsvp: boolean;
}

/** One overridden instance of a recurring event (a VEVENT with RECURRENCE-ID). */
export interface AppointmentOverride {
  readonly recurrenceId: DateTimeValue;
  /** The override's VEVENT, normalized (server-rewritten properties removed, lines sorted). */
  readonly component: string;
}

export type PrivacyClass = 'PUBLIC' | 'PRIVATE' | 'CONFIDENTIAL' | '';

/**
 * An appointment, on either side. Every top-level key except `uid` is one field for
 * three-way merge; `extra` holds unmodelled VEVENT properties as unfolded content lines,
 * and `timezones` the VTIMEZONE components the event refers to that are not IANA zones.
 */
export interface Appointment {
  readonly uid: Uid;
  readonly summary: string;
  readonly location: string;
  readonly description: string;
  readonly start: DateTimeValue;
  readonly end: DateTimeValue | null;
  readonly allDay: boolean;
  readonly rrule: string;
  readonly rdates: readonly DateTimeValue[];
  readonly exdates: readonly DateTimeValue[];
  readonly overrides: readonly AppointmentOverride[];
  readonly organizer: string;
  readonly attendees: readonly Attendee[];
  readonly categories: readonly string[];
  readonly privacy: PrivacyClass;
  /** VALARM components, normalized text. */
  readonly alarms: readonly string[];
  readonly extra: readonly string[];
  readonly timezones: readonly string[];
}

/** An appointment with every optional field empty; spread it and set what you have. */
export function emptyAppointment(uid: Uid, start: DateTimeValue, end: DateTimeValue | null): Appointment {
  return {
    uid,
    summary: '',
    location: '',
    description: '',
    start,
    end,
    allDay: start.tzid === '' && /^\d{4}-\d{2}-\d{2}$/.test(start.value),
    rrule: '',
    rdates: [],
    exdates: [],
    overrides: [],
    organizer: '',
    attendees: [],
    categories: [],
    privacy: '',
    alarms: [],
    extra: [],
    timezones: [],
  };
}
