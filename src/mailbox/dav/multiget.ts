/**
 * Bulk reads: addressbook-multiget (RFC 6352 §8.7) / calendar-multiget (RFC 4791 §7.9) in
 * batches, several batches in flight, results in the order asked for. An href the answer
 * leaves out or answers 404 is reported missing — the planner decides what that means.
 */
import { isLiaisonError, LiaisonError } from '../../domain/errors.js';
import type { Href } from '../../domain/ids.js';
import { asEtag } from '../../domain/ids.js';
import { mapBounded } from '../bounded-map.js';
import type { ReadResult } from '../port.js';
import type { CollectionProtocol } from './collection-protocol.js';
import { type RequestContext, statusError } from './dav-failure.js';
import { type DavResponse, propOf, propStatus, propText } from './multistatus.js';
import { multigetBody } from './request-bodies.js';
import type { WebDavClient } from './webdav-client.js';
import { DAV_NS, type XmlName } from './xml-element.js';

const GETETAG: XmlName = { ns: DAV_NS, local: 'getetag' };

/** What {@link readItems} needs. */
export interface ReadSettings {
  readonly client: WebDavClient;
  readonly protocol: CollectionProtocol;
  readonly collection: string;
  readonly context: RequestContext;
  readonly batch: number;
  readonly concurrency: number;
  /** false: the server offers no multiget; items are fetched one GET each. */
  readonly multiget: boolean;
  /** Hrefs never to return (Liaison's marker item): reported missing. */
  readonly hidden: (href: string) => boolean;
  readonly onGone: () => void;
}

type Found = { readonly etag: string; readonly text: string } | { readonly failed: string };

/** Reads `hrefs`, yielding one result per href in the order given (duplicates included). */
export async function* readItems(hrefs: readonly Href[], settings: ReadSettings): AsyncIterable<ReadResult> {
  const size = batchSize(hrefs.length, settings);
  const batches: Href[][] = [];
  for (let i = 0; i < hrefs.length; i += size) batches.push(hrefs.slice(i, i + size));
  type Settled = { ok: true; value: Map<string, Found> } | { ok: false; error: unknown };
  const window: Promise<Settled>[] = [];
  let next = 0;
  const startOne = () => {
    const batch = batches[next] as Href[];
    next += 1;
    // Settled at once, so a failure ahead of the consumer is never an unhandled rejection.
    window.push(
      readBatch(batch, settings).then(
        (value): Settled => ({ ok: true, value }),
        (error: unknown): Settled => ({ ok: false, error }),
      ),
    );
  };
  while (next < batches.length && window.length < Math.max(1, settings.concurrency)) startOne();
  for (const batch of batches) {
    const settled = await (window.shift() as Promise<Settled>);
    if (next < batches.length) startOne();
    if (!settled.ok) throw settled.error;
    for (const href of batch) {
      const found = settings.hidden(href) ? undefined : settled.value.get(href);
      if (found === undefined) yield { href, missing: true };
      else if ('failed' in found) yield { href, failed: found.failed };
      else yield { href, etag: asEtag(found.etag), text: withCrlf(found.text) };
    }
  }
}

/** The smallest batch worth a request of its own when a read is spread over connections. */
const MIN_SPREAD_BATCH = 20;

/**
 * Fewer items than would fill every connection's batch are spread over the connections:
 * a server answers a multiget of 100 in one stream at its own pace (Cyrus takes about
 * 30 ms for 100 vCards), and several smaller ones side by side come back sooner.
 */
function batchSize(items: number, settings: ReadSettings): number {
  const full = Math.max(1, settings.batch);
  const spread = Math.ceil(items / Math.max(1, settings.concurrency));
  return Math.min(full, Math.max(MIN_SPREAD_BATCH, spread));
}

async function readBatch(batch: readonly Href[], settings: ReadSettings): Promise<Map<string, Found>> {
  const wanted = [...new Set(batch)].filter((href) => !settings.hidden(href));
  if (wanted.length === 0) return new Map();
  return settings.multiget ? multiget(wanted, settings) : getEach(wanted, settings);
}

async function multiget(hrefs: readonly string[], settings: ReadSettings): Promise<Map<string, Found>> {
  const { client, protocol } = settings;
  const found = new Map<string, Found>();
  const body = multigetBody(protocol.multiget, [GETETAG, protocol.data], hrefs);
  let answer: Awaited<ReturnType<WebDavClient['multistatus']>>;
  try {
    answer = await client.multistatus('REPORT', settings.collection, 1, body, settings.context, (r) => {
      const item = itemOf(r, settings);
      if (item !== undefined) found.set(r.href, item);
    });
  } catch (e) {
    // An answer that does not parse (bytes that are not UTF-8, broken XML) may be one
    // item's doing: the items are read one by one, so that only that one fails.
    if (isLiaisonError(e, 'InvalidData')) return getEach(hrefs, settings);
    throw e;
  }
  if ('status' in answer) {
    if (answer.status === 404) settings.onGone();
    // Xandikos, for one, fails a whole multiget with 500 for one item it cannot serve
    // (a vCard that is not UTF-8): one by one, the others are read and that one reported.
    if (answer.status === 500) return getEach(hrefs, settings);
    throw statusError(answer.request, answer.status, answer.preconditions);
  }
  return found;
}

/** Without multiget (or after a multiget failed): one GET per item, a few at a time. */
async function getEach(hrefs: readonly string[], settings: ReadSettings): Promise<Map<string, Found>> {
  const found = new Map<string, Found>();
  await mapBounded(hrefs, settings.concurrency, async (href) => {
    const item = await settings.client.getItem(href, { ...settings.context, href });
    if (item === null) return;
    if ('failed' in item) {
      found.set(href, { failed: item.failed });
      return;
    }
    if (item.etag === null) throw noEtag(href, settings);
    found.set(href, { etag: item.etag, text: item.text });
  });
  return found;
}

/**
 * An item of a multiget answer; undefined when the answer says it is not there (404 or
 * 410, for the item or for its data); a failure for any other answer that holds no data
 * (a 500, a 403): the item is then not taken for gone — that would delete its copy.
 */
function itemOf(response: DavResponse, settings: ReadSettings): Found | undefined {
  const { status } = response;
  if (status === 404 || status === 410) return undefined;
  if (status !== null && (status < 200 || status >= 300))
    return { failed: `the server answered ${status} for it` };
  const data = propOf(response, settings.protocol.data);
  if (data === undefined) {
    const dataStatus = propStatus(response, settings.protocol.data);
    if (dataStatus === 404 || dataStatus === 410) return undefined;
    return { failed: `the server answered ${dataStatus ?? 'without its data'} for its data` };
  }
  const etag = propText(response, GETETAG);
  if (!etag) throw noEtag(response.href, settings);
  return { etag, text: data.text };
}

function noEtag(href: string, settings: ReadSettings): LiaisonError {
  return new LiaisonError(
    'InvalidData',
    `${settings.client.server}: ${href} in ${settings.collection} was read without an etag`,
    { context: { ...settings.context, href, server: settings.client.server } },
  );
}

/**
 * XML parsers turn every line break into LF (XML 1.0 §2.11); vCard and iCalendar lines end
 * in CRLF (RFC 6350 §3.2, RFC 5545 §3.1), so bare LFs are turned back.
 */
export function withCrlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}
