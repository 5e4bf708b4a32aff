/**
 * RFC 6578 collection synchronization: what changed in a collection since a token.
 */
import { isLiaisonError, LiaisonError } from '../../domain/errors.js';
import { type RequestContext, requestError, statusError, VALID_SYNC_TOKEN } from './dav-failure.js';
import { sameCollection } from './dav-href.js';
import { type DavResponse, propOf, propText } from './multistatus.js';
import { syncCollectionBody } from './request-bodies.js';
import type { WebDavClient } from './webdav-client.js';
import { DAV_NS, type XmlName } from './xml-element.js';

/** RFC 6578 §4: the collection property holding its current sync token. */
export const SYNC_TOKEN: XmlName = { ns: DAV_NS, local: 'sync-token' };
const GETETAG: XmlName = { ns: DAV_NS, local: 'getetag' };

/** Changes since a token, merged over every page of the answer. */
export interface SyncChanges {
  readonly token: string;
  /** Changed or new members with their etag (null when the server left it out). */
  readonly changed: ReadonlyMap<string, string | null>;
  readonly removed: ReadonlySet<string>;
  /**
   * Asked for with {@link SyncOptions.data}: the data of changed members the answer carried,
   * with the etag given beside it. Empty when the server gave none or refused to.
   */
  readonly items: ReadonlyMap<string, { readonly etag: string; readonly text: string }>;
}

/** The changed members' data, asked for in the same REPORT (RFC 6578 §3.2 allows any property). */
export interface SyncDataOptions {
  /** CARDDAV:address-data or CALDAV:calendar-data. */
  readonly prop: XmlName;
  /** Most characters of data read: an answer with more is dropped and the list asked for alone. */
  readonly maxChars: number;
}

/** Options of {@link reportChanges}. */
export interface SyncOptions {
  /** Whether a member href is an item to report (not a sub-collection, not Liaison's marker). */
  readonly isItem: (href: string) => boolean;
  /** Most pages followed before giving up (a server that never finishes). Default 10 000. */
  readonly maxPages?: number;
  /** Results per page to ask for (RFC 6578 §3.7 DAV:limit); absent: the server decides. */
  readonly pageSize?: number;
  /** Asks for the changed members' data too; absent: hrefs and etags only. */
  readonly data?: SyncDataOptions;
  /** Called once, as soon as the answer names a changed or removed member. */
  readonly onChange?: () => void;
}

/** A server that would not answer the REPORT that asks for data: asked again without. */
class DataRefused extends Error {}

/**
 * Runs sync-collection REPORTs from `token` (null: the initial listing) until the answer is
 * complete. RFC 6578 §3.6: a response for the collection itself with status 507 means more
 * results remain; the request is repeated with the token that page returned, and later
 * pages override earlier ones for the same href.
 *
 * Throws `InvalidSyncToken` when the server refuses the token: 403 or 409 with the
 * DAV:valid-sync-token precondition (§3.2), or 410. Xandikos answers 500 to a token it
 * cannot read; a 500 for a token on a collection that otherwise answers (one PROPFIND of
 * its sync-token) is read the same way — at worst a spurious full listing, never data loss.
 */
export async function reportChanges(
  client: WebDavClient,
  collection: string,
  token: string | null,
  given: RequestContext,
  options: SyncOptions,
): Promise<SyncChanges> {
  if (options.data !== undefined) {
    try {
      return await report(client, collection, token, given, options, options.data);
    } catch (e) {
      // Whatever failed may be one member's data (Xandikos answers 500 when one item is not
      // UTF-8; such bytes break the XML): the change list alone is asked for, and read as ever.
      if (!(e instanceof DataRefused)) throw e;
    }
  }
  return report(client, collection, token, given, options, undefined);
}

