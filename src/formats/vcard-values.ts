/**
 * How modelled vCard values are written: shared by the writer and by the anchors the reader
 * leaves, so that an anchor's value and a written value compare equal.
 */
import type { PostalAddress } from '../domain/contact.js';
import { decodeList, encodeParamValue, escapeText } from './text-values.js';

/**
 * The written value of EMAIL, TEL or URL. URL is a URI in vCard 3.0 (RFC 2426 §3.6.8) and is
 * written as it is, since escaping would change the URI; the others are TEXT.
 */
export function encodeTypedValue(name: string, value: string): string {
  return name === 'URL' ? value.replace(/\r\n|\r|\n/g, '') : escapeText(value);
}

/** The seven components of an ADR value (RFC 6350 §6.3.1), each decoded; missing ones are ''. */
export function decodeAddressParts(raw: string): Omit<PostalAddress, 'types'> {
  const [poBox = '', extended = '', street = '', locality = '', region = '', postalCode = '', country = ''] =
    decodeList(raw, ';');
  return { poBox, extended, street, locality, region, postalCode, country };
}

/** The written value of ADR: seven TEXT components (RFC 2426 §3.2.1, RFC 6350 §6.3.1). */
export function encodeAddress(a: PostalAddress): string {
  return [a.poBox, a.extended, a.street, a.locality, a.region, a.postalCode, a.country]
    .map(escapeText)
    .join(';');
}

/** `TYPE=a,b` for a non-empty type list, as a one-element array to spread into a parameter list. */
export function typeParam(types: readonly string[]): string[] {
  const list = types.map((t) => t.trim()).filter((t) => t !== '');
  return list.length === 0 ? [] : [`TYPE=${list.map((t) => encodeParamValue(t)).join(',')}`];
}

/**
 * The organizational units a contact's `department` holds: separated by `;`, a `\;` being
 * a semicolon within a unit (RFC 6350 §6.6.4, units past the organization name).
 */
export function departmentUnits(department: string): string[] {
  return department === '' ? [] : department.split(/(?<!\\);/).map((u) => u.replaceAll('\\;', ';'));
}

/** The `department` that holds these units (see {@link departmentUnits}). */
export function departmentOf(units: readonly string[]): string {
  return units.map((u) => u.replaceAll(';', '\\;')).join(';');
}
