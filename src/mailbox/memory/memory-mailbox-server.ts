import type { CollectionKind, Etag, Href } from '../../domain/ids.js';
import { asHref, COLLECTION_KINDS } from '../../domain/ids.js';
import type { MailboxServer, MailboxStore, MarkerNote } from '../port.js';
import type { MemoryOperation } from './memory-backend.js';
import { MemoryBackend } from './memory-backend.js';
import { copyMarker, MemoryMailboxStore } from './memory-mailbox-store.js';

export type { MemoryOperation } from './memory-backend.js';

/** Settings of a {@link MemoryMailboxServer}. */
export interface MemoryMailboxOptions {
  /** How many changes a sync token may lag behind before it is refused. Default: unlimited. */
  readonly tokenHorizon?: number;
  /**
   * Whether collections keep a change list. With `false`, `currentToken` and `changesSince`
   * return null, as vdir does, so sync falls back to probes and full listings. Default: true.
   */
  readonly changeLists?: boolean;
}

/** Which operation {@link MemoryMailboxServer.failNthOperation} fails, and how. */
export interface MemoryFaultOptions {
  /** Count only these operations. Default: every operation. */
  readonly operations?: readonly MemoryOperation[];
  /**
   * Fail after the operation took effect: the write is stored but its answer is lost, as
   * when a connection drops after the server committed. Default: fail before any effect.
   */
  readonly afterEffect?: boolean;
}

/** A copy of one account's items (with etags) and marker, for {@link MemoryMailboxServer.restore}. */
export interface MemoryMailboxSnapshot {
  readonly items: Readonly<Record<CollectionKind, readonly MemorySnapshotItem[]>>;
  readonly marker: MarkerNote | null;
}

/** One item of a {@link MemoryMailboxSnapshot}. */
export interface MemorySnapshotItem {
  readonly href: Href;
  readonly text: string;
  readonly etag: Etag;
}

/**
 * A mailbox server in memory, holding any number of accounts, for unit and property tests.
 *
 * It behaves like a well-kept CardDAV/CalDAV server: etags come from a counter and change on
 * every write, a real change list answers `changesSince`, a create refuses an existing href
 * or UID with `AlreadyExists`, and etag preconditions fail with `PreconditionFailed`. A
 * mailbox exists once `ensureMailbox` made it; before that `collection()` throws `NotFound`.
 *
 * The methods after `ensureMailbox` are test hooks. They act directly on the stored state,
 * are not counted in {@link operationCount} and are never failed by an injected fault.
 */
export class MemoryMailboxServer implements MailboxServer {
  readonly #backend: MemoryBackend;

