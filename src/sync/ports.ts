import type { Fields } from '../domain/fields.js';
import type { CollectionKind, Etag, FirmItemId, Href, SyncToken, Uid, UserId } from '../domain/ids.js';

/** A user contact or user appointment as the firm database holds it. */
export interface FirmItem<T> {
  readonly id: FirmItemId;
  readonly item: T;
  /** Changes whenever the item is written (its change sequence): lets sync skip rehashing unchanged items. */
  readonly revision: string;
}

/** What both sides looked like after the last sync of one pair of items. */
export interface StatusEntry {
  readonly firmId: FirmItemId;
  readonly href: Href;
  readonly firmHash: string;
  /** The firm item's revision when synced; null when unknown (the hash then decides). */
  readonly firmRevision: string | null;
  /** null when the server returned no etag on write: the next listing supplies it. */
  readonly mailboxEtag: Etag | null;
  readonly mailboxHash: string;
  /** Normalized fields at the last sync: the base of three-way merge. */
  readonly base: Fields;
}

/** What {@link FirmSyncStore.loadChanged} returns. */
export interface FirmDelta<T> {
  readonly status: StatusEntry[];
  readonly items: FirmItem<T>[];
  /** Status entries in all. */
  readonly statusCount: number;
  /** Firm items in all. */
  readonly itemCount: number;
  /** Some status entry has no mailbox etag (the server returned none): a listing must supply it. */
  readonly missingEtags: boolean;
}

/** Per user and collection: the sync marker times and change-detection state. */
export interface CollectionState {
  /** Marker time of the last successful sync, as written into the mailbox note. */
  readonly lastSync: string | null;
  /** Marker time being written now: lets a crash between note and database not lock a user out. */
  readonly pendingSync: string | null;
  readonly outOfSync: boolean;
  readonly outOfSyncReason: string | null;
  /** Mailbox fingerprint (`MailboxCollection.probe`) after the last sync. */
  readonly probe: string | null;
  /** Mailbox change-list token after the last sync. */
  readonly token: SyncToken | null;
  /** Firm-side change counter after the last sync. */
  readonly firmCounter: number;
  /** How many items the last change list named; null after a listing or a failed change list. */
  readonly lastChanges: number | null;
  /**
   * The last run of the collection failed. Noted by the run itself and cleared by one that
   * syncs the collection, so it is not part of a {@link StatePatch}.
   */
  readonly lastFailed: boolean;
}

/** The fields of a collection's state a sync writes. */
export type StatePatch = Partial<Omit<CollectionState, 'lastFailed'>>;

export type JournalAction = 'create' | 'update' | 'delete' | 'conflict' | 'link' | 'quarantine' | 'restore';
export type Direction = 'to-firm' | 'to-mailbox' | 'none';

/** One line of the change journal: who changed what, before and after. */
export interface JournalEntry {
  readonly action: JournalAction;
  readonly direction: Direction;
  readonly firmId: FirmItemId | null;
  readonly href: Href | null;
  readonly uid: Uid | null;
  readonly before: Fields | null;
  readonly after: Fields | null;
  /** e.g. the losing value of a conflict, or the reason of a quarantine. */
  readonly note: string;
}

/** A firm-side write that comes with a status change, committed in one transaction. */
export type FirmWrite<T> =
  | { readonly op: 'create'; readonly item: T }
  | { readonly op: 'update'; readonly id: FirmItemId; readonly item: T }
  | { readonly op: 'delete'; readonly id: FirmItemId };

export type StatusWrite =
  /**
   * Replaces any status row with the same firm id or the same href. When the same commit
   * writes the firm item, the store records the item's new revision instead of the given
   * one. `firmId` may be
   * omitted only together with a firm `create`: the new row's id is used.
   */
  | { readonly op: 'put'; readonly entry: Omit<StatusEntry, 'firmId'> & { readonly firmId?: FirmItemId } }
  | { readonly op: 'remove'; readonly firmId: FirmItemId };

/** One item's worth of work, made durable at once. */
export interface ItemCommit<T> {
  readonly firm?: FirmWrite<T>;
  readonly status?: StatusWrite;
  readonly journal: readonly JournalEntry[];
}

/**
 * The firm database as mailbox sync sees it, for one kind of item. Implemented in
 * `db/` for SQLite and PostgreSQL and in memory for property tests.
 */
