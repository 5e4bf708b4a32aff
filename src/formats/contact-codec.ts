import type { ItemCodec } from '../domain/codec.js';
import type { Contact } from '../domain/contact.js';
import { contactFields, contactFromFields } from './contact-fields.js';
import { contentHash } from './content-hash.js';
import { clean } from './text-values.js';
import { parseVCard, serializeVCard } from './vcard.js';

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

/** The contact codec: vCard text in and out (3.0 out), normalized fields, hash and match keys. */
export const contactCodec: ItemCodec<Contact> = {
  kind: 'contacts',
  parse: parseVCard,
  serialize: serializeVCard,
  fields: contactFields,
  fromFields: contactFromFields,
  hash: contentHash,
  isPrivate: (c) => c.private,
  matchKeys: contactMatchKeys,
  span: () => null,
};
