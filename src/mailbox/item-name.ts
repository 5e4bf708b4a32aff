import { createHash } from 'node:crypto';
import { LiaisonError } from '../domain/errors.js';
import type { CollectionKind, Href, Uid } from '../domain/ids.js';
import { asHref } from '../domain/ids.js';

/** The file extension of an item of each collection kind (vdir convention, also used in DAV hrefs). */
export const ITEM_EXTENSION: Readonly<Record<CollectionKind, '.vcf' | '.ics'>> = {
  contacts: '.vcf',
  calendar: '.ics',
};

/**
 * Longest encoded UID kept verbatim. Names stay well under the 255-byte limit of common
 * filesystems and the path-segment limits of DAV servers, with room for the extension.
 */
const MAX_PLAIN_LENGTH = 120;
/** Encoded prefix kept in front of the hash when a UID is too long. */
const TRUNCATED_PREFIX_LENGTH = 80;

const SAFE = /^[A-Za-z0-9._@-]$/;

/**
 * Derives an item name (file name or last href segment) from a UID.
 *
 * The mapping is injective: characters outside `[A-Za-z0-9._@-]` — including `%` itself —
 * are percent-encoded byte by byte (UTF-8), and a leading dot is encoded so the name is
 * never hidden. An encoded UID longer than 120 characters is cut to an 80-character
 * prefix plus `~` and 32 hex digits of the UID's SHA-256; `~` never appears in an
 * untruncated name, so a cut name cannot collide with a plain one. The result never
 * holds a path separator and never starts with a dot.
 *
 * Throws `InvalidData` for an empty UID: an item needs an identity before it is stored.
 */
export function itemName(uid: Uid, kind: CollectionKind): Href {
  if (uid.length === 0) {
    throw new LiaisonError('InvalidData', 'cannot store an item with an empty UID', {
      context: { collection: kind },
    });
  }
  let encoded = '';
  for (const ch of uid) {
    if (SAFE.test(ch)) {
      encoded += ch;
    } else {
      for (const byte of utf8Bytes(ch)) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  if (encoded.startsWith('.')) encoded = `%2E${encoded.slice(1)}`;
  if (encoded.length > MAX_PLAIN_LENGTH) {
    let cut = TRUNCATED_PREFIX_LENGTH;
    // Do not split a %XX escape: it would leave a dangling '%' that reads as a different byte.
    const lastPercent = encoded.lastIndexOf('%', cut - 1);
    if (lastPercent >= 0 && lastPercent > cut - 3) cut = lastPercent;
    const digest = createHash('sha256').update(uid, 'utf8').digest('hex').slice(0, 32);
    encoded = `${encoded.slice(0, cut)}~${digest}`;
  }
  return asHref(`${encoded}${ITEM_EXTENSION[kind]}`);
}

/**
 * UTF-8 bytes of one code point. A lone surrogate (possible in a JS string, never in valid
 * text) gets its generalized UTF-8 form instead of U+FFFD, so that no two UIDs share a name.
 */
function utf8Bytes(ch: string): readonly number[] {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0xd800 && cp <= 0xdfff) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [...Buffer.from(ch, 'utf8')];
}
