import type { Contact } from '../domain/contact.js';

/** Columns that let firm sync find candidate matches by index (SPEC §7: e-mail, then name and organization). */
export interface ContactMatchColumns {
  readonly email_norm: string;
  readonly name_norm: string;
  readonly org_norm: string;
}

/** Lower case, accents removed, white space collapsed: "  Émile  ZOLA " → "emile zola". */
export function normalizeText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** An e-mail address as matching compares it: no `mailto:`, trimmed, lower case. */
export function normalizeEmail(email: string): string {
  return email
    .trim()
    .replace(/^mailto:/i, '')
    .toLowerCase();
}

/**
 * The contact's match columns. Only the first e-mail address is indexed; matching on the
 * others reads the candidates' data (see the report of firm sync).
 */
export function contactMatchColumns(contact: Contact): ContactMatchColumns {
  const first = contact.emails.find((e) => e.value.trim() !== '');
  const parts = [contact.name.given, contact.name.additional, contact.name.family].filter(
    (p) => p.trim() !== '',
  );
  const name = parts.length > 0 ? parts.join(' ') : contact.formattedName;
  return {
    email_norm: first === undefined ? '' : normalizeEmail(first.value),
    name_norm: normalizeText(name),
    org_norm: normalizeText(contact.organization),
  };
}
