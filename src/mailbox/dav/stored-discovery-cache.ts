/**
 * A {@link DiscoveryCache} kept in the firm database, so that discovery runs once per user
 * and layout change rather than once per user and process. Entries are trusted for a day
 * (a mailbox's layout rarely changes, and a collection that disappears is rediscovered at
 * once: the collection reports it gone), only on the basis they were found on (the server's
 * URL and the collections its settings name), and only when they still have the shape this
 * version writes.
 */
import type { CollectionKind } from '../../domain/ids.js';
import { COLLECTION_KINDS } from '../../domain/ids.js';
import type { DiscoveredMailbox, DiscoveryCache } from './discovery-cache.js';

/** Where entries are kept: one server's rows of the discovery table. */
export interface DiscoveryStore {
  get(account: string): Promise<{ basis: string; data: unknown; discoveredAt: string } | null>;
  put(account: string, basis: string, data: DiscoveredMailbox): Promise<void>;
  delete(account: string): Promise<void>;
}

/** How long a stored discovery is used before it is made again. */
export const DISCOVERY_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export class StoredDiscoveryCache implements DiscoveryCache {
  /** What this process already read or wrote: asked for on every use of a mailbox. */
  readonly #known = new Map<string, DiscoveredMailbox>();

  constructor(
    private readonly store: DiscoveryStore,
    /** What discovery depends on now besides the account: see {@link discoveryBasis}. */
    private readonly basis: string,
    private readonly now: () => number = Date.now,
    private readonly maxAgeMs = DISCOVERY_MAX_AGE_MS,
  ) {}

  async get(account: string): Promise<DiscoveredMailbox | undefined> {
    const known = this.#known.get(account);
    if (known !== undefined) return known;
    const row = await this.store.get(account);
    if (row === null || row.basis !== this.basis) return undefined;
    const age = this.now() - Date.parse(row.discoveredAt);
    if (!(age >= 0 && age < this.maxAgeMs) || !isDiscoveredMailbox(row.data)) return undefined;
    this.#known.set(account, row.data);
    return row.data;
  }

  async set(account: string, mailbox: DiscoveredMailbox): Promise<void> {
    this.#known.set(account, mailbox);
    await this.store.put(account, this.basis, mailbox);
  }

  async delete(account: string): Promise<void> {
    this.#known.delete(account);
    await this.store.delete(account);
  }
}

/**
 * What a server's discoveries depend on besides the account: its URL and the address book
 * and calendar its settings name (null: the user's default ones). Changing any of them
 * makes every stored discovery of the server stale.
 */
export function discoveryBasis(
  url: string,
  collections: { addressbook: string | null; calendar: string | null },
): string {
  return JSON.stringify([url, collections.addressbook, collections.calendar]);
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Whether stored JSON has the shape of a {@link DiscoveredMailbox} (an older version's may not). */
export function isDiscoveredMailbox(value: unknown): value is DiscoveredMailbox {
  if (!isRecord(value) || !isString(value.account) || !isString(value.principal)) return false;
  if (typeof value.autoSchedule !== 'boolean') return false;
  const { homes, collections } = value;
  if (!isRecord(homes) || !isRecord(collections)) return false;
  return COLLECTION_KINDS.every((kind: CollectionKind) => {
    const home = homes[kind];
    const c = collections[kind];
    if (home !== null && !isString(home)) return false;
    if (c === null) return true;
    return (
      isRecord(c) &&
      isString(c.href) &&
      isString(c.displayName) &&
      typeof c.syncCollection === 'boolean' &&
      typeof c.multiget === 'boolean'
    );
  });
}
