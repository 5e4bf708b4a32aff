/**
 * Writing a contact back as vCard 4.0 (RFC 6350) when it came from a 4.0 card.
 *
 * The contact model follows 3.0 (TYPE=pref, media with ENCODING=b), since CardDAV requires
 * servers to take 3.0. A card a client wrote as 4.0 keeps that version through the model
 * in one line of `extra`, {@link VERSION_4}, and is written back as 4.0: otherwise its
 * 4.0-only properties (KIND, MEMBER, GENDER, ANNIVERSARY) would land in a 3.0 card, where
 * clients no longer recognise a group. These are the few places where the two differ.
 */
import { canonicalParams, type ParsedProperty, paramText, parseProperty, VCARD3 } from './ical-property.js';
import { encodeParamValue } from './text-values.js';

/** The line `extra` holds for a card read as vCard 4.0. */
export const VERSION_4 = 'VERSION:4.0';

/** Binary properties: ENCODING=b in 3.0, a `data:` URI in 4.0 (RFC 6350 §6.2.4). */
const MEDIA: ReadonlySet<string> = new Set(['PHOTO', 'LOGO', 'SOUND', 'KEY']);

/** Whether `extra` marks a card to be written as vCard 4.0. */
export function isVersion4(extra: readonly string[]): boolean {
  return extra.includes(VERSION_4);
}

/** TYPE and PREF parameters in 4.0 form: `pref` is PREF=1 there (RFC 6350 §5.3). */
export function typeParam4(types: readonly string[]): string[] {
  const list = types.map((t) => t.trim()).filter((t) => t !== '' && t !== 'pref');
  const params = list.length === 0 ? [] : [`TYPE=${list.map((t) => encodeParamValue(t)).join(',')}`];
  return types.includes('pref') ? [...params, 'PREF=1'] : params;
}

/**
 * A phone number as a `tel:` URI (RFC 3966), or null when it cannot be one as it is: a
 * number of digits and `+-.()` with optional `;name=value` parameters (`;ext=12`).
 */
export function telUri(value: string): string | null {
  return /^\+?[0-9().-]*[0-9][0-9().-]*(;[a-z][a-z0-9-]*=[^;\s]+)*$/i.test(value) ? `tel:${value}` : null;
}

/** BDAY in 4.0's basic format: YYYYMMDD, or --MMDD without a year (RFC 6350 §4.3.1). */
export function birthday4(iso: string): string {
  return iso.startsWith('--') ? `--${iso.slice(2).replace('-', '')}` : iso.replace(/-/g, '');
}

/**
 * An extra line in 4.0 form: media held as 3.0's ENCODING=b become `data:` URIs again, and
 * a VALUE=uri is dropped (a URI is 4.0's default for them). Other lines are kept as they are.
 */
export function extraLine4(line: string): string {
  let p: ParsedProperty;
  try {
    p = parseProperty(line, VCARD3);
  } catch {
    return line;
  }
  if (!MEDIA.has(p.name)) return line;
  const head = p.group ? `${p.group}.${p.name}` : p.name;
  const encoding = paramText(p, 'encoding').toLowerCase();
  if (encoding === 'b' || encoding === 'base64') {
    // In 3.0 TYPE names the media type of a binary value (TYPE=JPEG); in 4.0 it does not.
    const subtype = paramText(p, 'type').toLowerCase();
    const other = canonicalParams(p, new Set(['encoding', 'type', 'value']));
    const media = subtype === '' ? 'application/octet-stream' : `${MEDIA_TOP[p.name] ?? 'image'}/${subtype}`;
    return `${[head, ...other].join(';')}:data:${media};base64,${p.raw.replace(/\s/g, '')}`;
  }
  if (p.valueType === 'uri') {
    return `${[head, ...canonicalParams(p, new Set(['value']))].join(';')}:${p.raw}`;
  }
  return line;
}

/** The top-level media type of each binary property's `data:` URI. */
const MEDIA_TOP: Readonly<Record<string, string>> = {
  PHOTO: 'image',
  LOGO: 'image',
  SOUND: 'audio',
  KEY: 'application',
};
