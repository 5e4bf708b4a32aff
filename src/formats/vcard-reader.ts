/**
 * Maps the properties of one vCard, as ical.js reads them, onto a `Contact`.
 * Which property goes where is decided here; reading a line is ical.js's job.
 */
import type { Contact, NameParts, PostalAddress, TypedValue } from '../domain/contact.js';
import type { Uid } from '../domain/ids.js';
import { anchorLine } from './anchors.js';
import { canonicalParams, type ParsedProperty, paramList, paramText } from './ical-property.js';
import { decodeList, decodeText } from './text-values.js';
import { decodeAddressParts, departmentOf, encodeAddress, encodeTypedValue } from './vcard-values.js';
import { VERSION_4 } from './vcard4.js';

/** Parameters a `TypedValue` holds (or that vCard 2.1/4.0 syntax spends on what it holds). */
const TYPED_PARAMS: ReadonlySet<string> = new Set(['type', 'pref', 'value', 'charset', 'encoding']);

/** TYPED_PARAMS without `pref`: a PREF other than 1 (vCard 4.0 ranks 1 to 100) is no TYPE=pref. */
const TYPED_RANKED: ReadonlySet<string> = new Set(['type', 'value', 'charset', 'encoding']);

/** The parameters a `TypedValue` holds of this property: `pref` only as PREF=1 (or absent). */
export function typedParamsOf(p: ParsedProperty): ReadonlySet<string> {
  const pref = paramText(p, 'pref');
  return pref === '' || pref === '1' ? TYPED_PARAMS : TYPED_RANKED;
}

/** Binary properties whose vCard 4.0 form (a URI, often `data:`) differs from 3.0's (RFC 6350 §6.2.4, RFC 2426 §3.1.4). */
const MEDIA = new Set(['PHOTO', 'LOGO', 'SOUND', 'KEY']);

/** Collects a vCard's properties into a `Contact`; add every property, then call `contact()`. */
export class ContactReader {
  readonly #v4: boolean;
  readonly #seen = new Set<string>();
  #uid = '';
  #name: NameParts = { prefix: '', given: '', additional: '', family: '', suffix: '' };
  #formattedName = '';
  #nickname = '';
  #organization = '';
  #department = '';
  #title = '';
  readonly #emails: TypedValue[] = [];
  readonly #phones: TypedValue[] = [];
  readonly #addresses: PostalAddress[] = [];
  readonly #urls: TypedValue[] = [];
  #birthday = '';
  #note = '';
  readonly #categories: string[] = [];
  #private = false;
  readonly #extra: string[] = [];

  /** @param v4 whether the card declared VERSION:4.0 (its media properties are rewritten for 3.0) */
  constructor(v4: boolean) {
    this.#v4 = v4;
    // Kept so that the card is written back as 4.0 (see vcard4.ts).
    if (v4) this.#extra.push(VERSION_4);
  }

