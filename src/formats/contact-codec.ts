import type { ItemCodec } from '../domain/codec.js';
import type { Contact } from '../domain/contact.js';
import type { Fields } from '../domain/fields.js';
import { contactFields, contactFromFields } from './contact-fields.js';
import { contentHash } from './content-hash.js';
import { clean } from './text-values.js';
import { parseVCard, serializeVCard } from './vcard.js';
import { VERSION_4 } from './vcard4.js';

/** Lower case, NFC, runs of white space collapsed to one space. */
function matchText(s: string): string {
  return clean(s).replace(/\s+/g, ' ').toLowerCase();
}

/**
 * First-sync match keys of a contact, strongest tier first (SPEC §4 First sync):
 * [uid], [each normalized e-mail], [name + organization]. The name is given, additional and
 * family name when the card has them (prefixes and suffixes vary between writers), else FN.
 */
export function contactMatchKeys(c: Contact): string[][] {
  const emails = [...new Set(c.emails.map((e) => clean(e.value).toLowerCase()).filter((e) => e !== ''))];
  const parts = matchText([c.name.given, c.name.additional, c.name.family].join(' '));
  const name = parts !== '' ? parts : matchText(c.formattedName);
  return [
    [`uid:${c.uid}`],
    emails.map((e) => `email:${e}`),
    name === '' ? [] : [`name:${name}|${matchText(c.organization)}`],
  ];
}

/**
 * The content hash of a contact's fields. The vCard version a card is written back in
 * rides in `extra` but is not content: the same card in 3.0 and in 4.0 hashes the same.
 */
function contactHash(fields: Fields): string {
  const extra = fields.extra;
  if (!Array.isArray(extra) || !extra.includes(VERSION_4)) return contentHash(fields);
  return contentHash({ ...fields, extra: extra.filter((line) => line !== VERSION_4) });
}

/** The contact codec: vCard text in and out (3.0 out, or 4.0 as read), normalized fields, hash and match keys. */
export const contactCodec: ItemCodec<Contact> = {
  kind: 'contacts',
  parse: parseVCard,
  serialize: serializeVCard,
  fields: contactFields,
  fromFields: contactFromFields,
  hash: contactHash,
  isPrivate: (c) => c.private,
  matchKeys: contactMatchKeys,
  span: () => null,
};
