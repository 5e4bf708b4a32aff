/**
 * What firm sync needs from the firm database, as plain functions: the service never sees
 * SQL. Implemented in `db/firm-sync-store.ts` for SQLite and PostgreSQL.
 */
import type { FirmContactId, FirmItemId, UserId } from '../domain/ids.js';
import type { RunLog, UserLocks } from '../sync/run-ports.js';
import type {
  BaseWrite,
  DownRow,
  FirmContact,
  FirmContactWrite,
  FirmCursor,
  FirmJournalLine,
  FirmReview,
  FirmStep,
  FirmUser,
  JournalLine,
  LinkWrite,
  NewReview,
  ReviewState,
  SeqRange,
  UserContactLink,
  UserContactWrite,
} from './firm-types.js';

/** Reads, inside a transaction or not. */
export interface FirmReads {
  /** The user's contacts with afterSeq < change_seq ≤ uptoSeq, by change_seq, at most `limit`. */
  changedUserContacts(
    user: UserId,
    afterSeq: number,
    uptoSeq: number,
    limit: number,
  ): Promise<UserContactLink[]>;
  /** These user contacts (those that exist). */
  userContacts(ids: readonly FirmItemId[]): Promise<UserContactLink[]>;
  /** The user contacts connected to a firm contact. */
  userContactsOf(firm: FirmContactId): Promise<UserContactLink[]>;
  firmContacts(ids: readonly FirmContactId[]): Promise<Map<FirmContactId, FirmContact>>;
  /** Firm contacts holding each of these normalized e-mail addresses. */
  firmIdsByEmail(emails: readonly string[]): Promise<Map<string, FirmContactId[]>>;
  /** Firm contacts with each of these normalized "name|organization" keys. */
  firmIdsByName(keys: readonly string[]): Promise<Map<string, FirmContactId[]>>;
  /**
   * The user's connected contacts whose firm contact changed in (after.seq, uptoSeq], ordered by
   * (firm seq, user contact id) after `after`, at most `limit`.
   */
  downRowsAfter(
    user: UserId,
    after: { readonly seq: number; readonly userContactId: string },
    uptoSeq: number,
    limit: number,
  ): Promise<DownRow[]>;
  /** These user contacts of these users that are connected, with their firm contacts. */
  downRowsOf(users: readonly UserId[], ids: readonly FirmItemId[]): Promise<DownRow[]>;
  /** Every review of these user contacts, any state. */
  reviewsOf(userContacts: readonly FirmItemId[]): Promise<FirmReview[]>;
  getReview(id: string): Promise<FirmReview | null>;
  getJournalLine(id: string): Promise<JournalLine | null>;
  /**
   * The oldest journal line written after `entryId` about the same firm contact or user contact,
   * restricted to (or excluding) some actions; null when there is none.
   */
  newerJournalLine(
    entryId: string,
    about: { readonly firmContactId?: FirmContactId; readonly userContactId?: FirmItemId },
    actions: { readonly only?: readonly string[]; readonly except?: readonly string[] },
  ): Promise<JournalLine | null>;
  /**
   * The `disconnect` lines written with a `firm-delete` line (same firm contact, time and actor,
   * before it): the user contacts that deletion disconnected.
   */
  disconnectsOfDeletion(deletion: JournalLine): Promise<JournalLine[]>;
}

/** Writes; only inside a transaction. */
export interface FirmWrites {
  /** Creates or rewrites firm contacts, each with a new change sequence value; returns them. */
  writeFirmContacts(writes: readonly FirmContactWrite[]): Promise<Map<FirmContactId, number>>;
  /** Deletes firm contacts (their links must be cleared first) and drops them from candidate lists. */
  deleteFirmContacts(ids: readonly FirmContactId[]): Promise<void>;
  writeLinks(links: readonly LinkWrite[]): Promise<void>;
  /** New bases of connected contacts; one whose link changed since it was read is left alone. */
  writeBases(bases: readonly BaseWrite[]): Promise<void>;
  /**
   * Rewrites user contacts as a CRM edit would; `PreconditionFailed` when one changed since read.
   * Returns the change sequence values they took (null for no write).
   */
  writeUserContacts(writes: readonly UserContactWrite[]): Promise<SeqRange | null>;
  /**
   * Moves the up cursor of each of `users` to `written.last`, past the user contacts this
   * transaction wrote with `writeUserContacts` (`written`), when no other contact of theirs was
   * written after their up cursor: firm sync's own writes are not changes to take up. The caller
   * vouches that those writes were not over changes of the user's still waiting for the up step.
   */
  passUpCursors(users: readonly UserId[], written: SeqRange): Promise<void>;
  /**
   * New change sequence values for these user contacts, content unchanged, so that the next up
   * step takes them (mailbox sync finds nothing to carry: the content is the same).
   */
  touchUserContacts(ids: readonly FirmItemId[]): Promise<void>;
  addReviews(reviews: readonly NewReview[]): Promise<string[]>;
  /** Decides held reviews (one decided already keeps its state); returns how many were held. */
  resolveReviews(ids: readonly string[], state: Exclude<ReviewState, 'held'>): Promise<number>;
  journal(lines: readonly FirmJournalLine[], actor: string, runId: string | null): Promise<void>;
  /** Raises these users' cursors of `step` to `seq` (never lowers one). */
  setCursors(users: readonly UserId[], step: FirmStep, seq: number): Promise<void>;
}

