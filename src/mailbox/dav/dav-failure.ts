/**
 * HTTP answers and transport failures as `LiaisonError`s. The kind decides what sync does
 * next (DESIGN §2); the message names the server, the request and, where known, the user,
 * collection and item, and says what an administrator can do. No credential ever appears:
 * URLs are shown by `displayUrl` (no user info) and headers are never quoted.
 */
import type { ErrorContext, ErrorKind } from '../../domain/errors.js';
import { LiaisonError } from '../../domain/errors.js';
import { displayUrl } from './dav-href.js';
import { CALDAV_NS, CARDDAV_NS, clark, DAV_NS } from './xml-element.js';

/** Where a request went, for messages and error context. */
export interface RequestContext {
  /** The mailbox account the request was made for. */
  readonly user?: string;
  /** The collection's path. */
  readonly collection?: string;
  /** The item's path. */
  readonly href?: string;
}

/** A precondition or postcondition code from a `DAV:error` body (RFC 4918 §16). */
export interface Precondition {
  /** Clark name, e.g. `{DAV:}valid-sync-token`. */
  readonly name: string;
  /** Hrefs inside it, as canonical paths (no-uid-conflict names the existing item). */
  readonly hrefs: readonly string[];
}

/** What is known of a failed request. */
export interface FailedRequest {
  readonly server: string;
  readonly method: string;
  readonly url: URL;
  readonly context: RequestContext;
  /** Whose login the request was made with, for a refused one (never the secret). */
  readonly login?: LoginOwner;
  /** For a 429 or 503: how long the server asked to wait (Retry-After), in ms. */
  readonly retryAfterMs?: number;
}

/** A login: its account name (none for a token), and the user it belongs to (none: the service account). */
export interface LoginOwner {
  readonly account: string | null;
  readonly user: string | null;
}

/** RFC 6578 §3.2: the precondition a server names when it refuses a sync token. */
export const VALID_SYNC_TOKEN = clark({ ns: DAV_NS, local: 'valid-sync-token' });
/**
 * Another resource already holds this UID: RFC 4791 §5.3.2.1 and RFC 6352 §6.3.2.1
 * no-uid-conflict, and RFC 6638 §3.2.4.1 unique-scheduling-object-resource (one UID in
 * all of a user's calendars), which Cyrus names for every event, scheduling or not. Each
 * names the resource holding the UID in a DAV:href.
 */
const NO_UID_CONFLICT = new Set([
  clark({ ns: CALDAV_NS, local: 'no-uid-conflict' }),
  clark({ ns: CARDDAV_NS, local: 'no-uid-conflict' }),
  clark({ ns: CALDAV_NS, local: 'unique-scheduling-object-resource' }),
]);

/** The precondition among `preconditions` telling of a UID conflict, if any. */
export function uidConflict(preconditions: readonly Precondition[]): Precondition | undefined {
  return preconditions.find((p) => NO_UID_CONFLICT.has(p.name));
}

/** The message prefix: server, method, URL and whatever context is known. */
export function describeRequest(request: FailedRequest): string {
  const { context } = request;
  const parts = [`${request.server}: ${request.method} ${displayUrl(request.url)}`];
  if (context.user !== undefined) parts.push(`for user ${context.user}`);
  if (context.collection !== undefined && context.href === undefined)
    parts.push(`in collection ${context.collection}`);
  if (context.href !== undefined && context.collection !== undefined)
    parts.push(`(item ${context.href} of collection ${context.collection})`);
  return parts.join(' ');
}

/** The error context; `href` null leaves the request's href out (it is not the one that matters). */
function errorContext(request: FailedRequest, href?: string | null): ErrorContext {
  const { user, collection } = request.context;
  const itemHref = href === null ? undefined : (href ?? request.context.href);
  return {
    server: request.server,
    ...(user === undefined ? {} : { user }),
    ...(collection === undefined ? {} : { collection }),
    ...(itemHref === undefined ? {} : { href: itemHref }),
  };
}

/** A `LiaisonError` of `kind` about `request`, with `detail` after the request's description. */
export function requestError(
  kind: ErrorKind,
  request: FailedRequest,
  detail: string,
  options: { cause?: unknown; href?: string | null } = {},
): LiaisonError {
  return new LiaisonError(kind, `${describeRequest(request)}: ${detail}`, {
    ...(options.cause === undefined ? {} : { cause: options.cause }),
    context: errorContext(request, options.href),
  });
}

/**
 * The error for an HTTP status that the caller did not expect. Request-specific readings
 * (a 412 on a create is AlreadyExists, a 404 on a delete is success) are made by the caller
 * before it falls back to this.
 */
