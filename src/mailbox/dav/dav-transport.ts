/**
 * HTTP for one DAV server over undici: one connection pool per server (at most
 * `maxConnections` sockets), TLS verified unless the configuration skips it, a timeout on
 * every request, authentication, and bounded retries (see `retry-policy.ts`). It returns
 * every answer it does not retry; reading statuses is the caller's business.
 *
 * `timeoutMs` bounds connecting, the wait for an answer's headers, and any silence while
 * its body streams: a listing that keeps streaming for longer is not cut off, a server
 * that stops answering is.
 */
import { Agent, type Dispatcher, request } from 'undici';
import { LiaisonError } from '../../domain/errors.js';
import type { DavServerConfig } from './dav-config.js';
import {
  errorCode,
  type FailedRequest,
  type LoginOwner,
  type RequestContext,
  requestError,
  transportError,
} from './dav-failure.js';
import { displayUrl } from './dav-href.js';
import {
  backoffMs,
  isRepeatable,
  mayRetryFailure,
  type RetrySettings,
  retriesAfter,
  retryAfterMs,
} from './retry-policy.js';
import { ServerHealth } from './server-health.js';

/** One request as the transport sends it. */
export interface DavHttpRequest {
  readonly method: string;
  /** A path on the server (canonical, see `dav-href.ts`) or an absolute URL of the same origin. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly context: RequestContext;
}

/** An answer; its body must be read or dumped by the caller. */
export interface DavHttpResponse {
  readonly status: number;
  readonly url: URL;
  header(name: string): string | undefined;
  readonly body: Dispatcher.ResponseData['body'];
}

/** What the transport reports about each attempt (never a header, never a credential). */
export interface DavRequestEvent {
  readonly method: string;
  readonly url: string;
  /** The answer's status, or null when there was none. */
  readonly status: number | null;
  /** 0 for the first attempt. */
  readonly attempt: number;
  /** Time until the answer's headers (or the failure), in ms. */
  readonly ms: number;
  /** The failure's code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, …) when there was no answer. */
  readonly error?: string;
}

/** Tuning of a {@link DavTransport} beyond the server's configuration. */
export interface DavTransportOptions {
  /** First backoff step in ms (default 250). */
  readonly backoffMs?: number;
  /** Longest wait for a Retry-After or a backoff, in ms (default 60 000). */
  readonly maxWaitMs?: number;
  /** Called after every attempt: for metrics and tests. */
  readonly onRequest?: (event: DavRequestEvent) => void;
  /** Shared with other connections to the same server (default: this transport's own). */
  readonly health?: ServerHealth;
}

const USER_AGENT = 'Liaison (CardDAV/CalDAV sync)';

/** Turns of the event loop `sendStarted` waits at most (a connection still being made). */
const MAX_SEND_TURNS = 100;

/** The HTTP side of one configured server (see the file comment). */
export class DavTransport {
  /** The server's origin and base path, from the configuration (without user info). */
  readonly base: URL;
  readonly server: string;
  readonly #agent: Agent;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #retry: RetrySettings;
  readonly #onRequest: ((event: DavRequestEvent) => void) | undefined;
  readonly #health: ServerHealth;
  readonly #login: LoginOwner;

