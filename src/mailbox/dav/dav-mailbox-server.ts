import { LiaisonError } from '../../domain/errors.js';
import type { CollectionKind } from '../../domain/ids.js';
import { COLLECTION_KINDS } from '../../domain/ids.js';
import type { MailboxCollection, MailboxServer, MailboxStore, MarkerNote } from '../port.js';
import { configuredName, DEFAULT_COLLECTIONS, PROTOCOLS } from './collection-choice.js';
import { DavCollection } from './dav-collection.js';
import type { DavServerConfig, MarkerPlacement } from './dav-config.js';
import { DavDiscovery } from './dav-discovery.js';
import { requestError, statusError } from './dav-failure.js';
import { displayUrl, encodeSegment, withSlash } from './dav-href.js';
import { DavMarker, type PlacementMemo } from './dav-marker.js';
import { DavTransport, type DavTransportOptions } from './dav-transport.js';
import { type DiscoveredMailbox, type DiscoveryCache, MemoryDiscoveryCache } from './discovery-cache.js';
import { WebDavClient } from './webdav-client.js';

/** Settings of a {@link DavMailboxServer} beyond the server's configuration. */
export interface DavMailboxOptions extends DavTransportOptions {
  /**
   * Where discovered mailboxes are kept. Default: a map living as long as the server object,
   * so each process pays discovery once per user; a persistent cache saves that too.
   */
  readonly discoveryCache?: DiscoveryCache;
  /** Imposes a marker placement instead of choosing the best the server supports. */
  readonly markerPlacement?: MarkerPlacement;
  /**
   * Asks sync-collection answers to be paged at this many results (RFC 6578 §3.7 DAV:limit;
   * Cyrus pages only when asked). Off by default: a server that cannot page may refuse it.
   */
  readonly syncPageSize?: number;
}

/**
 * Users' mailboxes on one CardDAV/CalDAV server, reached with a service account that may
 * enter every mailbox (Radicale with a rights file, a Cyrus admin). `open(ACCOUNT)` finds
 * the user's principal (see `dav-discovery.ts`); ACCOUNT is a user name on the server, or
 * the principal's absolute path or URL.
 *
 * One connection pool per instance; `close()` releases it.
 */
export class DavMailboxServer implements MailboxServer {
  readonly config: DavServerConfig;
  readonly client: WebDavClient;
  readonly discovery: DavDiscovery;
  readonly #cache: DiscoveryCache;
  readonly #pending = new Map<string, Promise<DiscoveredMailbox>>();
  readonly #memo: PlacementMemo = { placement: null };
  readonly #forced: MarkerPlacement | undefined;
  readonly syncPageSize: number | undefined;

  constructor(config: DavServerConfig, options: DavMailboxOptions = {}) {
    this.config = config;
    this.client = new WebDavClient(new DavTransport(config, options));
    this.discovery = new DavDiscovery(this.client, config);
    this.#cache = options.discoveryCache ?? new MemoryDiscoveryCache();
    this.#forced = options.markerPlacement;
    this.syncPageSize = options.syncPageSize;
  }

  open(account: string): MailboxStore {
    return new DavMailboxStore(this, account);
  }

  /**
   * Makes the user's address book and calendar (or those of `kinds`) when the mailbox has none (RFC 5689
   * extended MKCOL, RFC 4791 MKCALENDAR), named by the configuration or "contacts" and
   * "calendar", and a missing home set first (plain MKCOL). Throws `NotFound` when the user
   * has no principal or a kind has no home set, `AccessDenied` when the server refuses.
   */
  async ensureMailbox(account: string, kinds: readonly CollectionKind[] = COLLECTION_KINDS): Promise<void> {
    const { homes } = await this.discovery.principal(account);
    const missing: CollectionKind[] = [];
    for (const kind of kinds) {
      const home = homes[kind];
      if (home === null) {
        missing.push(kind);
        continue;
      }
      let listing = await this.discovery.listHome(home, account);
      if (listing === null) {
        await this.#make(account, kind, home, 'MKCOL', undefined);
        listing = [];
      }
      if ((await this.discovery.collectionIn(kind, home, listing, account)) !== null) continue;
      const configured = configuredName(this.config, kind);
      const name = configured ?? DEFAULT_COLLECTIONS[kind].segment;
      const made = PROTOCOLS[kind].makeCollection(configured ?? DEFAULT_COLLECTIONS[kind].displayName);
      await this.#make(account, kind, `${withSlash(home)}${encodeSegment(name)}/`, made.method, made.body);
    }
    await this.forget(account);
    if (missing.length > 0) {
      throw new LiaisonError(
        'NotFound',
        `${this.config.name}: the principal of ${account} names no ${missing.join(' or ')} home set: the server does not offer ${missing.join(' and ')} for this user`,
        { context: { server: this.config.name, user: account } },
      );
    }
  }

