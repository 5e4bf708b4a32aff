import { createHash } from 'node:crypto';
import { LiaisonError } from '../../domain/errors.js';
import type { CollectionKind, Etag, Href, SyncToken, Uid } from '../../domain/ids.js';
import { asEtag, asHref, asSyncToken } from '../../domain/ids.js';
import { mapBounded } from '../bounded-map.js';
import { itemName } from '../item-name.js';
import type {
  ChangeListOptions,
  ChangeSet,
  ItemRef,
  ListOptions,
  MailboxCollection,
  ReadResult,
  WriteResult,
} from '../port.js';
import type { CollectionProtocol } from './collection-protocol.js';
import { type RequestContext, requestError, statusError, uidConflict } from './dav-failure.js';
import { displayUrl, isItemOf, lastSegment, memberPath, sameCollection } from './dav-href.js';
import type { DiscoveredCollection } from './discovery-cache.js';
import { MARKER_ITEM_NAME } from './marker-location.js';
import { readItems, withCrlf } from './multiget.js';
import { type DavResponse, propChildNames, propText } from './multistatus.js';
import {
  hasSchedulingProperties,
  NO_SCHEDULE_REPLY,
  scheduledByServer,
  withClientScheduling,
} from './schedule-agent.js';
import { reportChanges, SYNC_TOKEN } from './sync-collection.js';
import type { WebDavClient } from './webdav-client.js';
import { CALENDARSERVER_NS, clark, DAV_NS, type XmlName } from './xml-element.js';

const GETETAG: XmlName = { ns: DAV_NS, local: 'getetag' };
const RESOURCETYPE: XmlName = { ns: DAV_NS, local: 'resourcetype' };
const COLLECTION = clark({ ns: DAV_NS, local: 'collection' });
/** The CalendarServer extension both CardDAV and CalDAV servers commonly keep. */
const GETCTAG: XmlName = { ns: CALENDARSERVER_NS, local: 'getctag' };
/**
 * Most characters of items a change list hands over (about 4,000 contacts): a larger answer
 * is dropped as it comes in, and the list asked for alone; its items are then read by
 * multiget, in bounded batches, as ever.
 */
const CHANGED_ITEMS_CHARS = 4_000_000;
/**
 * Most characters of items a full listing hands over (16,000 contacts of 1,000 characters,
 * 30 MB or so held until read): past it, the listing is asked for alone and the items read
 * by multiget. A first sync reads every item anyway, and one REPORT with the data costs a
 * server far less than multigets of the same items (Cyrus, as its admin: 7 ms against
 * 45 ms for 200 contacts).
 */
const LISTED_ITEMS_CHARS = 16_000_000;

/** What a {@link DavCollection} works with. */
export interface DavCollectionSettings {
  readonly client: WebDavClient;
  readonly protocol: CollectionProtocol;
  readonly collection: DiscoveredCollection;
  readonly account: string;
  /** Hrefs per multiget. */
  readonly multigetBatch: number;
  /** Multigets in flight at once. */
  readonly concurrency: number;
  /** The server schedules by itself (RFC 6638): see `schedule-agent.ts`. */
  readonly autoSchedule: boolean;
  /** Called when the collection turns out to be gone, so discovery runs again next time. */
  readonly onGone: () => void;
  /** Results per sync-collection page to ask for (DAV:limit); absent: none asked. */
  readonly syncPageSize?: number;
  /** Called when a change list asked with items shows a change (the sync reads the marker next). */
  readonly onChange?: () => void;
}

/** Items remembered from reads of one item (see `#justRead`). */
const JUST_READ_MAX = 16;

/**
 * One CardDAV address book or CalDAV calendar. Hrefs are canonical paths (`dav-href.ts`),
 * etags are the server's, quotes included.
 *
 * The item at {@link MARKER_ITEM_NAME} is Liaison's sync marker when the server can hold it
 * nowhere else (placement `item`): `list`, `changesSince` and `read` never show it, so the
 * planner never sees it as a user's item. Its fixed UID keeps clients' items off its name.
 */
export class DavCollection implements MailboxCollection {
  readonly kind: CollectionKind;
  readonly location: string;
  readonly probeFromListing = null;

  get keepsChangeList(): boolean {
    return this.#s.collection.syncCollection;
  }
  readonly #s: DavCollectionSettings;
  readonly #path: string;
  /** Items the last change list carried, by href, until read once or written. */
  #handedOver = new Map<string, { readonly etag: string; readonly text: string }>();
  /**
   * On a server that schedules, the items just read one at a time: the sync reads an event
   * alone right before it replaces it (to keep its SEQUENCE), and the check before the
   * write (`#storedMeeting`) takes that copy when its etag is the one written over, instead
   * of reading it again. Used once; a few at most, as writes run a few at a time.
   */
  readonly #justRead = new Map<string, { readonly etag: string; readonly text: string }>();