  constructor(config: DavServerConfig, options: DavTransportOptions = {}) {
    this.server = config.name;
    this.#login = {
      account: config.auth.kind === 'basic' ? config.auth.username : null,
      user: config.authOf ?? null,
    };
    let base: URL;
    try {
      base = new URL(config.url);
    } catch (e) {
      throw new LiaisonError('Config', `${config.name}: the server URL is not a URL`, {
        cause: e,
        context: { server: config.name },
      });
    }
    // Credentials belong in `auth`; a URL carrying them would leak into every message.
    base.username = '';
    base.password = '';
    this.base = base;
    this.#timeoutMs = config.timeoutMs;
    this.#retry = {
      retries: Math.max(0, config.retries),
      backoffMs: options.backoffMs ?? 250,
      maxWaitMs: options.maxWaitMs ?? 60_000,
    };
    this.#onRequest = options.onRequest;
    this.#health = options.health ?? new ServerHealth();
    this.#authorization = authorization(config);
    this.#agent = new Agent({
      connections: Math.max(1, config.maxConnections),
      connect: { rejectUnauthorized: !config.tls.skipVerify, timeout: config.timeoutMs },
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
    });
  }

  /** The absolute URL of `path`; refuses another origin, where the credentials must not go. */
  url(path: string, context: RequestContext = {}): URL {
    const url = new URL(path, this.base);
    if (url.origin !== this.base.origin) {
      throw requestError(
        'Config',
        { server: this.server, method: 'GET', url, context },
        `leads to another server than ${this.base.origin}; Liaison sends its credentials only there — configure that address instead`,
      );
    }
    return url;
  }

  /** The description of a request for error messages. */
  described(method: string, url: URL, context: RequestContext): FailedRequest {
    return { server: this.server, method, url, context, login: this.#login };
  }

  /**
   * Sends a request, retrying transient failures: a 429 or 503 is retried after the
   * Retry-After it names (or a backoff) whatever the method, since the server did not act
   * on it (RFC 6585 §4, RFC 9110 §15.6.4); a missing answer or another 5xx only when the
   * request may be repeated (`isRepeatable`). A Retry-After beyond the longest wait is not
   * waited for: the answer is returned at once so the run moves on. Throws `Unavailable`
   * (or `Config` for TLS problems) when no answer came.
   */
  async send(req: DavHttpRequest): Promise<DavHttpResponse> {
    const url = this.url(req.path, req.context);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
    if (this.#authorization !== undefined) headers.authorization = this.#authorization;
    const repeatable = isRepeatable(req.method, headers);
    this.#health.check(this.server);
    for (let attempt = 0; ; attempt++) {
      const started = Date.now();
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, {
          dispatcher: this.#agent,
          method: req.method as Dispatcher.HttpMethod,
          headers,
          body: req.body ?? null,
          // undici closes the connection after a request with a body whose method it does
          // not know to carry one (REPORT, MKCALENDAR), in case the server did not expect
          // it. DAV servers do: closing would cost every multiget a new connection (a new
          // TLS handshake, a new server process on Cyrus).
          reset: false,
          headersTimeout: this.#timeoutMs,
          bodyTimeout: this.#timeoutMs,
        });
      } catch (e) {
        const code = errorCode(e);
        this.#report(req.method, url, null, attempt, started, code ?? 'error');
        if (attempt >= retriesAfter(code, this.#retry.retries) || !mayRetryFailure(code, repeatable)) {
          const error = transportError(this.described(req.method, url, req.context), e, {
            attempts: attempt + 1,
            timeoutMs: this.#timeoutMs,
          });
          this.#health.failed(error);
          throw error;
        }
        await sleep(backoffMs(attempt, this.#retry));
        continue;
      }
      const status = response.statusCode;
      this.#health.answered();
      this.#report(req.method, url, status, attempt, started);
      const wait = this.#retryWait(status, response.headers['retry-after'], attempt, repeatable);
      if (wait === null) {
        return {
          status,
          url,
          header: (name) => headerValue(response.headers[name.toLowerCase()]),
          body: response.body,
        };
      }
      await response.body.dump();
      await sleep(wait);
    }
  }

  /** How long to wait before retrying an answer, or null to return it. */
  #retryWait(
    status: number,
    retryAfter: string | string[] | undefined,
    attempt: number,
    repeatable: boolean,
  ) {
    if (attempt >= this.#retry.retries) return null;
    if (status === 429 || status === 503) {
      const asked = retryAfterMs(headerValue(retryAfter));
      if (asked === undefined) return backoffMs(attempt, this.#retry);
      return asked > this.#retry.maxWaitMs ? null : asked;
    }
    if (status >= 500 && status !== 507 && repeatable) return backoffMs(attempt, this.#retry);
    return null;
  }

  #report(method: string, url: URL, status: number | null, attempt: number, started: number, error?: string) {
    this.#onRequest?.({
      method,
      url: displayUrl(url),
      status,
      attempt,
      ms: Date.now() - started,
      ...(error === undefined ? {} : { error }),
    });
  }

  /**
   * Resolves once no request waits to be written. The first turn lets a request still
   * being prepared (a few awaits away) reach the client; a new connection takes a few more.
   */
  async sendStarted(): Promise<void> {
    let turns = 0;
    do await new Promise((resolve) => setImmediate(resolve));
    while (++turns < MAX_SEND_TURNS && this.#waiting() > 0);
  }

  #waiting(): number {
    let waiting = 0;
    for (const pool of Object.values(this.#agent.stats)) waiting += pool.pending;
    return waiting;
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#agent.close();
  }
}

function authorization(config: DavServerConfig): string | undefined {
  const { auth } = config;
  if (auth.kind === 'basic') {
    // RFC 7617 §2.1: the user-pass is sent as UTF-8.
    return `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}`;
  }
  if (auth.kind === 'bearer') return `Bearer ${auth.token}`;
  return undefined;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
