/**
 * One spelling per DAV resource. Servers write the same href in several ways: absolute
 * (`http://host/a/`) or as a path (`/a/`), `@` as is or as `%40`, hex digits in either case
 * (RFC 4918 §8.3 allows all of them). Liaison keeps every href as a *canonical path*: the
 * URL path, each segment percent-decoded once and encoded again the same way, so that two
 * spellings of one resource compare equal and the result can be sent back as a URL.
 *
 * An item's name (from `itemName`, already made of `[A-Za-z0-9._@-]` and `%XX`) is the
 * resource's name on the server, so its `%` is itself encoded in the URL (`a%2Fb.vcf` is
 * sent as `a%252Fb.vcf`): no UID can smuggle a `/` or `..` into a path.
 */
import { LiaisonError } from '../../domain/errors.js';

/** Encodes one decoded path segment the canonical way (`@` and `:` stay readable). */
export function encodeSegment(name: string): string {
  return encodeURIComponent(name).replace(/%40/g, '@').replace(/%3A/g, ':');
}

/**
 * One raw path segment in canonical form. A segment that is not valid percent-encoded UTF-8
 * (`%E9` from a Latin-1 server) is kept as written, its escapes upper-cased: re-encoding it
 * would name a different resource.
 */
function canonicalSegment(segment: string): string {
  try {
    return encodeSegment(decodeURIComponent(segment));
  } catch {
    return segment.replace(/%[0-9a-f]{2}/gi, (hex) => hex.toUpperCase());
  }
}

/** A URL path (`/a%40b/x%20y/`) in canonical form. */
export function canonicalPath(path: string): string {
  return path.split('/').map(canonicalSegment).join('/');
}

/**
 * The canonical path of an href found in a DAV answer to a request for `base`: relative
 * hrefs are resolved against it, absolute ones keep only their path. Xandikos writes some
 * absolute hrefs with their scheme separator escaped (`http%3A//host/path`); those are read
 * as the URL they spell. Throws `InvalidData` when the href cannot be a URL.
 */
export function normalizeHref(raw: string, base: URL): string {
  const text = raw.trim();
  // Most hrefs are absolute paths already in canonical form; a listing holds one per item,
  // so they skip the URL parser (the property test checks both ways agree).
  if (CANONICAL_PATH.test(text) && !DOT_SEGMENT.test(text)) return text;
  return parsedHref(text, base);
}

/**
 * An absolute path (not `//host…`, which names another host) of characters that canonical
 * form writes as they are.
 */
const CANONICAL_PATH = /^\/(?!\/)[A-Za-z0-9\-_.!~*'()@:/]*$/;
/** A `.` or `..` segment, which the URL parser resolves. */
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/;

/** {@link normalizeHref} for any href: parsed as a URL against `base`. */
export function parsedHref(text: string, base: URL): string {
  let url: URL;
  try {
    url = /^[a-z][a-z0-9+.-]*%3A\/\//i.test(text) ? new URL(decodeURIComponent(text)) : new URL(text, base);
  } catch (e) {
    throw new LiaisonError('InvalidData', `${JSON.stringify(text.slice(0, 200))} is not a usable href`, {
      cause: e,
    });
  }
  return canonicalPath(url.pathname);
}

/** The path of collection `collection`'s member called `name` (a decoded segment). */
export function memberPath(collection: string, name: string): string {
  return `${withSlash(collection)}${encodeSegment(name)}`;
}

/** The path with exactly one trailing slash, as collection hrefs are written. */
export function withSlash(path: string): string {
  return path.endsWith('/') ? path : `${path}/`;
}

/** Whether two canonical paths name the same collection (a trailing slash is optional, RFC 4918 §5.2). */
export function sameCollection(a: string, b: string): boolean {
  return withSlash(a) === withSlash(b);
}

/**
 * Whether `href` names a non-collection member directly inside `collection`: one more
 * segment, not empty, no trailing slash.
 */
export function isItemOf(collection: string, href: string): boolean {
  const prefix = withSlash(collection);
  if (!href.startsWith(prefix)) return false;
  const rest = href.slice(prefix.length);
  return rest.length > 0 && !rest.includes('/');
}

/** The last decoded segment of a path, trailing slash ignored (a collection's name). */
export function lastSegment(path: string): string {
  const segment = path.replace(/\/+$/, '').split('/').at(-1) ?? '';
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The parent collection of a path (`/a/b/` → `/a/`). */
export function parentPath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(0, trimmed.lastIndexOf('/') + 1) || '/';
}

/**
 * The URL as it may appear in messages: origin and path, never a user name or password
 * (SPEC §10), never a query.
 */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
