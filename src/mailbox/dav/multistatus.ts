/**
 * RFC 4918 §13 multistatus answers, parsed as they stream in. Each `DAV:response` becomes a
 * {@link DavResponse} as soon as its end tag arrives, so a listing of 10,000 items never
 * exists as one string or one DOM. Every `DAV:href` in a response (its own and those inside
 * properties such as `current-user-principal`) is normalized to a canonical path.
 */
import { isLiaisonError } from '../../domain/errors.js';
import { normalizeHref } from './dav-href.js';
import {
  childNamed,
  childrenNamed,
  clark,
  DAV_NS,
  isNamed,
  TreeBuilder,
  type XmlElement,
  type XmlName,
} from './xml-element.js';
import { XmlReader } from './xml-reader.js';

const MULTISTATUS: XmlName = { ns: DAV_NS, local: 'multistatus' };
const RESPONSE: XmlName = { ns: DAV_NS, local: 'response' };
const SYNC_TOKEN: XmlName = { ns: DAV_NS, local: 'sync-token' };
const HREF: XmlName = { ns: DAV_NS, local: 'href' };
const STATUS: XmlName = { ns: DAV_NS, local: 'status' };
const PROPSTAT: XmlName = { ns: DAV_NS, local: 'propstat' };
const PROP: XmlName = { ns: DAV_NS, local: 'prop' };
const ERROR: XmlName = { ns: DAV_NS, local: 'error' };

/** The properties of one `DAV:propstat`, all answered with one status. */
export interface DavPropstat {
  readonly status: number;
  /** Property elements by Clark name. */
  readonly props: ReadonlyMap<string, XmlElement>;
}

/** One `DAV:response`. */
export interface DavResponse {
  /** The (first) href, as a canonical path. */
  readonly href: string;
  /** All hrefs: RFC 4918 §14.24 lets a status-only response name several. */
  readonly hrefs: readonly string[];
  /** The response-level status (the `href + status` form), or null with propstats. */
  readonly status: number | null;
  readonly propstats: readonly DavPropstat[];
  /** Clark names of the preconditions in the response's `DAV:error` (RFC 4918 §16). */
  readonly errors: readonly string[];
}

/** A whole multistatus, without the responses a callback consumed. */
export interface Multistatus {
  /** Responses not handed to `onResponse`. */
  readonly responses: readonly DavResponse[];
  /** The top-level `DAV:sync-token` (RFC 6578 §6.4), or null. */
  readonly syncToken: string | null;
}

/** Thrown for text that is not a multistatus; the caller wraps it with server and URL. */
export class MultistatusSyntaxError extends Error {
  override readonly name = 'MultistatusSyntaxError';
}

/**
 * Parses a multistatus body. With `onResponse`, each response goes to it as it completes
 * and is not kept; otherwise responses are collected. Throws {@link MultistatusSyntaxError}
 * for malformed XML or a root other than `DAV:multistatus`.
 */