export function statusError(
  request: FailedRequest,
  status: number,
  preconditions: readonly Precondition[] = [],
): LiaisonError {
  const codes = preconditions.length === 0 ? '' : ` [${preconditions.map((p) => p.name).join(', ')}]`;
  const answered = `answered ${status}${codes}`;
  if (preconditions.some((p) => p.name === VALID_SYNC_TOKEN)) {
    return requestError('InvalidSyncToken', request, `${answered}: the sync token is no longer valid`);
  }
  const conflict = uidConflict(preconditions);
  if (conflict !== undefined) {
    const existing = conflict.hrefs[0];
    return requestError(
      'AlreadyExists',
      request,
      `${answered}: another item already has this UID${existing === undefined ? '' : ` (${existing})`}`,
      // AlreadyExists' context.href names the item holding the UID, never the href we tried.
      { href: existing ?? null },
    );
  }
  if (status === 401 && request.login !== undefined) {
    return requestError(
      'AccessDenied',
      request,
      `${answered}: ${refusedLogin(request.server, request.login)}`,
    );
  }
  const [kind, advice] = statusKind(status, preconditions.length > 0);
  const wait =
    request.retryAfterMs === undefined ? '' : ` (the server asks to wait ${waitText(request.retryAfterMs)})`;
  return requestError(kind, request, `${answered}: ${advice}${wait}`);
}

/** A wait in words: seconds, minutes or hours. */
function waitText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** What to check when the server refused a login: the service account's, or a user's own. */
function refusedLogin(server: string, login: LoginOwner): string {
  const account = login.account === null ? '' : ` (account ${login.account})`;
  return login.user === null
    ? `the server refused the service account's credentials${account}: check them with \`liaison server set ${server} --password-env VAR\``
    : `the server refused the credentials of user ${login.user}'s own login${account}, not the service account's: check them with \`liaison user set ${login.user} --password-env VAR\``;
}

function statusKind(status: number, hasPrecondition: boolean): [ErrorKind, string] {
  if (status === 401)
    return ['AccessDenied', 'the server refused the credentials: check the user name and password or token'];
  if (status === 403 && hasPrecondition)
    return ['InvalidData', 'the server refused the content (see the condition named)'];
  if (status === 403)
    return ['AccessDenied', "the account may not do this: check the server's access rights for it"];
  if (status === 404 || status === 410) return ['NotFound', 'no such resource'];
  if (status === 409) return ['NotFound', 'conflict: the parent collection is probably missing'];
  if (status === 412) return ['PreconditionFailed', 'the item changed since it was listed'];
  if (status === 413) return ['InvalidData', 'the item is too large for the server'];
  if (status === 429) return ['RateLimited', 'the server is rate limiting Liaison: retry later'];
  if (status === 405 || status === 501)
    return ['Config', 'the server does not support this request here: check the server URL and collection'];
  if (status === 423) return ['Unavailable', 'the resource is locked: retry later'];
  if (status === 507) return ['Unavailable', 'the server is out of storage (quota?)'];
  // Retried within the run unless the server asked for a longer wait (Retry-After) than a run waits.
  if (status === 503)
    return ['Unavailable', 'the server is unavailable for now (overloaded or in maintenance): retry later'];
  if (status >= 500) return ['Unavailable', 'the server failed: retry later, or see its logs'];
  if (status >= 300 && status < 400)
    return ['Config', 'unexpected redirect: configure the address the server redirects to'];
  return ['InvalidData', 'the server refused the request'];
}

/**
 * The error for a request that got no answer (refused connection, timeout, reset);
 * `tries` says how often it was sent and how long each waited, for a timeout.
 */
export function transportError(
  request: FailedRequest,
  error: unknown,
  tries?: { readonly attempts: number; readonly timeoutMs: number },
): LiaisonError {
  const code = errorCode(error);
  let reason = code === undefined ? 'no answer' : (TRANSPORT_REASONS[code] ?? code);
  if (tries !== undefined && (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')) {
    const ms = tries.timeoutMs;
    const wait = ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
    reason = `${reason} of ${wait}${tries.attempts > 1 ? `, ${tries.attempts} times` : ''}`;
  }
  // The cause keeps only code and message: an undici error object is never passed on whole.
  const cause = new Error(error instanceof Error ? error.message : String(error));
  if (code !== undefined) Object.assign(cause, { code });
  if (code !== undefined && TLS_CODES.has(code)) {
    return requestError(
      'Config',
      request,
      `${reason}: the server's TLS certificate is not trusted; install its certificate authority (NODE_EXTRA_CA_CERTS=file.pem), or for a test server only: liaison server set ${request.server} --insecure-skip-tls-verify`,
      { cause },
    );
  }
  // A server that took the connection and never answered is up, but hung or overloaded.
  const advice =
    code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
      ? 'the server took the connection but did not answer: check that it is not hung or overloaded'
      : 'check that the server is up and reachable';
  return requestError('Unavailable', request, `${reason}: ${advice}`, { cause });
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TRANSPORT_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer within the timeout',
  UND_ERR_BODY_TIMEOUT: 'the answer stalled beyond the timeout',
  UND_ERR_SOCKET: 'connection closed by the server',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  CERT_HAS_EXPIRED: 'TLS certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
};

/** The `code` of a Node.js or undici error (following `cause` once), if any. */
export function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 3; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof e.code === 'string') return e.code;
    e = typeof e === 'object' && 'cause' in e ? e.cause : undefined;
  }
  return undefined;
}