  /** The discovered mailbox of `account`, from the cache or by discovery (once at a time). */
  async mailbox(account: string): Promise<DiscoveredMailbox> {
    const cached = await this.#cache.get(account);
    if (cached !== undefined) return cached;
    let pending = this.#pending.get(account);
    if (pending === undefined) {
      pending = this.discovery.discover(account).then(async (mailbox) => {
        await this.#cache.set(account, mailbox);
        return mailbox;
      });
      this.#pending.set(account, pending);
      pending.then(
        () => this.#pending.delete(account),
        () => this.#pending.delete(account),
      );
    }
    return pending;
  }

  /** Drops what discovery knew of `account` (a collection vanished): the next use rediscovers. */
  async forget(account: string): Promise<void> {
    await this.#cache.delete(account);
  }

  /** The marker of `account`'s mailbox. */
  async marker(account: string): Promise<DavMarker> {
    return new DavMarker(this.client, await this.mailbox(account), this.#memo, this.#forced);
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.client.transport.close();
  }

  async #make(account: string, kind: CollectionKind, path: string, method: string, body: string | undefined) {
    const context = { user: account, collection: path };
    const answer = await this.client.exchange(
      method,
      path,
      body === undefined ? {} : { headers: { 'content-type': 'application/xml; charset=utf-8' }, body },
      context,
    );
    if (answer.status >= 200 && answer.status < 300) return;
    const what = body === undefined ? 'home collection' : kind === 'contacts' ? 'address book' : 'calendar';
    if (answer.status === 405) {
      throw requestError(
        'Config',
        answer.request,
        `something that is not a usable ${what} already exists there`,
      );
    }
    if (answer.status === 403 || answer.status === 401) {
      throw requestError(
        'AccessDenied',
        answer.request,
        `the server refused to create the ${what} (${answer.status})`,
      );
    }
    if (answer.status === 400 || answer.status === 415 || answer.status === 501) {
      throw requestError(
        'NotFound',
        answer.request,
        `the server cannot create a ${what} here (${answer.status}): create it on the server`,
      );
    }
    throw statusError(answer.request, answer.status, answer.preconditions);
  }
}

/** One user's mailbox. */
class DavMailboxStore implements MailboxStore {
  readonly location: string;

  constructor(
    private readonly server: DavMailboxServer,
    private readonly account: string,
  ) {
    this.location = `${displayUrl(server.client.transport.base)} (${account})`;
  }

  async collection(kind: CollectionKind): Promise<MailboxCollection> {
    const mailbox = await this.server.mailbox(this.account);
    const found = mailbox.collections[kind];
    if (found === null) {
      // Maybe made since discovery ran: look once more before saying no.
      await this.server.forget(this.account);
      const fresh = (await this.server.mailbox(this.account)).collections[kind];
      if (fresh === null) {
        const home = mailbox.homes[kind];
        throw new LiaisonError(
          'NotFound',
          `${this.server.config.name}: the mailbox of ${this.account} has no ${kind === 'contacts' ? 'address book' : 'event calendar'}${home === null ? '' : ` in ${home}`}`,
          {
            context: {
              server: this.server.config.name,
              user: this.account,
              ...(home === null ? {} : { collection: home }),
            },
          },
        );
      }
      return this.#open(kind, fresh, mailbox.autoSchedule);
    }
    return this.#open(kind, found, mailbox.autoSchedule);
  }

  /**
   * The marker as read when a change list showed a change: a sync reads the marker next,
   * and the request is then under way while the change list is still arriving. Used once.
   */
  #markerAhead: Promise<{ ok: true; note: MarkerNote | null } | { ok: false; error: unknown }> | undefined;

  async readMarker(): Promise<MarkerNote | null> {
    const ahead = this.#markerAhead;
    this.#markerAhead = undefined;
    if (ahead === undefined) return this.#readMarker();
    const got = await ahead;
    if (!got.ok) throw got.error;
    return got.note;
  }

  async writeMarker(note: MarkerNote): Promise<void> {
    this.#markerAhead = undefined;
    await (await this.server.marker(this.account)).write(note);
  }

  sendStarted(): Promise<void> {
    return this.server.client.transport.sendStarted();
  }

  async #readMarker(): Promise<MarkerNote | null> {
    return (await this.server.marker(this.account)).read();
  }

  #readMarkerAhead(): void {
    // Settled at once: a read nobody asks for after all (the run failed) is not unhandled.
    this.#markerAhead ??= this.#readMarker().then(
      (note) => ({ ok: true as const, note }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  }

  #open(
    kind: CollectionKind,
    collection: DiscoveredMailbox['collections'][CollectionKind] & object,
    autoSchedule: boolean,
  ) {
    const { config } = this.server;
    return new DavCollection({
      client: this.server.client,
      protocol: PROTOCOLS[kind],
      collection,
      account: this.account,
      multigetBatch: Math.max(1, config.multigetBatch),
      concurrency: Math.max(1, config.maxConnections),
      autoSchedule,
      ...(this.server.syncPageSize === undefined ? {} : { syncPageSize: this.server.syncPageSize }),
      onChange: () => this.#readMarkerAhead(),
      onGone: () => {
        // Not awaited (the caller is reporting the collection gone). Should forgetting fail
        // (the database closing), the next run meets the same 404 and forgets it then.
        this.server.forget(this.account).catch(() => {});
      },
    });
  }
}