  constructor(settings: DavCollectionSettings) {
    this.#s = settings;
    this.kind = settings.protocol.kind;
    this.#path = settings.collection.href;
    this.location = `server ${settings.client.server} at ${displayUrl(settings.client.transport.url(this.#path))}`;
  }

  sendStarted(): Promise<void> {
    return this.#s.client.transport.sendStarted();
  }

  async list(): Promise<ItemRef[]> {
    return (await this.listAll()).refs;
  }

  /**
   * With `withItems`, the initial REPORT asks for every member's data too, and the next
   * `read` of each is answered from it, once, as after a change list with items.
   */
  async listAll(options: ListOptions = {}): Promise<{ refs: ItemRef[]; token: SyncToken | null }> {
    if (this.#s.collection.syncCollection) {
      // RFC 6578 §3.8: an initial sync-collection REPORT (empty token) names every member
      // with its etag, and the token that goes with that state. It is a full listing, not a
      // change list, and servers answer it far faster than a Depth 1 PROPFIND (Radicale:
      // about 0.5 s against 15-20 s for 10,000 items).
      const all = await this.#changes(
        null,
        options.withItems === true ? { maxChars: LISTED_ITEMS_CHARS } : null,
      );
      if (options.withItems === true) this.#handedOver = new Map(all.items);
      const refs: ItemRef[] = [];
      const unknown: string[] = [];
      for (const [href, etag] of all.changed) {
        if (etag) refs.push({ href: asHref(href), etag: asEtag(etag) });
        else unknown.push(href);
      }
      const etags = await mapBounded(unknown, this.#s.concurrency, (href) => this.#currentEtag(href));
      unknown.forEach((href, i) => {
        const etag = etags[i];
        if (etag) refs.push({ href: asHref(href), etag: asEtag(etag) });
      });
      return { refs, token: asSyncToken(all.token) };
    }
    return { refs: await this.#propfindListing(), token: null };
  }

  async #propfindListing(): Promise<ItemRef[]> {
    const refs: ItemRef[] = [];
    await this.#propfind(1, [GETETAG, RESOURCETYPE], (r) => {
      if (!this.#isItem(r.href) || r.status === 404 || propChildNames(r, RESOURCETYPE).includes(COLLECTION)) {
        return;
      }
      refs.push({ href: asHref(r.href), etag: this.#etagOf(r) });
    });
    return refs;
  }

  /**
   * One small request: a Depth 0 PROPFIND of the collection's RFC 6578 sync-token where the
   * server keeps change lists (every change to a member changes it, §4), else of the
   * CalendarServer getctag (the same promise, from before RFC 6578). Each is asked alone:
   * Radicale computes either by reading every item. A server with neither gets a digest of
   * the Depth 1 listing (hrefs and etags): one larger request, but a collection's own
   * getetag or getlastmodified need not change when a member does (RFC 4918 leaves it
   * open), so nothing cheaper is sure to see every change.
   */
  async probe(): Promise<string> {
    if (this.#s.collection.syncCollection) {
      const token = await this.#ownProp(SYNC_TOKEN);
      if (token) return `sync:${token}`;
    }
    const ctag = await this.#ownProp(GETCTAG);
    if (ctag) return `ctag:${ctag}`;
    const lines = (await this.list()).map((ref) => `${ref.href}\0${ref.etag}\n`).sort();
    return `list:${lines.length}:${createHash('sha256').update(lines.join('')).digest('hex')}`;
  }

