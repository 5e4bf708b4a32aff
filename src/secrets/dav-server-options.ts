/**
 * What a DAV server's record keeps in clear in its options JSON: how its account logs in
 * (never the password or token: those are encrypted in the secret column), whether TLS is
 * verified, and optional tuning.
 */
import type { MailboxServerRecord, ServerOptions } from '../db/index.js';
import { redactUrl } from '../db/index.js';
import { LiaisonError } from '../domain/errors.js';
import { DAV_DEFAULTS, type DavAuth } from '../mailbox/dav/dav-config.js';

/** How the server's service account authenticates. */
export type DavAuthKind = DavAuth['kind'];
export const DAV_AUTH_KINDS: readonly DavAuthKind[] = ['none', 'basic', 'bearer'];

/** The readable part of a DAV server's settings. */
export interface DavServerOptions {
  readonly auth: DavAuthKind;
  /** The service account's login, for basic auth; null otherwise. */
  readonly username: string | null;
  /** Skip TLS certificate verification (SPEC §10: only when an administrator says so). */
  readonly tlsSkipVerify: boolean;
  readonly maxConnections: number;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly multigetBatch: number;
  /** The address book to sync in each mailbox (name or display name); null: the default one. */
  readonly addressbook: string | null;
  /** The calendar to sync in each mailbox; null: the default one. */
  readonly calendar: string | null;
}

const nameOrNull = (value: unknown): string | null =>
  typeof value === 'string' && value.trim() !== '' ? value : null;

const positiveInt = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : fallback;

/**
 * Reads a DAV server's options, with defaults from `DAV_DEFAULTS`. A record without an
 * `auth` option (made before it existed, or by hand) is read as basic auth when it names a
 * username, bearer when it holds a secret without one, and no auth otherwise.
 */
export function davOptionsOf(record: MailboxServerRecord): DavServerOptions {
  const o = record.options;
  const username = typeof o.username === 'string' && o.username !== '' ? o.username : null;
  const stated = DAV_AUTH_KINDS.find((k) => k === o.auth);
  const auth: DavAuthKind = stated ?? (username !== null ? 'basic' : record.hasSecret ? 'bearer' : 'none');
  return {
    auth,
    username: auth === 'basic' ? username : null,
    tlsSkipVerify: o.tlsSkipVerify === true,
    maxConnections: positiveInt(o.maxConnections, DAV_DEFAULTS.maxConnections),
    timeoutMs: positiveInt(o.timeoutMs, DAV_DEFAULTS.timeoutMs),
    retries:
      typeof o.retries === 'number' && Number.isInteger(o.retries) && o.retries >= 0
        ? o.retries
        : DAV_DEFAULTS.retries,
    multigetBatch: positiveInt(o.multigetBatch, DAV_DEFAULTS.multigetBatch),
    addressbook: nameOrNull(o.addressbook),
    calendar: nameOrNull(o.calendar),
  };
}

/** Collections an administrator names instead of the user's default ones; null clears a name. */
export interface CollectionNames {
  readonly addressbook?: string | null;
  readonly calendar?: string | null;
}

/**
 * The options JSON for `auth`, `tlsSkipVerify` and the collection names, keeping every
 * other option of `previous` (and the collection names `names` leaves out).
 */
export function withDavOptions(
  previous: ServerOptions,
  auth: { readonly kind: DavAuthKind; readonly username?: string | null },
  tlsSkipVerify: boolean,
  names: CollectionNames = {},
): ServerOptions {
  const { username: _u, auth: _a, tlsSkipVerify: _t, addressbook, calendar, ...rest } = previous;
  const book = names.addressbook === undefined ? nameOrNull(addressbook) : nameOrNull(names.addressbook);
  const cal = names.calendar === undefined ? nameOrNull(calendar) : nameOrNull(names.calendar);
  return {
    ...rest,
    auth: auth.kind,
    ...(auth.kind === 'basic' && auth.username ? { username: auth.username } : {}),
    tlsSkipVerify,
    ...(book !== null ? { addressbook: book } : {}),
    ...(cal !== null ? { calendar: cal } : {}),
  };
}

/**
 * Checks a DAV server URL: http or https, and no credentials in it (they belong in the
 * encrypted secret, not in a column printed by `server list`). Throws `Usage`; the message
 * shows the URL with any password masked.
 */
export function checkDavUrl(url: string): string {
  // Kept as written (not normalized): it is what the administrator sees in `server list`.
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LiaisonError('Usage', `${redactUrl(url)} is not a URL: give the server's http(s):// address`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new LiaisonError('Usage', `${redactUrl(url)} is not an http:// or https:// URL`);
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new LiaisonError(
      'Usage',
      'the server URL must not hold a username or password: give them with --username and --password-env',
    );
  }
  return url;
}

/** Checks a credential's parts before it is stored. Throws `Usage`. */
export function checkCredential(auth: DavAuth): void {
  if (auth.kind === 'basic') {
    // RFC 7617 §2: the user-id of basic auth cannot contain a colon.
    if (auth.username === '' || auth.username.includes(':')) {
      throw new LiaisonError('Usage', 'the username must not be empty nor contain a colon');
    }
    if (auth.password === '') throw new LiaisonError('Usage', 'the password is empty');
  }
  if (auth.kind === 'bearer' && auth.token.trim() === '')
    throw new LiaisonError('Usage', 'the token is empty');
}
