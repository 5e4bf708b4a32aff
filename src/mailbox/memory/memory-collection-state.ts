import { LiaisonError } from '../../domain/errors.js';
import type { Etag, Href, SyncToken } from '../../domain/ids.js';
import { asSyncToken } from '../../domain/ids.js';
import type { ChangeSet, ItemRef } from '../port.js';

/** One stored item of a memory collection. */
export interface MemoryItem {
  readonly text: string;
  readonly etag: Etag;
}

/**
 * The contents and change list of one in-memory collection, without fault injection.
 *
 * Every write appends the href to a change list numbered from 1; a sync token is
 * `memory:<epoch>:<n>`, the number of changes seen. The epoch is replaced when tokens are
 * invalidated (a test hook, a wipe, a restore), which refuses every older token the way a
 * server refuses a token after its collection was recreated. Only the last `horizon`
 * changes are kept, so a token lagging further behind is refused too, like a server that
 * prunes its change log.
 */
export class MemoryCollectionState {
  readonly #items = new Map<Href, MemoryItem>();
  /** UID → href, so a create can report the item that already holds its UID. */
  readonly #hrefByUid = new Map<string, Href>();
  /** Hrefs changed, oldest first; entry i is change number `#floor + i + 1`. */
  #log: Href[] = [];
  #seq = 0;
  /** Number of the newest change that fell off the log: tokens below it cannot be answered. */
  #floor = 0;
  #epoch: number;

  constructor(
    private readonly nextEtag: () => Etag,
    private readonly nextEpoch: () => number,
    private readonly horizon: number,
  ) {
    this.#epoch = nextEpoch();
  }

  get size(): number {
    return this.#items.size;
  }

  get(href: Href): MemoryItem | undefined {
    return this.#items.get(href);
  }

  /** The href of the item whose UID is `uid`, if any. */
  hrefOfUid(uid: string): Href | undefined {
    const href = this.#hrefByUid.get(uid);
    // The index may point at an item that was overwritten with another UID since.
    return href !== undefined && uidOf(this.#items.get(href)?.text ?? '') === uid ? href : undefined;
  }

  refs(): ItemRef[] {
    return [...this.#items].map(([href, item]) => ({ href, etag: item.etag }));
  }

  entries(): [Href, MemoryItem][] {
    return [...this.#items];
  }

  /** Stores `text` at `href` with a fresh etag (or `etag` when restoring) and records the change. */
  set(href: Href, text: string, etag: Etag = this.nextEtag()): Etag {
    this.#items.set(href, { text, etag });
    const uid = uidOf(text);
    if (uid !== null) this.#hrefByUid.set(uid, href);
    this.#record(href);
    return etag;
  }

  /** Gives an unchanged item a new etag, as a server with unstable etags does. */
  retag(href: Href): void {
    const item = this.#items.get(href);
    if (item !== undefined) this.set(href, item.text);
  }

  remove(href: Href): boolean {
    const existed = this.#items.delete(href);
    if (existed) this.#record(href);
    return existed;
  }

  /** Removes every item and starts a new change list, as a recreated collection would. */
  clear(): void {
    this.#items.clear();
    this.#hrefByUid.clear();
    this.invalidateTokens();
  }

  invalidateTokens(): void {
    this.#epoch = this.nextEpoch();
    this.#log = [];
    this.#floor = this.#seq;
  }

  token(): SyncToken {
    return asSyncToken(`memory:${this.#epoch}:${this.#seq}`);
  }

  changesSince(token: SyncToken): ChangeSet {
    const match = /^memory:(\d+):(\d+)$/.exec(token);
    const seen = match ? Number(match[2]) : Number.NaN;
    const oldest = Math.max(this.#floor, this.#seq - this.horizon);
    if (!match || Number(match[1]) !== this.#epoch || seen < oldest || seen > this.#seq) {
      throw new LiaisonError('InvalidSyncToken', `sync token ${token} is no longer valid`);
    }
    const hrefs = new Set(this.#log.slice(seen - this.#floor));
    const changed: ItemRef[] = [];
    const removed: Href[] = [];
    for (const href of hrefs) {
      const item = this.#items.get(href);
      if (item === undefined) removed.push(href);
      else changed.push({ href, etag: item.etag });
    }
    return { token: this.token(), changed, removed };
  }

  #record(href: Href): void {
    this.#seq += 1;
    this.#log.push(href);
    // Validity follows the horizon exactly (see changesSince); the log itself is trimmed in
    // chunks so that a long run of writes does not copy the array on every change.
    const excess = this.#log.length - this.horizon;
    if (excess > 4096) {
      this.#log = this.#log.slice(excess);
      this.#floor += excess;
    }
  }
}

/** The UID of a vCard or iCalendar text (first UID line, after unfolding), or null. */
export function uidOf(text: string): string | null {
  const unfolded = text.replace(/\r\n|\r/g, '\n').replace(/\n[ \t]/g, '');
  const match = /^UID(?:;[^:\n]*)?:(.*)$/im.exec(unfolded);
  return match?.[1] !== undefined ? match[1].trim() : null;
}
