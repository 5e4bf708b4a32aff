/**
 * When to send a request again, and how long to wait first. Pure functions of the attempt,
 * the answer and the clock, so they are tested without a server.
 */

/** Settings of the retry loop. */
export interface RetrySettings {
  /** Retries after the first attempt (`DavServerConfig.retries`). */
  readonly retries: number;
  /** First backoff step in ms; each retry doubles it. */
  readonly backoffMs: number;
  /** Longest wait in ms; a Retry-After beyond it ends the retries instead of blocking a run. */
  readonly maxWaitMs: number;
}

/**
 * The wait an HTTP `Retry-After` header asks for, in ms (RFC 9110 §10.2.3: delay-seconds or
 * an HTTP-date); undefined when the header is absent or unreadable. A date in the past is 0.
 */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An IMF-fixdate names its day and month; Date.parse alone would take "-5" for a year.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Exponential backoff with "equal jitter": between half and all of `base · 2^attempt`, capped.
 * The jitter keeps many workers that failed together from retrying together.
 */
export function backoffMs(
  attempt: number,
  settings: RetrySettings,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(settings.maxWaitMs, settings.backoffMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Whether a request may be sent again when its outcome is unknown (the connection broke
 * after it was sent, a timeout, a 5xx). RFC 9110 §9.2.2 makes PROPFIND, REPORT, GET, HEAD
 * and OPTIONS safe to repeat. A PUT or DELETE is repeated only under a precondition:
 * - `If-Match: E` — if the first attempt took effect, the etag is no longer E and the
 *   repeat fails with 412 (or 404 for a delete) instead of overwriting anything. The caller
 *   treats that 412 as any other: re-read and re-plan, which finds the item already as
 *   intended. Without If-Match a repeat could overwrite an edit made in between.
 * - `If-None-Match: *` — a create that took effect makes the repeat fail with 412, reported
 *   as AlreadyExists for our own href; the next run matches the item by UID. Never a duplicate.
 * PROPPATCH, MKCOL and MKCALENDAR are not repeated: their effects are checked by the caller.
 */
export function isRepeatable(method: string, headers: Readonly<Record<string, string>>): boolean {
  switch (method) {
    case 'PROPFIND':
    case 'REPORT':
    case 'GET':
    case 'HEAD':
    case 'OPTIONS':
      return true;
    case 'PUT':
      return headers['if-match'] !== undefined || headers['if-none-match'] === '*';
    case 'DELETE':
      return headers['if-match'] !== undefined;
    default:
      return false;
  }
}

/**
 * Connection errors that happen before any byte of the request reached the server: repeating
 * them is safe whatever the method.
 */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Whether a failed attempt may be repeated: see {@link isRepeatable} and {@link NOT_SENT}. */
export function mayRetryFailure(code: string | undefined, repeatable: boolean): boolean {
  return repeatable || (code !== undefined && NOT_SENT.has(code));
}

/** No answer within the timeout: connecting, the headers, or a silence in the body. */
const TIMED_OUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/**
 * How many retries a failure gets: the configured number, but one at most after a timeout.
 * A server silent for a whole timeout seldom answers the next try, and each try costs the
 * timeout again (with 30 s and 3 retries, two minutes per request).
 */
export function retriesAfter(code: string | undefined, retries: number): number {
  return code !== undefined && TIMED_OUT.has(code) ? Math.min(retries, 1) : retries;
}
