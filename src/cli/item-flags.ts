import { InvalidArgumentError } from 'commander';
import type { DateTimeValue } from '../domain/appointment.js';
import type { Contact } from '../domain/contact.js';
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
  if (flags.email !== undefined) patch.emails = flags.email.map((value) => ({ types: [], value }));
  if (flags.phone !== undefined) patch.phones = flags.phone.map((value) => ({ types: [], value }));
  if (flags.org !== undefined) patch.organization = flags.org;
  if (flags.title !== undefined) patch.title = flags.title;
  if (flags.note !== undefined) patch.note = flags.note;
  if (flags.private !== undefined) patch.private = flags.private;
  return patch;
}

/**
 * Reads a date or date-time given on the command line:
 * `YYYY-MM-DD` is all-day; with `--tz ZONE` a local time in that IANA zone; with `Z` or an
 * offset a UTC time; otherwise a floating time (the same clock time in every zone).
 */
export function parseWhen(text: string, tz: string | undefined, flag: string): DateTimeValue {
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return { value: text, tzid: '' };
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m)
    throw new InvalidArgumentError(
      `${flag} ${text} is not an ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)`,
    );
  const local = `${m[1]}T${m[2]}:${m[3]}:${m[4] ?? '00'}`;
  if (m[5]) {
    if (tz) throw new LiaisonError('Usage', `${flag} ${text} has an offset; do not combine it with --tz`);
    const instant = new Date(`${local}${m[5] === 'Z' ? 'Z' : m[5].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}`);
    if (Number.isNaN(instant.getTime()))
      throw new InvalidArgumentError(`${flag} ${text} is not a valid time`);
    return { value: `${instant.toISOString().slice(0, 19)}Z`, tzid: '' };
  }
  if (tz) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      throw new LiaisonError('Usage', `--tz ${tz} is not an IANA time zone (such as Europe/Berlin)`);
    }
    return { value: local, tzid: tz };
  }
  return { value: local, tzid: '' };
}
