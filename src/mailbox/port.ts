import type { CollectionKind, Etag, Href, SyncToken, Uid } from '../domain/ids.js';

/** An item's place and version in a collection, as a listing gives it. */
export interface ItemRef {
  readonly href: Href;
  readonly etag: Etag;
}

/** One answer of a bulk read: the item's text, or the fact that it is gone. */
export type ReadResult =
  | { readonly href: Href; readonly etag: Etag; readonly text: string }
  | { readonly href: Href; readonly missing: true }
  /**
   * The server answered for the item, but neither with it nor that it is gone (a 500 for
   * one href of a multiget): it is there, unread. `failed` says what the server answered.
   */
  | { readonly href: Href; readonly failed: string };

/** What changed in a collection since a token (RFC 6578 semantics). */
export interface ChangeSet {
  readonly token: SyncToken;
  /** Created or modified items, with their new etags. */
  readonly changed: readonly ItemRef[];
  /** Items removed since the token. */
  readonly removed: readonly Href[];
}

/** How a change list is asked for. */
export interface ChangeListOptions {
  /**
   * The caller reads the changed items next: a store that can hand them over with the
   * change list does, and its next `read` of each of them costs no request.
   */
  readonly withItems?: boolean;
}

export interface ListOptions {
  /**
   * The caller reads every listed item next (a first sync): a store that can hand them
   * over with the listing does, and its next `read` of each of them costs no request.
   */
  readonly withItems?: boolean;
}

/** The answer of a write: where the item now lives and its etag, when the store tells it. */
export interface WriteResult {
  readonly href: Href;
  /** null when the store did not return one (some servers rewrite what they store). */
  readonly etag: Etag | null;
}

/**
 * One collection of a mailbox: the address book or the calendar.
 *
 * Errors are `LiaisonError`s: `PreconditionFailed` when an etag or If-None-Match
 * precondition fails, `AlreadyExists` when a create collides with an existing item
 * (carrying the existing href in `context.href`), `InvalidSyncToken` when a token is
 * no longer valid, `Unavailable` / `AccessDenied` for transport problems.
 */
export interface MailboxCollection {
  readonly kind: CollectionKind;
  /** Human-readable location for messages and reports (a path or URL, never a credential). */
  readonly location: string;
  /** Every item's href and etag. */
  list(): Promise<ItemRef[]>;
  /** Resolves once the requests started on this collection are on their way (see `MailboxStore`). */
  sendStarted(): Promise<void>;
  /**
   * Every item's href and etag together with the change-list token that goes with that
   * listing (null when the store keeps no change list), in as few requests as the store
   * allows: a later `changesSince(token)` reports every change made after the listing.
   */
  listAll(options?: ListOptions): Promise<{ readonly refs: ItemRef[]; readonly token: SyncToken | null }>;
  /**
   * A cheap fingerprint of the collection's state (ctag, sync token, folder digest).
   * Equal fingerprints mean nothing changed; a different one means something may have.
   */
  probe(): Promise<string>;
  /**
   * When the fingerprint is a digest of the listing (a folder), the function computing it,
   * so a caller that lists anyway gets the fingerprint without a second listing; else null.
   */
  readonly probeFromListing: ((refs: readonly ItemRef[]) => string) | null;
  /**
   * Whether the collection keeps a change list (`currentToken`/`changesSince` answer, not
   * null). Sync then detects change by the change list and needs no fingerprint.
   */
  readonly keepsChangeList: boolean;
  /**
   * The token to use with `changesSince` later, or null when the store keeps no change list.
   */
  currentToken(): Promise<SyncToken | null>;
  /**
   * Changes since `token`, or null when the store keeps no change list.
   * Throws `InvalidSyncToken` when the token is no longer valid: list everything instead.
   */
  changesSince(token: SyncToken, options?: ChangeListOptions): Promise<ChangeSet | null>;
  /** Reads items in bounded batches; a missing href is reported as missing, not thrown. */
  read(hrefs: readonly Href[]): AsyncIterable<ReadResult>;
  /** Whether `href` names an item of this collection (not of another collection of the mailbox). */
  holds(href: Href): boolean;
  /** Creates an item at an href derived from its UID; never overwrites (If-None-Match: *). */
  create(uid: Uid, text: string): Promise<WriteResult>;
  /** Replaces an item only if its etag is still `ifMatch`. */
  update(href: Href, text: string, ifMatch: Etag): Promise<WriteResult>;
  /** Deletes an item only if its etag is still `ifMatch`; an item already gone is not an error. */
  delete(href: Href, ifMatch: Etag): Promise<void>;
}

/** Liaison's sync marker: the last successful sync time of each collection (SPEC §5). */
export interface MarkerNote {
  readonly collections: Partial<Record<CollectionKind, string>>;
}

/** One user's mailbox on a mailbox server. */
export interface MailboxStore {
  /** Location for messages (never a credential). */
  readonly location: string;
  /** Opens a collection; throws `NotFound` when the mailbox has none of that kind. */
  collection(kind: CollectionKind): Promise<MailboxCollection>;
  /** The marker note, or null when there is none. */
  readMarker(): Promise<MarkerNote | null>;
  /** Writes the marker note, creating its hidden collection when needed. */
  writeMarker(note: MarkerNote): Promise<void>;
  /**
   * Resolves once the requests started on this mailbox are on their way. A server is sent
   * a request only as the event loop turns, and synchronous work (SQLite) does not let it
   * turn: a sync that means the server to work meanwhile waits for this first.
   */
  sendStarted(): Promise<void>;
}

/** A configured mailbox server: opens users' mailboxes. */
export interface MailboxServer {
  /** Opens the mailbox of `account`. */
  open(account: string): MailboxStore;
  /**
   * Creates the mailbox's collections of the given kinds (default: both) when they are
   * missing. A vdir mailbox always gets both folders: they cost nothing.
   */
  ensureMailbox(account: string, kinds?: readonly CollectionKind[]): Promise<void>;
}