/** Reads and writes inside one transaction. */
export interface FirmTx extends FirmReads, FirmWrites {}

/** Filters of the journal listing; all given ones must hold. */
export interface JournalQuery {
  readonly user?: UserId;
  readonly firmContactId?: FirmContactId;
  readonly runId?: string;
  /** Default 1000. */
  readonly limit?: number;
}

/** A firm contact in a listing. */
export interface FirmContactSummary {
  readonly id: FirmContactId;
  readonly formattedName: string;
  readonly organization: string;
  readonly emails: readonly string[];
  readonly connected: number;
  readonly possibleDuplicate: boolean;
  readonly candidates: readonly FirmContactId[];
  readonly updatedAt: string;
}

/** The firm database as firm sync sees it. */
export interface FirmStore extends FirmReads {
  /**
   * Runs `fn` in one transaction: all its writes or none. `firmWrites`: it may create or change
   * firm contacts, so it is serialized with every other such transaction (matching must see the
   * firm contacts another process is creating, or both would create the same person).
   */
  transaction<T>(options: { readonly firmWrites: boolean }, fn: (tx: FirmTx) => Promise<T>): Promise<T>;
  /** The last value taken from the global change sequence. */
  currentSeq(): Promise<number>;
  cursors(users: readonly UserId[]): Promise<Map<UserId, FirmCursor>>;
  /** Raises the cursors of these users to `seq` (never lowers one). */
  advanceCursors(users: readonly UserId[], step: FirmStep, seq: number): Promise<void>;
  /**
   * Those of `users` with a user contact written after their up cursor and no later than
   * `uptoSeq`: one index probe per user, whatever each cursor's age.
   */
  usersWithChanges(users: readonly UserId[], uptoSeq: number): Promise<Set<UserId>>;
  /** Those of `users` with more than `few` such user contacts: one index probe per user. */
  usersWithManyChanges(users: readonly UserId[], uptoSeq: number, few: number): Promise<Set<UserId>>;
  /** How many firm contacts were written in (afterSeq, uptoSeq], counting no further than `atMost + 1`. */
  countFirmChanges(afterSeq: number, uptoSeq: number, atMost: number): Promise<number>;
  /** Firm contacts written in (afterSeq, uptoSeq], by seq, at most `limit`. */
  firmChangesAfter(
    afterSeq: number,
    uptoSeq: number,
    limit: number,
  ): Promise<{ readonly id: FirmContactId; readonly seq: number }[]>;
  /** The user contacts connected to these firm contacts. */
  linksOf(
    firmIds: readonly FirmContactId[],
  ): Promise<{ readonly id: FirmItemId; readonly user: UserId; readonly firmContactId: FirmContactId }[]>;
  /**
   * Firm contacts whose normalized name or organization contains `search.text`, or one of whose
   * e-mail addresses contains `search.email`; every firm contact when null. Newest first.
   */
  searchFirmContacts(
    search: { readonly text: string; readonly email: string } | null,
    limit: number,
  ): Promise<FirmContactSummary[]>;
  listReviews(filter: { readonly state?: ReviewState; readonly user?: UserId }): Promise<FirmReview[]>;
  listJournal(query: JournalQuery): Promise<JournalLine[]>;
}

/** The users of firm sync and their preferences. */
export interface FirmUserDirectory {
  /** Users whose list is in one of `groups` (every user when empty), by login. */
  list(groups: readonly string[]): Promise<FirmUser[]>;
  /** Users by id (those that exist). */
  byIds(ids: readonly UserId[]): Promise<FirmUser[]>;
  /** Users by login; `unknown` lists the logins that do not exist. */
  byLogins(logins: readonly string[]): Promise<{ readonly found: FirmUser[]; readonly unknown: string[] }>;
  /** Merges these keys into the users' stored preferences, in one transaction. */
  setPreferences(users: readonly UserId[], entries: Readonly<Record<string, string>>): Promise<void>;
}

/** Everything firm sync and its administration need, wired by the composition root. */
export interface FirmSyncDeps {
  readonly store: FirmStore;
  readonly users: FirmUserDirectory;
  /** The same per-user leases as mailbox sync (SPEC §7). */
  readonly locks: UserLocks;
  readonly runs: RunLog;
  readonly now: () => Date;
  /**
   * Identifies this process's firm sync as a lock holder. Must differ from the mailbox sync's
   * holder in the same process, or the two would share a lease.
   */
  readonly holder: string;
  /** New firm contact ids (time-ordered). */
  readonly newId: () => string;
  /** User contacts per transaction (default 500). */
  readonly batchSize?: number;
}