export interface FirmSyncStore<T> {
  /** Every user contact (or appointment) of the user. */
  listItems(user: UserId, kind: CollectionKind): Promise<FirmItem<T>[]>;
  /** A counter that grows with every firm-side change to the user's collection (creates, edits, deletes). */
  changeCounter(user: UserId, kind: CollectionKind): Promise<number>;
  loadStatus(user: UserId, kind: CollectionKind): Promise<StatusEntry[]>;
  /**
   * Only what can have changed since the last sync, for an express sync that has the
   * mailbox's change list: the status entries of `hrefs` and of every pair whose firm item
   * was written since it was synced (or whose revision is unknown) or is gone; the firm items
   * of those pairs and every firm item without a status entry. Entries and items not
   * returned are unchanged on the firm side, so the planner has nothing to do for them.
   *
   * `firmChanged` false says the change counter has not moved since the last sync: no firm
   * item was written or deleted since but by sync itself, so the store may skip looking for
   * stale pairs, and for unpaired items unless an href of the change list is new to it
   * (a new mailbox item is matched against them).
   */
  loadChanged(
    user: UserId,
    kind: CollectionKind,
    hrefs: readonly Href[],
    firmChanged: boolean,
  ): Promise<FirmDelta<T>>;
  /**
   * The mailbox etag the status keeps for each of `hrefs` that is paired, or for every pair
   * when `hrefs` is left out: what a listing is compared with, learnt without loading fields.
   */
  statusEtags(user: UserId, kind: CollectionKind, hrefs?: readonly Href[]): Promise<Map<Href, Etag | null>>;
  /** The status entries of `hrefs`, and the firm items of those entries: one slice of a large change. */
  loadPairs(
    user: UserId,
    kind: CollectionKind,
    hrefs: readonly Href[],
  ): Promise<{ status: StatusEntry[]; items: FirmItem<T>[] }>;
  /** The current revision of each of these items that still exists (absent: deleted). */
  revisionsOf(
    user: UserId,
    kind: CollectionKind,
    ids: readonly FirmItemId[],
  ): Promise<Map<FirmItemId, string>>;
  /**
   * Applies a batch in one transaction; returns, in order, the firm id each commit
   * concerns (the new id for a create). Firm writes made here do not count as firm-side
   * changes for express mode: the counter returned by `changeCounter` afterwards is the
   * caller's to read before listing and store after the sync.
   */
  commit(
    user: UserId,
    kind: CollectionKind,
    runId: string,
    batch: readonly ItemCommit<T>[],
  ): Promise<FirmItemId[]>;
  loadState(user: UserId, kind: CollectionKind): Promise<CollectionState>;
  saveState(user: UserId, kind: CollectionKind, patch: StatePatch): Promise<void>;
  /**
   * Keeps the list of items that could not be synced: `examined` names the items a run
   * looked at (null: all); of those, the ones in `found` are listed, the others leave the
   * list. Items not examined keep their place in it.
   */
  recordQuarantine(
    user: UserId,
    kind: CollectionKind,
    examined: readonly Href[] | null,
    found: readonly { readonly href: Href; readonly reason: string }[],
  ): Promise<void>;
  /**
   * Does now, while the run waits on the mailbox anyway, the upkeep that closing the store
   * would otherwise do after the run (SQLite: copying the write-ahead log into the
   * database file). Nothing for a store without such upkeep.
   */
  tidy(): Promise<void>;
}

/** A plan that crossed the mass-change threshold, stored for the administrator. */
export interface HeldPlanRecord {
  readonly id: string;
  readonly user: UserId;
  readonly login: string;
  readonly kind: CollectionKind;
  readonly createdAt: string;
  readonly reason: string;
  /** Serialized plan (JSON); see `sync/plan.ts`. */
  readonly plan: string;
  /** `superseded`: a recovery of the collection made it moot (it had matched both sides anew). */
  readonly state: 'held' | 'approved' | 'rejected' | 'superseded';
}

/** Held plans (SPEC §6). */
export interface HeldPlanStore {
  saveHeld(rec: Omit<HeldPlanRecord, 'id' | 'createdAt' | 'state'>): Promise<string>;
  listHeld(filter?: { state?: HeldPlanRecord['state'] }): Promise<HeldPlanRecord[]>;
  getHeld(id: string): Promise<HeldPlanRecord | null>;
  /** True when `user` has a plan still held for `kind`: that collection is not synced until it is resolved. */
  hasHeld(user: UserId, kind: CollectionKind): Promise<boolean>;
  resolveHeld(id: string, state: 'approved' | 'rejected' | 'superseded'): Promise<void>;
}
