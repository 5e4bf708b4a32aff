/**
 * WebDAV core (RFC 4918, RFC 6578's REPORT transport): PROPFIND, REPORT, GET, PUT, DELETE,
 * PROPPATCH, MKCOL and OPTIONS over a {@link DavTransport}. It knows nothing of calendars or
 * address books; CalDAV and CardDAV plug their names and bodies in (`collection-protocol.ts`).
 */
import type { ErrorKind } from '../../domain/errors.js';
import { isLiaisonError, type LiaisonError } from '../../domain/errors.js';
import {
  type FailedRequest,
  type Precondition,
  type RequestContext,
  requestError,
  statusError,
} from './dav-failure.js';
import { normalizeHref } from './dav-href.js';
import type { DavHttpResponse, DavTransport } from './dav-transport.js';
import {
  type DavResponse,
  type Multistatus,
  MultistatusSyntaxError,
  parseMultistatus,
} from './multistatus.js';
import { propfindBody } from './request-bodies.js';
import { retryAfterMs } from './retry-policy.js';
import { childrenNamed, clark, DAV_NS, parseXmlDocument, type XmlName } from './xml-element.js';

/** Largest error or small answer body read; the rest is discarded. */
const SMALL_BODY_LIMIT = 256 * 1024;

const XML_CONTENT = 'application/xml; charset=utf-8';

/** Items are UTF-8 (RFC 6352 §5.1, RFC 4791 §4.1): other bytes fail, never turn into U+FFFD. */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A request's outcome when its status is read by the caller. */
export interface Exchange {
  readonly status: number;
  readonly request: FailedRequest;
  header(name: string): string | undefined;
  /** Preconditions of a `DAV:error` body (or of the failing response inside a 207). */
  readonly preconditions: readonly Precondition[];
  /** The responses of a 207 answer to a method other than PROPFIND and REPORT. */
  readonly responses: readonly DavResponse[];
}

/** A request for {@link WebDavClient.exchange}. */
export interface ExchangeRequest {
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * WebDAV requests over one server's transport. Multistatus answers are parsed as they
 * stream; other answers are read (bounded) for their status and `DAV:error` preconditions.
 */
export class WebDavClient {
  constructor(readonly transport: DavTransport) {}

  get server(): string {
    return this.transport.server;
  }

  /** The canonical path of `href` as this server would resolve it. */
  path(href: string): string {
    return normalizeHref(href, this.transport.base);
  }

  /**
   * PROPFIND for `props` (RFC 4918 §9.1). Responses go to `onResponse` as they stream in when
   * it is given. Throws the mapped error for any answer but 207.
   */
  async propfind(
    path: string,
    depth: 0 | 1,
    props: readonly XmlName[],
    context: RequestContext,
    onResponse?: (r: DavResponse) => void,
  ): Promise<Multistatus> {
    const answer = await this.multistatus('PROPFIND', path, depth, propfindBody(props), context, onResponse);
    if ('status' in answer) throw statusError(answer.request, answer.status, answer.preconditions);
    return answer;
  }

  /**
   * A request answered by a multistatus (PROPFIND, REPORT). Any other status is returned
   * with its preconditions for the caller to read (a sync REPORT gives tokens meaning).
   */
  async multistatus(
    method: 'PROPFIND' | 'REPORT',
    path: string,
    depth: 0 | 1,
    body: string,
    context: RequestContext,
    onResponse?: (r: DavResponse) => void,
  ): Promise<Multistatus | Exchange> {
    const response = await this.transport.send({
      method,
      path,
      headers: { depth: String(depth), 'content-type': XML_CONTENT },
      body,
      context,
    });
    const request = this.transport.described(method, response.url, context);
    if (response.status !== 207) return this.#exchange(response, request);
    try {
      return await parseMultistatus(response.body, response.url, onResponse);
    } catch (e) {
      await response.body.dump().catch(() => undefined);
      throw this.#readFailure(e, request);
    }
  }

  /** Any request whose status the caller reads; bodies are small (errors, PUT answers). */
  async exchange(
    method: string,
    path: string,
    req: ExchangeRequest,
    context: RequestContext,
  ): Promise<Exchange> {
    const response = await this.transport.send({
      method,
      path,
      ...(req.headers ? { headers: req.headers } : {}),
      ...(req.body === undefined ? {} : { body: req.body }),
      context,
    });
    return this.#exchange(response, this.transport.described(method, response.url, context));
  }

  /**
   * GET of one item: its text and etag, or null when it does not exist (404/410).
   * Throws the mapped error for any other failure.
   */
  async get(path: string, context: RequestContext): Promise<{ text: string; etag: string | null } | null> {
    const got = await this.getItem(path, context);
    if (got !== null && 'failed' in got) throw got.error;
    return got;
  }

