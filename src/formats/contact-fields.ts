/**
 * A contact's normalized, mergeable fields: what decides whether a contact changed.
 *
 * Normalizing removes what a server or another client changes without the user having
 * changed anything: refolding and line ends (gone with parsing), letter case of names,
 * parameters and TYPE values, parameter order, vCard 3.0 versus 4.0 syntax, surrounding
 * white space, Unicode composition, e-mail letter case, and the properties servers rewrite.
 */
import type { Contact, PostalAddress, TypedValue } from '../domain/contact.js';
import type { Fields } from '../domain/fields.js';
import type { Uid } from '../domain/ids.js';
import { anchorKey, LiveAnchors } from './anchors.js';
import {
  asRecord,
  type FieldRecord,
  readBoolean,
  readList,
  readRecord,
  readString,
  readStrings,
  sortedSet,
} from './field-readers.js';
import {
  canonicalLine,
  canonicalParams,
  type ParsedProperty,
  parseProperty,
  VCARD3,
} from './ical-property.js';
import { clean, cleanMultiline, decodeText } from './text-values.js';
import { VCARD_ANCHORED } from './vcard.js';
import { deriveFormattedName, typedParamsOf } from './vcard-reader.js';
import { decodeAddressParts, encodeAddress, encodeTypedValue } from './vcard-values.js';
import { VERSION_4 } from './vcard4.js';

/**
 * Properties servers and clients rewrite on their own; they never count as content.
 * X-RADICALE-* is Radicale's own bookkeeping.
 */
function rewrittenByServers(name: string): boolean {
  return (
    name === 'PRODID' ||
    name === 'REV' ||
    name === 'VERSION' ||
    name === 'UID' ||
    name.startsWith('X-RADICALE-')
  );
}

/** The normalized fields of a contact (no uid). Equal content gives equal fields. */
export function contactFields(c: Contact): Fields {
  const emails = typedFields(c.emails, 'email');
  const phones = typedFields(c.phones, 'phone');
  const urls = typedFields(c.urls, 'url');
  const addresses = c.addresses.map(normalizeAddress).filter((a) => a !== undefined);
  const live = new LiveAnchors([
    ...emails.map((e) => anchorKey('EMAIL', encodeTypedValue('EMAIL', e.value))),
    ...phones.map((t) => anchorKey('TEL', encodeTypedValue('TEL', t.value))),
    ...urls.map((u) => anchorKey('URL', encodeTypedValue('URL', u.value))),
    ...addresses.map((a) => anchorKey('ADR', encodeAddress(a))),
  ]);
  return {
    name: {
      prefix: clean(c.name.prefix),
      given: clean(c.name.given),
      additional: clean(c.name.additional),
      family: clean(c.name.family),
      suffix: clean(c.name.suffix),
    },
    // FN is always written (derived when empty), so the fields hold what will be read back.
    formattedName: clean(c.formattedName) || clean(deriveFormattedName(c)),
    nickname: clean(c.nickname),
    organization: clean(c.organization),
    department: clean(c.department),
    title: clean(c.title),
    emails,
    phones,
    addresses,
    urls,
    birthday: clean(c.birthday),
    note: cleanMultiline(c.note),
    categories: sortedSet(c.categories.map(clean)),
    private: c.private,
    extra: sortedSet(c.extra.map((line) => normalizeExtra(line, live)).filter((l) => l !== undefined)),
  };
}

type TypedKind = 'email' | 'phone' | 'url';

function typedValue(value: string, kind: TypedKind): string {
  // Some writers put an e-mail address in URI form (`mailto:…`); it is the same address.
  return kind === 'email'
    ? clean(value)
        .replace(/^mailto:/i, '')
        .trim()
        .toLowerCase()
    : clean(value);
}

function typedFields(values: readonly TypedValue[], kind: TypedKind): { types: string[]; value: string }[] {
  const out: { types: string[]; value: string }[] = [];
  for (const v of values) {
    const value = typedValue(v.value, kind);
    if (value !== '') out.push({ types: normalizeTypes(v.types, kind), value });
  }
  return out;
}

/**
 * TYPE values: lower case, sorted, no duplicates. For e-mail, INTERNET is dropped: it is the
 * vCard 3.0 default (RFC 2426 §3.3.2) and vCard 4.0 has no such type, so converters drop it.
 */
function normalizeTypes(types: readonly string[], kind: TypedKind | 'address'): string[] {
  const lower = types.map((t) => clean(t).toLowerCase());
  return sortedSet(kind === 'email' ? lower.filter((t) => t !== 'internet') : lower);
}