  /** Takes one property. */
  add(p: ParsedProperty): void {
    switch (p.name) {
      case 'VERSION':
      case 'PRODID':
      case 'REV':
        // Rewritten by every server and client on its own; Liaison writes its own.
        return;
      case 'UID':
        if (this.#uid === '') this.#uid = decodeText(p.raw).trim();
        return;
      case 'FN':
        this.#single(p, () => {
          this.#formattedName = decodeText(p.raw);
        });
        return;
      case 'N':
        this.#single(p, () => {
          const [family = '', given = '', additional = '', prefix = '', suffix = ''] = decodeList(p.raw, ';');
          this.#name = { prefix, given, additional, family, suffix };
        });
        return;
      case 'NICKNAME':
        this.#single(p, () => {
          this.#nickname = decodeText(p.raw);
        });
        return;
      case 'ORG':
        this.#single(p, () => {
          // RFC 6350 §6.6.4: organization name, then organizational units; the units stay
          // in `department`, separated by `;`, and are written back as units. A `;` within
          // a unit (escaped in the vCard) stays `\;` there, so that it is not taken for one.
          const [organization = '', ...units] = decodeList(p.raw, ';');
          this.#organization = organization;
          this.#department = departmentOf(units);
        });
        return;
      case 'TITLE':
        this.#single(p, () => {
          this.#title = decodeText(p.raw);
        });
        return;
      case 'NOTE':
        this.#single(p, () => {
          this.#note = decodeText(p.raw);
        });
        return;
      case 'BDAY':
        this.#single(p, () => {
          const date = birthday(p);
          if (date === undefined) return false;
          this.#birthday = date;
        });
        return;
      case 'CLASS':
        this.#single(p, () => {
          const value = decodeText(p.raw).trim().toUpperCase();
          // RFC 2426 §3.7.1 values; CONFIDENTIAL is at least as private as PRIVATE.
          if (value === 'PRIVATE' || value === 'CONFIDENTIAL') this.#private = true;
          else if (value !== 'PUBLIC') return false;
        });
        return;
      case 'CATEGORIES':
        this.#categories.push(...decodeList(p.raw, ',').map((c) => c.trim()));
        return;
      case 'EMAIL':
        this.#typed(p, this.#emails, decodeText(p.raw).trim());
        return;
      case 'TEL':
        // vCard 4.0 writes numbers as tel: URIs (RFC 6350 §6.4.1, RFC 3966); 3.0 as text.
        this.#typed(p, this.#phones, decodeText(p.raw).trim().replace(/^tel:/i, ''));
        return;
      case 'URL':
        // Some writers (Apple) escape the colon of the scheme: `http\://`.
        this.#typed(p, this.#urls, decodeText(p.raw).replace(/\\:/g, ':').trim());
        return;
      case 'ADR':
        this.#address(p);
        return;
      default:
        this.#extra.push(this.#extraLine(p));
    }
  }

  /** The contact read so far; `fallbackUid` stands in for a missing UID. */
  contact(fallbackUid: Uid): Contact {
    const partial = {
      name: this.#name,
      organization: this.#organization,
      emails: this.#emails,
    };
    return {
      uid: (this.#uid || fallbackUid) as Uid,
      name: this.#name,
      formattedName: this.#formattedName.trim() === '' ? deriveFormattedName(partial) : this.#formattedName,
      nickname: this.#nickname,
      organization: this.#organization,
      department: this.#department,
      title: this.#title,
      emails: this.#emails,
      phones: this.#phones,
      addresses: this.#addresses,
      urls: this.#urls,
      birthday: this.#birthday,
      note: this.#note,
      categories: this.#categories.filter((c) => c !== ''),
      private: this.#private,
      extra: this.#extra,
    };
  }

  /**
   * A property the model holds once: the first occurrence is read (unless `read` returns
   * false, when it cannot be represented); any other stays in `extra` as written.
   */
  #single(p: ParsedProperty, read: () => unknown): void {
    if (!this.#seen.has(p.name) && read() !== false) this.#seen.add(p.name);
    else this.#extra.push(p.line);
  }

  #typed(p: ParsedProperty, into: TypedValue[], value: string): void {
    if (value === '') return;
    const typed: TypedValue = { types: typesOf(p), value };
    into.push(typed);
    this.#anchor(p, encodeTypedValue(p.name, value));
  }

  #address(p: ParsedProperty): void {
    const parts = decodeAddressParts(p.raw);
    if (Object.values(parts).every((s) => s.trim() === '')) return;
    const address: PostalAddress = { types: typesOf(p), ...parts };
    this.#addresses.push(address);
    this.#anchor(p, encodeAddress(address));
  }

  #anchor(p: ParsedProperty, encodedValue: string): void {
    const line = anchorLine(p, typedParamsOf(p), encodedValue);
    if (line !== undefined) this.#extra.push(line);
  }

  /**
   * An unmodelled property, as written, except vCard 4.0 media: a `data:` URI becomes
   * 3.0's ENCODING=b with a TYPE, another URI gets VALUE=uri, because Liaison writes 3.0.
   */
  #extraLine(p: ParsedProperty): string {
    if (!this.#v4 || !MEDIA.has(p.name)) return p.line;
    const head = p.group ? `${p.group}.${p.name}` : p.name;
    const params = canonicalParams(p, new Set(['value', 'mediatype']));
    const data = /^data:([^,;]*)[^,]*;base64,(.*)$/is.exec(p.raw);
    if (data) {
      const subtype = (data[1] ?? '').split('/')[1] ?? '';
      const type =
        subtype && !params.some((x) => x.startsWith('TYPE=')) ? [`TYPE=${subtype.toUpperCase()}`] : [];
      return `${head};${['ENCODING=b', ...type, ...params].join(';')}:${data[2] ?? ''}`;
    }
    return `${head};${['VALUE=uri', ...params].join(';')}:${p.raw}`;
  }
}

/** Lower-case TYPE values; a vCard 4.0 PREF=1 is 3.0's TYPE=pref (RFC 6350 §5.3, RFC 2426 §3.3.1). */
function typesOf(p: ParsedProperty): string[] {
  const types = paramList(p, 'type')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  if (paramText(p, 'pref') === '1') types.push('pref');
  return [...new Set(types)];
}

/**
 * BDAY as an ISO date: YYYY-MM-DD, or --MM-DD without a year (RFC 6350 §4.3.4). Apple writes a
 * year-less birthday as 1604-MM-DD with X-APPLE-OMIT-YEAR=1604. Undefined when the value is
 * not a date (vCard 4.0 allows free text).
 */
function birthday(p: ParsedProperty): string | undefined {
  if (p.valueType === 'text') return undefined;
  const value = typeof p.values[0] === 'string' ? p.values[0] : '';
  const full = /^(\d{4})-?(\d{2})-?(\d{2})(?:T|$)/.exec(value);
  if (full) {
    const [, year = '', month = '', day = ''] = full;
    if (!validMonthDay(month, day)) return undefined;
    return paramText(p, 'x-apple-omit-year') === year ? `--${month}-${day}` : `${year}-${month}-${day}`;
  }
  const yearless = /^--(\d{2})-?(\d{2})$/.exec(value);
  if (!yearless) return undefined;
  const [, month = '', day = ''] = yearless;
  return validMonthDay(month, day) ? `--${month}-${day}` : undefined;
}

function validMonthDay(month: string, day: string): boolean {
  const m = Number(month);
  const d = Number(day);
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/**
 * FN for a card that has none (RFC 6350 §6.2.1 requires one): the name parts in reading
 * order, else the organization, else the first e-mail address.
 */
export function deriveFormattedName(c: Pick<Contact, 'name' | 'organization' | 'emails'>): string {
  const n = c.name;
  const fromName = [n.prefix, n.given, n.additional, n.family, n.suffix]
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .join(' ');
  return fromName || c.organization.trim() || c.emails[0]?.value || '';
}