async function report(
  client: WebDavClient,
  collection: string,
  token: string | null,
  given: RequestContext,
  options: SyncOptions,
  data: SyncDataOptions | undefined,
): Promise<SyncChanges> {
  const context = { ...given, collection };
  const changed = new Map<string, string | null>();
  const removed = new Set<string>();
  const items = new Map<string, { readonly etag: string; readonly text: string }>();
  let chars = 0;
  let changeSeen = false;
  const maxPages = options.maxPages ?? 10_000;
  let current = token;
  for (let page = 1; ; page++) {
    let truncated = false;
    let failed: DavResponse | undefined;
    const onResponse = (response: DavResponse) => {
      const { href, status } = response;
      if (sameCollection(href, collection)) {
        if (status === 507) truncated = true;
        return;
      }
      if (!options.isItem(href)) return;
      if (!changeSeen) {
        changeSeen = true;
        options.onChange?.();
      }
      const dropped = items.get(href);
      if (dropped !== undefined) {
        items.delete(href);
        chars -= dropped.text.length;
      }
      if (status === 404 || status === 410) {
        changed.delete(href);
        removed.add(href);
      } else if (status !== null && (status < 200 || status >= 300)) {
        // Neither there nor gone: taking it for either could delete a copy or lose a change.
        failed ??= response;
      } else {
        // A member with propstats is there, even when its etag was not given (then read again).
        removed.delete(href);
        const etag = propText(response, GETETAG) ?? null;
        changed.set(href, etag);
        if (data !== undefined && etag !== null) {
          const text = propOf(response, data.prop)?.text;
          // An empty element is a server's way to give no data, not an empty item.
          if (text !== undefined && text.trim() !== '') {
            // Past the budget the answer is not read on: the list is asked for alone, and
            // the items read by multiget, in bounded batches.
            if (chars + text.length > data.maxChars) throw new DataRefused();
            items.set(href, { etag, text });
            chars += text.length;
          }
        }
      }
    };
    let answer: Awaited<ReturnType<WebDavClient['multistatus']>>;
    try {
      answer = await client.multistatus(
        'REPORT',
        collection,
        0,
        syncCollectionBody(current, data === undefined ? [GETETAG] : [GETETAG, data.prop], options.pageSize),
        context,
        onResponse,
      );
    } catch (e) {
      if (data !== undefined && (e instanceof DataRefused || isLiaisonError(e, 'InvalidData'))) {
        throw new DataRefused();
      }
      throw e;
    }
    if ('status' in answer) {
      const { status, preconditions, request } = answer;
      const refused = preconditions.some((p) => p.name === VALID_SYNC_TOKEN);
      if (current !== null && (refused || status === 410)) {
        throw requestError(
          'InvalidSyncToken',
          request,
          `answered ${status}: the sync token is no longer valid`,
        );
      }
      if (data !== undefined) throw new DataRefused();
      if (current !== null && status === 500 && (await answersOtherwise(client, collection, context))) {
        throw requestError(
          'InvalidSyncToken',
          request,
          'answered 500 to this sync token while the collection answers otherwise: treating the token as invalid',
        );
      }
      throw statusError(request, status, preconditions);
    }
    if (failed !== undefined) {
      if (data !== undefined) throw new DataRefused();
      // The collection is skipped this run, its token kept: the next run asks again.
      throw new LiaisonError(
        'Unavailable',
        `${client.server}: the change list of ${collection} answered ${failed.status} for ${failed.href}, neither the item nor its removal: nothing of the collection is synced this run`,
        { context: { ...context, server: client.server, collection, href: failed.href } },
      );
    }
    const next = answer.syncToken;
    if (next === null || next === '') {
      throw new LiaisonError(
        'InvalidData',
        `${client.server}: a sync-collection answer for ${collection} has no sync token`,
        {
          context: { ...context, server: client.server, collection },
        },
      );
    }
    if (!truncated) return { token: next, changed, removed, items };
    if (next === current || page >= maxPages) {
      // A change list that never completes is no change list: sync lists everything instead.
      throw new LiaisonError(
        'InvalidSyncToken',
        `${client.server}: the change list of ${collection} stays truncated after ${page} page(s): list the collection instead`,
        { context: { ...context, server: client.server, collection } },
      );
    }
    current = next;
  }
}

/** Whether the collection answers a PROPFIND of its sync-token (the server is otherwise fine). */
async function answersOtherwise(client: WebDavClient, collection: string, context: RequestContext) {
  try {
    await client.propfind(collection, 0, [SYNC_TOKEN], context);
    return true;
  } catch {
    return false;
  }
}
