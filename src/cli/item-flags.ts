import type { DateTimeValue } from '../domain/appointment.js';
import type { Contact, TypedValue } from '../domain/contact.js';
import { LiaisonError } from '../domain/errors.js';

/** The contact flags a CRM user edits from the command line. */
export interface ContactFlags {
  given?: string;
  family?: string;
  email?: string[];
  phone?: string[];
  org?: string;
  title?: string;
  note?: string;
  private?: boolean;
}

/** Turns the flags given into a contact patch; absent flags leave fields alone. */
export function contactPatch(flags: ContactFlags, current?: Contact): Partial<Omit<Contact, 'uid'>> {
  const patch: { -readonly [K in keyof Omit<Contact, 'uid'>]?: Contact[K] } = {};
  if (flags.given !== undefined || flags.family !== undefined) {
    const name = { ...(current?.name ?? { prefix: '', given: '', additional: '', family: '', suffix: '' }) };
    if (flags.given !== undefined) name.given = flags.given;
    if (flags.family !== undefined) name.family = flags.family;
    patch.name = name;
    patch.formattedName = [name.prefix, name.given, name.additional, name.family, name.suffix]
      .filter(Boolean)
      .join(' ');
  }
  if (flags.email !== undefined) patch.emails = typedLike(flags.email, current?.emails, sameEmail);
  if (flags.phone !== undefined) patch.phones = typedLike(flags.phone, current?.phones, samePhone);
  if (flags.org !== undefined) patch.organization = flags.org;
  if (flags.title !== undefined) patch.title = flags.title;
  if (flags.note !== undefined) patch.note = flags.note;
  if (flags.private !== undefined) patch.private = flags.private;
  return patch;
}

/**
 * The values given, each with the types (work, home, cell…) of the value it repeats in
 * `before`: re-listing the addresses to change one of them keeps the others as they were.
 */
function typedLike(
  values: readonly string[],
  before: readonly TypedValue[] | undefined,
  same: (a: string, b: string) => boolean,
): TypedValue[] {
  return values.map((value) => ({ types: before?.find((b) => same(b.value, value))?.types ?? [], value }));
}

function sameEmail(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** The same number however it is spaced or punctuated. */
function samePhone(a: string, b: string): boolean {
  const digits = (p: string) => p.replace(/[^+0-9]/g, '');
  return digits(a) === digits(b);
}

/**
 * Reads a date or date-time given on the command line:
 * `YYYY-MM-DD` is all-day; with `--tz ZONE` a local time in that IANA zone; with `Z` or an
 * offset a UTC time; otherwise a floating time (the same clock time in every zone).
 */
export function parseWhen(
  text: string,
  tz: string | undefined,
  flag: string,
  /** `tz` is the appointment's own zone: defined by its VTIMEZONE when not an IANA name (Outlook's "W. Europe Standard Time"). */
  ownZone = false,
): DateTimeValue {
  const bad = (why: string) => new LiaisonError('Usage', `${flag} ${text}: ${why}`);
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(text);
  if (!m) return fail(bad('not an ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)'));
  const [, y, mo, d, h, mi, sec, offset] = m;
  // A calendar date that exists, and a clock time within the day: 2026-02-30 or 25:00 are refused.
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (
    day.getUTCFullYear() !== Number(y) ||
    day.getUTCMonth() !== Number(mo) - 1 ||
    day.getUTCDate() !== Number(d)
  ) {
    return fail(bad('no such date'));
  }
  const date = `${y}-${mo}-${d}`;
  if (h === undefined) return { value: date, tzid: '' };
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec ?? 0) > 59) return fail(bad('no such time of day'));
  const local = `${date}T${h}:${mi}:${sec ?? '00'}`;
  if (offset) {
    if (tz) return fail(bad('has an offset; do not combine it with --tz'));
    const instant = new Date(
      `${local}${offset === 'Z' ? 'Z' : offset.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}`,
    );
    if (Number.isNaN(instant.getTime())) return fail(bad('not a valid time'));
    return { value: `${instant.toISOString().slice(0, 19)}Z`, tzid: '' };
  }
  if (tz) {
    if (ownZone) return { value: local, tzid: tz };
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      return fail(new LiaisonError('Usage', `--tz ${tz} is not an IANA time zone (such as Europe/Berlin)`));
    }
    return { value: local, tzid: tz };
  }
  return { value: local, tzid: '' };
}

function fail(e: LiaisonError): never {
  throw e;
}
