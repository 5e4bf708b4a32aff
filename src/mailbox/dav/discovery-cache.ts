/**
 * What discovery learns about a mailbox, and where it is kept between uses. Discovery costs
 * several requests per user (principal, home sets, collections, OPTIONS); a
 * `DavMailboxServer` keeps the answers for its lifetime. Without a persistent
 * {@link DiscoveryCache} each process pays discovery once per user; plug one in (a table
 * keyed by server and account) to pay it once per user and layout change.
 */
import type { CollectionKind } from '../../domain/ids.js';

/** A collection found in a mailbox. */
export interface DiscoveredCollection {
  /** Canonical path. */
  readonly href: string;
  readonly displayName: string;
  /** RFC 6578 sync-collection is in the collection's supported-report-set. */
  readonly syncCollection: boolean;
  /**
   * addressbook-/calendar-multiget is usable. Both RFCs make it mandatory (RFC 6352 §8.7,
   * RFC 4791 §7.9), so it is assumed unless the server lists reports without it.
   */
  readonly multiget: boolean;
}

/** One account's mailbox as discovery found it. Plain data: it can be stored as JSON. */
export interface DiscoveredMailbox {
  readonly account: string;
  /** Canonical path of the user's principal. */
  readonly principal: string;
  /** The home set of each kind (where collections of that kind are made), or null. */
  readonly homes: Readonly<Record<CollectionKind, string | null>>;
  /** The collection of each kind Liaison syncs, or null when the mailbox has none. */
  readonly collections: Readonly<Record<CollectionKind, DiscoveredCollection | null>>;
  /** The server schedules on its own (RFC 6638 `calendar-auto-schedule`). */
  readonly autoSchedule: boolean;
}

/** Keeps discovered mailboxes by account. */
export interface DiscoveryCache {
  get(account: string): Promise<DiscoveredMailbox | undefined>;
  set(account: string, mailbox: DiscoveredMailbox): Promise<void>;
  /** Forgets an account (its layout changed: a collection disappeared). */
  delete(account: string): Promise<void>;
}

/** The default cache: a map that lives as long as its server object. */
export class MemoryDiscoveryCache implements DiscoveryCache {
  readonly #entries = new Map<string, DiscoveredMailbox>();

  async get(account: string): Promise<DiscoveredMailbox | undefined> {
    return this.#entries.get(account);
  }

  async set(account: string, mailbox: DiscoveredMailbox): Promise<void> {
    this.#entries.set(account, mailbox);
  }

  async delete(account: string): Promise<void> {
    this.#entries.delete(account);
  }
}
