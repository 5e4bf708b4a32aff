/**
 * Which of a contact's fields the firm shares. Firm sync compares and merges the normalized
 * fields of `contactFields`, restricted to the fields that describe the person (names,
 * organization, addresses, numbers). A user's note, categories, private flag and unmodelled
 * vCard lines stay the user's own: a note is personal, categories are the user's filing, and
 * the extra lines are client bookkeeping. Sharing them would let one lawyer's note overwrite
 * another's on every down step.
 */
import type { Contact } from '../domain/contact.js';
import { type Fields, type FieldValue, sameValue } from '../domain/fields.js';
import { contactFields, contactFromFields } from '../formats/contact-fields.js';
import { SET_FIELDS } from '../sync/settings.js';

/** The fields a firm contact holds, in the order reports show them. */
export const FIRM_FIELDS = [
  'name',
  'formattedName',
  'nickname',
  'organization',
  'department',
  'title',
  'emails',
  'phones',
  'addresses',
  'urls',
  'birthday',
] as const;

/** One of the firm fields. */
export type FirmField = (typeof FIRM_FIELDS)[number];

/** Firm fields merged element-wise: two users adding a phone number each keep both. */
export const FIRM_SET_FIELDS: ReadonlySet<string> = new Set(
  FIRM_FIELDS.filter((f) => SET_FIELDS.contacts.has(f)),
);

/** The firm fields of a contact, normalized; every firm field is present. */
export function firmFieldsOf(contact: Contact): Fields {
  return pickFirmFields(contactFields(contact));
}

/** Restricts fields to the firm fields, filling a missing one with null. */
export function pickFirmFields(fields: Fields): Fields {
  const out: Record<string, FieldValue> = {};
  for (const k of FIRM_FIELDS) out[k] = fields[k] ?? null;
  return out;
}

/** The firm fields whose values differ between `a` and `b`. */
export function changedFirmFields(a: Fields, b: Fields): FirmField[] {
  return FIRM_FIELDS.filter((k) => !sameValue(a[k], b[k]));
}

/** True when every firm field of `a` equals that of `b`. */
export function sameFirmFields(a: Fields, b: Fields): boolean {
  return changedFirmFields(a, b).length === 0;
}

/**
 * The contact with the given firm field values written into it; every other field, including
 * the personal ones, keeps the user's own (raw) value.
 */
export function withFirmValues(contact: Contact, values: Fields): Contact {
  const keys = FIRM_FIELDS.filter((k) => k in values);
  if (keys.length === 0) return contact;
  const rebuilt = contactFromFields(contact.uid, values);
  const patch: Partial<Record<FirmField, unknown>> = {};
  for (const k of keys) patch[k] = rebuilt[k];
  return { ...contact, ...patch } as Contact;
}

/** A contact built from firm fields (for display): personal fields empty. */
export function contactOfFirmFields(uid: Contact['uid'], fields: Fields): Contact {
  return contactFromFields(uid, pickFirmFields(fields));
}