  /** The collection's sync-token by a PROPFIND, or null where sync-collection is not offered. */
  async currentToken(): Promise<SyncToken | null> {
    if (!this.#s.collection.syncCollection) return null;
    let token = await this.#ownProp(SYNC_TOKEN);
    // A server that offers the REPORT but not the property: its initial answer carries one.
    if (!token) token = (await this.#changes(null)).token;
    return asSyncToken(token);
  }

  /**
   * With `withItems`, the REPORT asks for the changed items' data too, so that an express
   * sync reads them in the same request instead of a multiget after it: the next `read` of
   * each is answered from it, once (a later read, after a refused write, asks the server).
   */
  async changesSince(token: SyncToken, options: ChangeListOptions = {}): Promise<ChangeSet | null> {
    if (!this.#s.collection.syncCollection) return null;
    const changes = await this.#changes(
      token,
      options.withItems === true ? { maxChars: CHANGED_ITEMS_CHARS, onChange: this.#s.onChange } : null,
    );
    this.#handedOver = new Map(changes.items);
    const changed: ItemRef[] = [];
    const unknown: string[] = [];
    for (const [href, etag] of changes.changed) {
      if (etag) changed.push({ href: asHref(href), etag: asEtag(etag) });
      else unknown.push(href);
    }
    const removed = [...changes.removed].map(asHref);
    // A server that leaves an etag out of a change: ask for it (gone meanwhile = removed).
    const etags = await mapBounded(unknown, this.#s.concurrency, (href) => this.#currentEtag(href));
    unknown.forEach((href, i) => {
      const etag = etags[i];
      if (etag) changed.push({ href: asHref(href), etag: asEtag(etag) });
      else removed.push(asHref(href));
    });
    return { token: asSyncToken(changes.token), changed, removed };
  }

  read(hrefs: readonly Href[]): AsyncIterable<ReadResult> {
    const read = this.#handedOver.size === 0 ? this.#multiget(hrefs) : this.#readHandedOver(hrefs);
    return hrefs.length === 1 && this.#schedules() ? this.#remembered(read) : read;
  }

  async *#remembered(read: AsyncIterable<ReadResult>): AsyncIterable<ReadResult> {
    for await (const got of read) {
      if ('text' in got) {
        if (this.#justRead.size >= JUST_READ_MAX)
          this.#justRead.delete(this.#justRead.keys().next().value as string);
        this.#justRead.set(got.href, { etag: got.etag, text: got.text });
      }
      yield got;
    }
  }

  /** In the order asked, as a multiget answers: items handed over in place, the rest read. */
  async *#readHandedOver(hrefs: readonly Href[]): AsyncIterable<ReadResult> {
    const served = hrefs.map((href) => {
      const item = this.#handedOver.get(href);
      this.#handedOver.delete(href);
      return item;
    });
    const rest = hrefs.filter((_, i) => served[i] === undefined);
    const read = rest.length > 0 ? this.#multiget(rest)[Symbol.asyncIterator]() : undefined;
    for (const [i, href] of hrefs.entries()) {
      const item = served[i];
      if (item !== undefined) {
        yield { href, etag: asEtag(item.etag), text: withCrlf(item.text) };
        continue;
      }
      const next = await (read as AsyncIterator<ReadResult>).next();
      if (next.done === true) return;
      yield next.value;
    }
  }

  #multiget(hrefs: readonly Href[]): AsyncIterable<ReadResult> {
    return readItems(hrefs, {
      client: this.#s.client,
      protocol: this.#s.protocol,
      collection: this.#path,
      context: this.#context(),
      batch: this.#s.multigetBatch,
      concurrency: this.#s.concurrency,
      multiget: this.#s.collection.multiget,
      hidden: (href) => this.#isMarker(href),
      onGone: this.#s.onGone,
    });
  }

  holds(href: Href): boolean {
    return isItemOf(this.#path, href);
  }

  /**
   * PUT with `If-None-Match: *` at the href derived from the UID. 412: an item is already
   * there (AlreadyExists with that href); a UID conflict (RFC 4791 §5.3.2.1, RFC 6352
   * §6.3.2.1) is AlreadyExists with the existing item's href when the server names it.
   * The etag is the one the PUT answered, or null — never guessed by a later GET, which
   * could describe someone else's newer version.
   */
  async create(uid: Uid, text: string): Promise<WriteResult> {
    const href = asHref(memberPath(this.#path, itemName(uid, this.kind)));
    const body = this.#scheduling(text) ? withClientScheduling(text, null) : text;
    const context = this.#context(href);
    const answer = await this.#s.client.exchange(
      'PUT',
      href,
      { headers: { 'if-none-match': '*', 'content-type': this.#s.protocol.contentType }, body },
      context,
    );
    if (answer.status >= 200 && answer.status < 300)
      return { href, etag: writtenEtag(answer.header('etag')) };
    // A UID held by another item first: Xandikos reports it as a 412, but the item that
    // holds the UID is not at our href (statusError names it when the server does).
    if (uidConflict(answer.preconditions) !== undefined) {
      throw statusError(answer.request, answer.status, answer.preconditions);
    }
    if (answer.status === 412) {
      throw requestError('AlreadyExists', answer.request, `an item already exists at ${href} (UID ${uid})`, {
        href,
      });
    }
    if (answer.status === 404) this.#s.onGone();
    throw statusError(answer.request, answer.status, answer.preconditions);
  }

  /**
   * PUT with If-Match: 412 (or no item there) is PreconditionFailed. On a server that
   * schedules, `Unsupported` for a meeting it schedules (see `schedule-agent.ts`).
   */
  async update(href: Href, text: string, ifMatch: Etag): Promise<WriteResult> {
    this.#handedOver.delete(href);
    const context = this.#context(href);
    let body = text;
    if (this.#schedules()) {
      // Never undefined here: a copy to change that is gone throws PreconditionFailed.
      const stored = await this.#storedMeeting(href, ifMatch, 'changed');
      if (typeof stored === 'string') body = withClientScheduling(text, stored);
      else if (hasSchedulingProperties(text)) body = withClientScheduling(text, null);
    }
    const answer = await this.#s.client.exchange(
      'PUT',
      href,
      { headers: { 'if-match': quotedEtag(ifMatch), 'content-type': this.#s.protocol.contentType }, body },
      context,
    );
    if (answer.status >= 200 && answer.status < 300)
      return { href, etag: writtenEtag(answer.header('etag')) };
    if (answer.status === 412 || answer.status === 404 || answer.status === 410) {
      throw this.#changed(href, ifMatch, answer.status === 412 ? 'another version' : 'no item');
    }
    if (answer.status >= 400 && answer.status < 500 && answer.status !== 401 && answer.status !== 429) {
      // Servers that check the content before the precondition (Radicale) refuse a bad item
      // even when it changed meanwhile; the change matters more: the planner must re-read.
      const current = await this.#currentEtag(href);
      if (current === null || !sameEtag(current, ifMatch)) throw this.#changed(href, ifMatch, current);
    }
    throw statusError(answer.request, answer.status, answer.preconditions);
  }

  /**
   * DELETE with If-Match; an item already gone is done. Some servers answer 412 rather than
   * 404 for an If-Match on a missing item, so a 412 is checked with one PROPFIND.
   */
  async delete(href: Href, ifMatch: Etag): Promise<void> {
    this.#handedOver.delete(href);
    const context = this.#context(href);
    // Gone already: done, as below.
    if (this.#schedules() && (await this.#storedMeeting(href, ifMatch, 'deleted')) === undefined) return;
    const headers = {
      'if-match': quotedEtag(ifMatch),
      ...(this.kind === 'calendar' && this.#s.autoSchedule ? NO_SCHEDULE_REPLY : {}),
    };
    const answer = await this.#s.client.exchange('DELETE', href, { headers }, context);
    if ((answer.status >= 200 && answer.status < 300) || answer.status === 404 || answer.status === 410)
      return;
    if (answer.status === 412) {
      const current = await this.#currentEtag(href);
      if (current === null) return;
      throw this.#changed(href, ifMatch, current);
    }
    throw statusError(answer.request, answer.status, answer.preconditions);
  }

  /**
   * Runs sync-collection from `token`, members and the marker filtered out; with `items`,
   * asks for the members' data too, up to `maxChars`.
   */
  #changes(
    token: string | null,
    items: { maxChars: number; onChange?: (() => void) | undefined } | null = null,
  ) {
    return reportChanges(this.#s.client, this.#path, token, this.#context(), {
      isItem: (href) => this.#isItem(href),
      ...(this.#s.syncPageSize === undefined ? {} : { pageSize: this.#s.syncPageSize }),
      ...(items
        ? {
            data: { prop: this.#s.protocol.data, maxChars: items.maxChars },
            ...(items.onChange ? { onChange: items.onChange } : {}),
          }
        : {}),
    }).catch((e: unknown) => {
      if (e instanceof LiaisonError && e.kind === 'NotFound') this.#s.onGone();
      throw e;
    });
  }

  /** The etag of one item by PROPFIND, or null when it does not exist. */
  async #currentEtag(href: string): Promise<string | null> {
    const { client } = this.#s;
    const answer = await client.multistatus(
      'PROPFIND',
      href,
      0,
      `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`,
      this.#context(href),
    );
    if ('status' in answer) {
      if (answer.status === 404 || answer.status === 410) return null;
      throw statusError(answer.request, answer.status, answer.preconditions);
    }
    const response = answer.responses[0];
    if (response === undefined || response.status === 404) return null;
    return propText(response, GETETAG) ?? null;
  }

  /** A property of the collection itself (Depth 0), or undefined when it has none. */
  async #ownProp(name: XmlName): Promise<string | undefined> {
    let value: string | undefined;
    await this.#propfind(0, [name], (r) => {
      value = propText(r, name) || undefined;
    });
    return value;
  }

  async #propfind(depth: 0 | 1, props: readonly XmlName[], onResponse: (r: DavResponse) => void) {
    try {
      await this.#s.client.propfind(this.#path, depth, props, this.#context(), (r) => {
        if (depth === 1 || sameCollection(r.href, this.#path)) onResponse(r);
      });
    } catch (e) {
      if (e instanceof LiaisonError && e.kind === 'NotFound') this.#s.onGone();
      throw e;
    }
  }

  #etagOf(response: DavResponse): Etag {
    const etag = propText(response, GETETAG);
    if (!etag) {
      // Leaving the item out would read as a deletion; stop instead.
      throw new LiaisonError(
        'InvalidData',
        `${this.#s.client.server}: the listing of ${this.#path} gives no etag for ${response.href}`,
        { context: { ...this.#context(response.href), server: this.#s.client.server } },
      );
    }
    return asEtag(etag);
  }

  #changed(href: string, expected: Etag, found: string | null): LiaisonError {
    return new LiaisonError(
      'PreconditionFailed',
      `${this.#s.client.server}: ${href} changed since it was listed (expected etag ${expected}, found ${found ?? 'none'})`,
      { context: { ...this.#context(href), server: this.#s.client.server } },
    );
  }

  #scheduling(text: string): boolean {
    return this.#schedules() && hasSchedulingProperties(text);
  }

  /** Whether writes to this collection can make the server schedule (RFC 6638). */
  #schedules(): boolean {
    return this.kind === 'calendar' && this.#s.autoSchedule;
  }

  /**
   * Reads the stored copy before a write to a collection the server schedules: throws
   * `PreconditionFailed` when it changed or is gone, `Unsupported` when the server
   * schedules it (writing it would send its attendees an update or a cancellation).
   * Returns its text when it is a meeting Liaison may write (every address CLIENT or
   * NONE), null when it is no meeting, undefined when a copy to delete is gone already.
   */
  async #storedMeeting(
    href: Href,
    ifMatch: Etag,
    what: 'changed' | 'deleted',
  ): Promise<string | null | undefined> {
    const context = this.#context(href);
    const known = this.#justRead.get(href);
    this.#justRead.delete(href);
    const stored =
      known !== undefined && sameEtag(known.etag, ifMatch) ? known : await this.#s.client.get(href, context);
    if (stored === null && what === 'deleted') return undefined;
    if (stored === null || (stored.etag !== null && !sameEtag(stored.etag, ifMatch))) {
      throw this.#changed(href, ifMatch, stored === null ? 'no item' : stored.etag);
    }
    if (scheduledByServer(stored.text)) {
      throw new LiaisonError(
        'Unsupported',
        `${this.#s.client.server}: ${href} is a meeting the server schedules for its attendees (RFC 6638): it is not ${what} from the firm side, which would make the server send ${what === 'changed' ? 'an update (or a reply)' : 'a cancellation (or a decline)'} on the firm's behalf; change it in the mail client`,
        { context: { ...context, server: this.#s.client.server } },
      );
    }
    return hasSchedulingProperties(stored.text) ? stored.text : null;
  }

  #isItem(href: string): boolean {
    return isItemOf(this.#path, href) && !this.#isMarker(href);
  }

  #isMarker(href: string): boolean {
    return this.kind === 'calendar' && isItemOf(this.#path, href) && lastSegment(href) === MARKER_ITEM_NAME;
  }

  #context(href?: string): RequestContext {
    return href === undefined
      ? { user: this.#s.account, collection: this.#path }
      : { user: this.#s.account, collection: this.#path, href };
  }
}

/** Whether two etags are the same, quoted or not. */
function sameEtag(a: string, b: string): boolean {
  return quotedEtag(a.trim()) === quotedEtag(b.trim());
}

/** RFC 9110 §8.8.3: an entity-tag is quoted; some servers' getetag values are not. */
function quotedEtag(etag: string): string {
  return /^(W\/)?".*"$/.test(etag) ? etag : `"${etag}"`;
}

/**
 * The etag a PUT answered with, or null. A weak etag (RFC 9110 §8.8.1) cannot be used with
 * If-Match, and says the server changed what it stored: the next listing gives the etag.
 */
function writtenEtag(header: string | undefined): Etag | null {
  if (header === undefined || header.trim() === '' || header.trim().startsWith('W/')) return null;
  return asEtag(header.trim());
}