  /**
   * GET of one item, where a failure that concerns this item alone — a server error for
   * it, content refused, bytes that are not UTF-8 — is returned as `failed` instead of
   * thrown, with a reason that names neither server nor item. Failures of the server or
   * the connection as a whole are thrown.
   */
  async getItem(
    path: string,
    context: RequestContext,
  ): Promise<{ text: string; etag: string | null } | { failed: string; error: LiaisonError } | null> {
    const response = await this.transport.send({ method: 'GET', path, context });
    const request = this.transport.described('GET', response.url, context);
    if (response.status === 404 || response.status === 410) {
      await response.body.dump();
      return null;
    }
    if (response.status !== 200) {
      const answer = await this.#exchange(response, request);
      const error = statusError(request, answer.status, answer.preconditions);
      const itsOwn = answer.status === 500 || (answer.status === 403 && answer.preconditions.length > 0);
      if (itsOwn) return { failed: `the server answered ${answer.status} for it`, error };
      throw error;
    }
    let bytes: ArrayBuffer;
    try {
      bytes = await response.body.arrayBuffer();
    } catch (e) {
      throw this.#readFailure(e, request);
    }
    try {
      return { text: STRICT_UTF8.decode(bytes), etag: response.header('etag') ?? null };
    } catch (e) {
      const reason = 'answered with text that is not valid UTF-8';
      return {
        failed: `the server ${reason}`,
        error: requestError('InvalidData', request, reason, { cause: e }),
      };
    }
  }

  /** The compliance classes of the DAV header of an OPTIONS answer (RFC 4918 §10.1), lower case. */
  async options(path: string, context: RequestContext): Promise<string[]> {
    const answer = await this.exchange('OPTIONS', path, {}, context);
    if (answer.status >= 300) throw statusError(answer.request, answer.status, answer.preconditions);
    return (answer.header('dav') ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token !== '');
  }

  async #exchange(response: DavHttpResponse, request: FailedRequest): Promise<Exchange> {
    let text: string;
    try {
      text = await readLimited(response);
    } catch (e) {
      throw this.#readFailure(e, request);
    }
    const xml = /xml/i.test(response.header('content-type') ?? '') || text.trimStart().startsWith('<?xml');
    let status = response.status;
    let preconditions: Precondition[] = [];
    let responses: DavResponse[] = [];
    if (status === 207 && text.trim() !== '') {
      try {
        responses = [...(await parseMultistatus([text], response.url)).responses];
      } catch (e) {
        throw this.#readFailure(e, request);
      }
      // Some servers (Xandikos) answer a refused PUT with a 207 holding the real status.
      const failed = responses.find((r) => r.status !== null && r.status >= 300);
      if (failed?.status != null && request.method !== 'PROPPATCH') {
        status = failed.status;
        preconditions = failed.errors.map((name) => ({ name, hrefs: [] }));
      }
    } else if (status >= 300 && xml && text.trim() !== '') {
      preconditions = parsePreconditions(text, response.url);
    }
    // A wait the server asked for and the run did not make (see DavTransport.send) is named.
    const wait = status === 429 || status === 503 ? retryAfterMs(response.header('retry-after')) : undefined;
    const failed = wait === undefined ? request : { ...request, retryAfterMs: wait };
    return { status, request: failed, header: response.header, preconditions, responses };
  }

  /** A failure while reading an answer: invalid XML is InvalidData, a broken stream Unavailable. */
  #readFailure(e: unknown, request: FailedRequest) {
    if (isLiaisonError(e) && e.context.server !== undefined) return e;
    const kind: ErrorKind =
      e instanceof MultistatusSyntaxError || isLiaisonError(e) ? 'InvalidData' : 'Unavailable';
    const detail = e instanceof Error ? e.message : String(e);
    return requestError(
      kind,
      request,
      kind === 'InvalidData' ? `answered with invalid XML: ${detail}` : `the answer broke off: ${detail}`,
      { cause: e },
    );
  }
}

/** The preconditions of a `DAV:error` body; none when the body is not one (HTML error pages). */
function parsePreconditions(text: string, base: URL): Precondition[] {
  try {
    const root = parseXmlDocument(text);
    if (root.ns !== DAV_NS || root.local !== 'error') return [];
    return root.children.map((child) => ({
      name: clark(child),
      hrefs: childrenNamed(child, { ns: DAV_NS, local: 'href' }).map((h) => normalizeHref(h.text, base)),
    }));
  } catch {
    return [];
  }
}

/** The body as text, at most {@link SMALL_BODY_LIMIT} characters; the rest is discarded. */
async function readLimited(response: DavHttpResponse): Promise<string> {
  const decoder = new TextDecoder('utf-8');
  let text = '';
  for await (const chunk of response.body) {
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
    // Leaving the loop destroys the stream: the rest of an oversized body is never read.
    if (text.length > SMALL_BODY_LIMIT) return text.slice(0, SMALL_BODY_LIMIT);
  }
  return text + decoder.decode();
}