/** A normalized address; a type alias (not the interface) so that it is a `FieldValue`. */
type AddressFields = {
  types: string[];
  poBox: string;
  extended: string;
  street: string;
  locality: string;
  region: string;
  postalCode: string;
  country: string;
};

function normalizeAddress(a: PostalAddress): AddressFields | undefined {
  const parts = {
    poBox: cleanMultiline(a.poBox),
    extended: cleanMultiline(a.extended),
    street: cleanMultiline(a.street),
    locality: cleanMultiline(a.locality),
    region: cleanMultiline(a.region),
    postalCode: cleanMultiline(a.postalCode),
    country: cleanMultiline(a.country),
  };
  if (Object.values(parts).every((p) => p === '')) return undefined;
  return { types: normalizeTypes(a.types, 'address'), ...parts };
}

/**
 * An extra line in canonical form (see `canonicalLine`), or undefined when it does not count:
 * server bookkeeping (but {@link VERSION_4}, which says a card is written back as 4.0), KIND:individual (the vCard 4.0 default, RFC 6350 §6.1.4), or an anchor
 * that no value will take or that has nothing to keep. A line ical.js cannot read is kept, trimmed.
 */
function normalizeExtra(line: string, live: LiveAnchors): string | undefined {
  if (line === VERSION_4) return line;
  let p: ParsedProperty;
  try {
    p = parseProperty(line, VCARD3);
  } catch {
    return clean(line);
  }
  if (rewrittenByServers(p.name)) return undefined;
  if (p.name === 'KIND' && decodeText(p.raw).trim().toLowerCase() === 'individual') return undefined;
  if (!VCARD_ANCHORED.has(p.name)) return canonicalLine(p);
  const value = anchorValue(p);
  if (!live.take(anchorKey(p.name, value))) return undefined;
  const modelled = typedParamsOf(p);
  if (p.group === '' && canonicalParams(p, modelled).length === 0) return undefined;
  return canonicalLine(p, { omit: modelled, value });
}

/** An anchor's value normalized the way the value it belongs to is. */
function anchorValue(p: ParsedProperty): string {
  switch (p.name) {
    case 'ADR': {
      const parts = decodeAddressParts(p.raw);
      return encodeAddress(normalizeAddress({ types: [], ...parts }) ?? { types: [], ...parts });
    }
    case 'URL':
      return encodeTypedValue('URL', typedValue(p.raw, 'url'));
    default:
      return encodeTypedValue(p.name, typedValue(decodeText(p.raw), p.name === 'EMAIL' ? 'email' : 'phone'));
  }
}

/**
 * Rebuilds a contact from (merged) fields.
 * @throws LiaisonError `InvalidData` when a field has the wrong shape
 */
export function contactFromFields(uid: Uid, f: Fields): Contact {
  const name = readRecord(f, 'name') ?? {};
  return {
    uid,
    name: {
      prefix: readString(name, 'prefix', 'name.prefix'),
      given: readString(name, 'given', 'name.given'),
      additional: readString(name, 'additional', 'name.additional'),
      family: readString(name, 'family', 'name.family'),
      suffix: readString(name, 'suffix', 'name.suffix'),
    },
    formattedName: readString(f, 'formattedName'),
    nickname: readString(f, 'nickname'),
    organization: readString(f, 'organization'),
    department: readString(f, 'department'),
    title: readString(f, 'title'),
    emails: readTyped(f, 'emails'),
    phones: readTyped(f, 'phones'),
    addresses: readList(f, 'addresses').map((v, i) => readAddress(asRecord(v, `addresses[${i}]`), i)),
    urls: readTyped(f, 'urls'),
    birthday: readString(f, 'birthday'),
    note: readString(f, 'note'),
    categories: readStrings(f, 'categories'),
    private: readBoolean(f, 'private'),
    extra: readStrings(f, 'extra'),
  };
}

function readTyped(f: Fields, key: string): TypedValue[] {
  return readList(f, key).map((v, i) => {
    const r = asRecord(v, `${key}[${i}]`);
    return {
      types: readStrings(r, 'types', `${key}[${i}].types`),
      value: readString(r, 'value', `${key}[${i}].value`),
    };
  });
}

function readAddress(r: FieldRecord, i: number): PostalAddress {
  const at = (k: string) => readString(r, k, `addresses[${i}].${k}`);
  return {
    types: readStrings(r, 'types', `addresses[${i}].types`),
    poBox: at('poBox'),
    extended: at('extended'),
    street: at('street'),
    locality: at('locality'),
    region: at('region'),
    postalCode: at('postalCode'),
    country: at('country'),
  };
}