export async function parseMultistatus(
  body: AsyncIterable<Uint8Array | string> | Iterable<string>,
  base: URL,
  onResponse?: (response: DavResponse) => void,
): Promise<Multistatus> {
  const responses: DavResponse[] = [];
  let syncToken: string | null = null;
  let sawRoot = false;
  // The reader reports to one sink, so the root check lives in the tree builder's filter.
  const builder = new TreeBuilder(
    (name, ancestors) => {
      if (ancestors.length === 0) {
        sawRoot = true;
        if (!isNamed(name, MULTISTATUS)) {
          throw new MultistatusSyntaxError(`the root element is ${clark(name)}, not DAV:multistatus`);
        }
      }
      return ancestors.length === 1 && (isNamed(name, RESPONSE) || isNamed(name, SYNC_TOKEN));
    },
    (element) => {
      if (isNamed(element, SYNC_TOKEN)) syncToken = element.text.trim();
      else if (onResponse) onResponse(toResponse(element));
      else responses.push(toResponse(element));
    },
    (element, text) => (isNamed(element, HREF) ? normalizeHref(text, base) : text),
  );
  const reader = new XmlReader(builder);

  // Fatal: bytes that are not UTF-8 make the answer invalid instead of turning into U+FFFD,
  // which would be written back over the item's real text later (a Latin-1 vCard).
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const decode = (chunk: Uint8Array | undefined, stream: boolean) => {
    try {
      return decoder.decode(chunk, { stream });
    } catch (e) {
      throw new MultistatusSyntaxError('the answer is not valid UTF-8', { cause: e });
    }
  };
  const feed = (text: string, last: boolean) => {
    try {
      reader.write(text);
      if (last) reader.close();
    } catch (e) {
      // Handler errors (a bad href, a response without href) pass through with their kind.
      if (e instanceof MultistatusSyntaxError || isLiaisonError(e)) throw e;
      throw new MultistatusSyntaxError(e instanceof Error ? e.message : String(e), { cause: e });
    }
  };
  // Errors of the body stream itself (reset, timeout) are transport failures, not syntax:
  // they leave this loop unwrapped.
  for await (const chunk of body) {
    feed(typeof chunk === 'string' ? chunk : decode(chunk, true), false);
  }
  feed(decode(undefined, false), true);
  if (!sawRoot) throw new MultistatusSyntaxError('the body is empty');
  return { responses, syncToken };
}

/** Parses a multistatus held in one string (small bodies, recorded answers in tests). */
export function parseMultistatusText(text: string, base: URL): Promise<Multistatus> {
  return parseMultistatus([text], base);
}

function toResponse(element: XmlElement): DavResponse {
  const hrefs = childrenNamed(element, HREF).map((h) => h.text);
  const href = hrefs[0];
  if (href === undefined) throw new MultistatusSyntaxError('a DAV:response has no DAV:href');
  const statusElement = childNamed(element, STATUS);
  const propstats = childrenNamed(element, PROPSTAT).map((ps): DavPropstat => {
    const props = new Map<string, XmlElement>();
    for (const prop of childrenNamed(ps, PROP)) for (const p of prop.children) props.set(clark(p), p);
    return { status: statusCode(childNamed(ps, STATUS)?.text ?? ''), props };
  });
  const error = childNamed(element, ERROR);
  return {
    href,
    hrefs,
    status: statusElement === undefined ? null : statusCode(statusElement.text),
    propstats,
    errors: error === undefined ? [] : error.children.map(clark),
  };
}

/** `HTTP/1.1 404 Not Found` → 404; 0 when the line holds no status code. */
export function statusCode(line: string): number {
  const match = /^\s*HTTP\/\d(?:\.\d)?\s+(\d{3})/i.exec(line);
  return match ? Number(match[1]) : 0;
}

/** The property `name` of a response when it was answered with a 2xx status, else undefined. */
export function propOf(response: DavResponse, name: XmlName): XmlElement | undefined {
  const key = clark(name);
  for (const ps of response.propstats) {
    if (ps.status >= 200 && ps.status < 300) {
      const value = ps.props.get(key);
      if (value !== undefined) return value;
    }
  }
  return undefined;
}

/** The trimmed text of a 2xx property, or undefined. */
export function propText(response: DavResponse, name: XmlName): string | undefined {
  return propOf(response, name)?.text.trim();
}

/** The hrefs inside a 2xx property (home sets, principal URLs), as canonical paths. */
export function propHrefs(response: DavResponse, name: XmlName): string[] {
  const value = propOf(response, name);
  return value === undefined ? [] : childrenNamed(value, HREF).map((h) => h.text);
}

/** The status a property was answered with, or undefined when the response does not mention it. */
export function propStatus(response: DavResponse, name: XmlName): number | undefined {
  const key = clark(name);
  return response.propstats.find((ps) => ps.props.has(key))?.status;
}

/** The Clark names of a 2xx property's child elements (resourcetype, supported-report-set entries). */
export function propChildNames(response: DavResponse, name: XmlName): string[] {
  return propOf(response, name)?.children.map(clark) ?? [];
}