  constructor(options: MemoryMailboxOptions = {}) {
    this.#backend = new MemoryBackend(
      options.tokenHorizon ?? Number.POSITIVE_INFINITY,
      options.changeLists ?? true,
    );
  }

  open(account: string): MailboxStore {
    return new MemoryMailboxStore(this.#backend, account);
  }

  async ensureMailbox(account: string): Promise<void> {
    if (this.#backend.mailboxes.has(account)) return;
    const collections = {
      contacts: this.#backend.newCollectionState(),
      calendar: this.#backend.newCollectionState(),
    };
    this.#backend.mailboxes.set(account, { collections, marker: null });
  }

  /** The items of a collection as href → text (a copy). Throws `NotFound` for an unknown account. */
  items(account: string, kind: CollectionKind): Map<Href, string> {
    return new Map(
      this.#backend
        .state(account, kind)
        .entries()
        .map(([href, item]) => [href, item.text]),
    );
  }

  /** Stores `text` at `href` as a user's client would (creating or replacing); returns the new etag. */
  put(account: string, kind: CollectionKind, href: string, text: string): Etag {
    return this.#backend.state(account, kind).set(asHref(href), text);
  }

  /** Removes an item as a user's client would; returns whether it existed. */
  remove(account: string, kind: CollectionKind, href: string): boolean {
    return this.#backend.state(account, kind).remove(asHref(href));
  }

  /** The stored marker note (a copy), or null. */
  marker(account: string): MarkerNote | null {
    const marker = this.#backend.mailbox(account).marker;
    return marker === null ? null : copyMarker(marker);
  }

  /** Replaces or (with null) deletes the marker note, as a user tidying their mailbox would. */
  setMarker(account: string, note: MarkerNote | null): void {
    this.#backend.mailbox(account).marker = note === null ? null : copyMarker(note);
  }

  /** Makes every sync token issued so far invalid: for one collection, one account, or all. */
  invalidateTokens(account?: string, kind?: CollectionKind): void {
    const mailboxes =
      account === undefined ? [...this.#backend.mailboxes.values()] : [this.#backend.mailbox(account)];
    for (const mailbox of mailboxes) {
      for (const k of kind === undefined ? COLLECTION_KINDS : [kind])
        mailbox.collections[k].invalidateTokens();
    }
  }

  /**
   * With `true`, every `list()` first gives each item of the listed collection a new etag
   * while its text stays the same, recorded as a change (as a server that regenerates etags
   * would): the listing's etags differ from the last ones although nothing was edited.
   */
  setFlakyEtags(on: boolean): void {
    this.#backend.flakyEtags = on;
  }

  /** With `true`, `create` and `update` answer `etag: null`, as servers that rewrite items do. */
  setEtagsMissingAfterWrite(on: boolean): void {
    this.#backend.etagsMissingAfterWrite = on;
  }

  /**
   * Makes the `n`-th counted operation from now (1 = the next one) throw `Unavailable`, to
   * simulate a crash or a dropped connection in the middle of a run. The fault fires once;
   * a new call replaces a pending fault.
   */
  failNthOperation(n: number, options: MemoryFaultOptions = {}): void {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`failNthOperation: n must be >= 1, got ${n}`);
    this.#backend.fault = {
      remaining: n,
      operations: options.operations,
      afterEffect: options.afterEffect ?? false,
    };
  }

  /** Cancels a pending fault. */
  clearFault(): void {
    this.#backend.fault = null;
  }

  /** Operations served (or failed) since the server was made, all accounts together. */
  get operationCount(): number {
    return this.#backend.operations;
  }

  /** A copy of an account's items, etags and marker. */
  snapshot(account: string): MemoryMailboxSnapshot {
    const mailbox = this.#backend.mailbox(account);
    const copy = (kind: CollectionKind) =>
      mailbox.collections[kind].entries().map(([href, item]) => ({ href, text: item.text, etag: item.etag }));
    return {
      items: { contacts: copy('contacts'), calendar: copy('calendar') },
      marker: mailbox.marker === null ? null : copyMarker(mailbox.marker),
    };
  }

  /** Empties an account (items and marker), as if the mailbox were deleted and recreated: tokens die. */
  wipe(account: string): void {
    const mailbox = this.#backend.mailbox(account);
    for (const kind of COLLECTION_KINDS) mailbox.collections[kind].clear();
    mailbox.marker = null;
  }

  /**
   * Puts an account back to `snapshot`, as a restore from backup does: items and marker return,
   * tokens die, and items get fresh etags unless `keepEtags` (some servers restore those too).
   */
  restore(account: string, snapshot: MemoryMailboxSnapshot, options: { keepEtags?: boolean } = {}): void {
    this.wipe(account);
    const mailbox = this.#backend.mailbox(account);
    for (const kind of COLLECTION_KINDS) {
      const state = mailbox.collections[kind];
      for (const item of snapshot.items[kind]) {
        if (options.keepEtags) state.set(item.href, item.text, item.etag);
        else state.set(item.href, item.text);
      }
      // No client ever held a token of the restored history.
      state.invalidateTokens();
    }
    mailbox.marker = snapshot.marker === null ? null : copyMarker(snapshot.marker);
  }
}
