/**
 * Match keys of firm sync (SPEC §7: same normalized e-mail address, else same normalized full
 * name and organization). Looser than mailbox sync's first-sync keys: accents and punctuation
 * do not count either, since the same person is typed by many people in many clients
 * ("Émile Zola, ACME Inc." and "emile zola / Acme Inc").
 */
import type { Contact } from '../domain/contact.js';

/** What a contact is matched on; `name` is '' when the contact has no name. */
export interface FirmMatchKeys {
  /** Every normalized e-mail address, without duplicates. */
  readonly emails: readonly string[];
  /** Normalized "full name|organization", or '' without a name. */
  readonly name: string;
  /** Normalized full name alone (for search). */
  readonly fullName: string;
  /** Normalized organization alone (for search). */
  readonly organization: string;
}

/** An e-mail address as matching compares it: no `mailto:`, no white space, lower case, NFC. */
export function normalizeMatchEmail(email: string): string {
  return email
    .normalize('NFC')
    .replace(/\s+/g, '')
    .replace(/^mailto:/i, '')
    .toLowerCase();
}

/** Names and organizations: accents, punctuation and letter case dropped, spaces collapsed. */
export function normalizeMatchText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * The full name of a contact: given, additional and family name when it has them (prefixes and
 * suffixes vary between writers), else the formatted name.
 */
function fullName(c: Contact): string {
  const parts = normalizeMatchText([c.name.given, c.name.additional, c.name.family].join(' '));
  return parts !== '' ? parts : normalizeMatchText(c.formattedName);
}

/** The match keys of a contact. */
export function firmMatchKeys(c: Contact): FirmMatchKeys {
  const emails = [...new Set(c.emails.map((e) => normalizeMatchEmail(e.value)).filter((e) => e !== ''))];
  const name = fullName(c);
  const organization = normalizeMatchText(c.organization);
  return { emails, name: name === '' ? '' : `${name}|${organization}`, fullName: name, organization };
}

/** A contact with neither a name nor an e-mail address cannot be matched (kept, reported). */
export function isUnmatchable(keys: FirmMatchKeys): boolean {
  return keys.emails.length === 0 && keys.name === '';
}
