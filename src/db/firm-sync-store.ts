/**
 * The firm database as firm sync sees it (`FirmStore`), over the repositories of firm contacts,
 * links, cursors, reviews and journal, for SQLite and PostgreSQL.
 */
import { type Kysely, sql } from 'kysely';
import type { FirmContactId, FirmItemId, UserId } from '../domain/ids.js';
import type {
  BaseWrite,
  FirmContactWrite,
  FirmJournalLine,
  FirmStep,
  JournalLine,
  LinkWrite,
  NewReview,
  ReviewState,
  SeqRange,
  UserContactWrite,
} from '../firm/firm-types.js';
import type { FirmStore, FirmTx, JournalQuery } from '../firm/ports.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import * as contacts from './firm-contact-repo.js';
import { passUpCursors, raiseCursors, readCursors } from './firm-cursor-repo.js';
import * as journal from './firm-journal-repo.js';
import * as links from './firm-link-repo.js';
import * as reviews from './firm-review-repo.js';
import type { Database } from './open.js';
import type { Tables } from './schema.js';
import { currentChangeSeq } from './sequence.js';

/**
 * PostgreSQL advisory lock key taken by every transaction that writes firm contacts. Matching
 * reads the firm contacts, then creates one when none matched: two processes doing that for the
 * same new person at once would both create it. Serializing these transactions (SQLite's
 * BEGIN IMMEDIATE already does) lets the second see the first's firm contact.
 */
const FIRM_WRITE_LOCK = 0x4c494146; // "LIAF"

/** Reads and writes over one query handle: the database, or a transaction. */
class SqlFirmTx implements FirmTx {
  constructor(
    protected readonly db: Kysely<Tables>,
    protected readonly clock: Clock,
  ) {}

  private now(): string {
    return isoAt(this.clock());
  }

  changedUserContacts(user: UserId, afterSeq: number, uptoSeq: number, limit: number) {
    return links.changedUserContacts(this.db, user, afterSeq, uptoSeq, limit);
  }
  userContacts(ids: readonly FirmItemId[]) {
    return links.readUserContacts(this.db, ids);
  }
  userContactsOf(firm: FirmContactId) {
    return links.userContactsOf(this.db, firm);
  }
  firmContacts(ids: readonly FirmContactId[]) {
    return contacts.readFirmContacts(this.db, ids);
  }
  firmIdsByEmail(emails: readonly string[]) {
    return contacts.firmIdsByEmail(this.db, emails);
  }
  firmIdsByName(keys: readonly string[]) {
    return contacts.firmIdsByName(this.db, keys);
  }
  downRowsAfter(user: UserId, after: { seq: number; userContactId: string }, uptoSeq: number, limit: number) {
    return links.downRowsAfter(this.db, user, after, uptoSeq, limit);
  }
  downRowsOf(users: readonly UserId[], ids: readonly FirmItemId[]) {
    return links.downRowsOf(this.db, users, ids);
  }
  reviewsOf(userContacts: readonly FirmItemId[]) {
    return reviews.reviewsOf(this.db, userContacts);
  }
  getReview(id: string) {
    return reviews.getReview(this.db, id);
  }
  getJournalLine(id: string) {
    return journal.getJournalLine(this.db, id);
  }
  newerJournalLine(
    entryId: string,
    about: { firmContactId?: FirmContactId; userContactId?: FirmItemId },
    actions: { only?: readonly string[]; except?: readonly string[] },
  ) {
    return journal.newerJournalLine(this.db, entryId, about, actions);
  }
  disconnectsOfDeletion(deletion: JournalLine) {
    return journal.disconnectsOfDeletion(this.db, deletion);
  }

  writeFirmContacts(writes: readonly FirmContactWrite[]) {
    return contacts.writeFirmContacts(this.db, writes, this.now());
  }
  deleteFirmContacts(ids: readonly FirmContactId[]) {
    return contacts.deleteFirmContacts(this.db, ids);
  }
  writeLinks(l: readonly LinkWrite[]) {
    return links.writeLinks(this.db, l);
  }
  writeBases(bases: readonly BaseWrite[]) {
    return links.writeBases(this.db, bases);
  }
  writeUserContacts(writes: readonly UserContactWrite[]) {
    return links.writeUserContacts(this.db, writes, this.now());
  }
  passUpCursors(users: readonly UserId[], written: SeqRange) {
    return passUpCursors(this.db, users, written);
  }
  touchUserContacts(ids: readonly FirmItemId[]) {
    return links.touchUserContacts(this.db, ids);
  }
  addReviews(r: readonly NewReview[]) {
    return reviews.addReviews(this.db, r, this.now());
  }
  resolveReviews(ids: readonly string[], state: Exclude<ReviewState, 'held'>) {
    return reviews.resolveReviews(this.db, ids, state, this.now());
  }
  journal(lines: readonly FirmJournalLine[], actor: string, runId: string | null) {
    return journal.insertFirmJournal(this.db, lines, actor, runId, this.now());
  }
  setCursors(users: readonly UserId[], step: FirmStep, seq: number) {
    return raiseCursors(this.db, users, step, seq);
  }
}

class SqlFirmStore extends SqlFirmTx implements FirmStore {
  constructor(
    private readonly database: Database,
    clock: Clock,
  ) {
    super(database.db, clock);
  }

  transaction<T>(options: { readonly firmWrites: boolean }, fn: (tx: FirmTx) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      if (options.firmWrites && this.database.dialect === 'postgres') {
        await sql`select pg_advisory_xact_lock(${FIRM_WRITE_LOCK})`.execute(trx);
      }
      return fn(new SqlFirmTx(trx, this.clock));
    });
  }
  currentSeq() {
    return currentChangeSeq(this.db);
  }
  cursors(users: readonly UserId[]) {
    return readCursors(this.db, users);
  }
  advanceCursors(users: readonly UserId[], step: FirmStep, seq: number) {
    return raiseCursors(this.db, users, step, seq);
  }
  usersWithChanges(users: readonly UserId[], uptoSeq: number) {
    return links.usersWithChanges(this.db, users, uptoSeq);
  }
  usersWithManyChanges(users: readonly UserId[], uptoSeq: number, few: number) {
    return links.usersWithManyChanges(this.db, users, uptoSeq, few);
  }
  countFirmChanges(afterSeq: number, uptoSeq: number, atMost: number) {
    return contacts.countFirmChanges(this.db, afterSeq, uptoSeq, atMost);
  }
  firmChangesAfter(afterSeq: number, uptoSeq: number, limit: number) {
    return contacts.firmChangesAfter(this.db, afterSeq, uptoSeq, limit);
  }
  linksOf(firmIds: readonly FirmContactId[]) {
    return links.linksOf(this.db, firmIds);
  }
  searchFirmContacts(search: { text: string; email: string } | null, limit: number) {
    return contacts.searchFirmContacts(this.db, search, limit);
  }
  listReviews(filter: { state?: ReviewState; user?: UserId }) {
    return reviews.listReviews(this.db, filter);
  }
  listJournal(query: JournalQuery) {
    return journal.listJournalLines(this.db, query);
  }
}

/** The firm sync store over `database`; `clock` is for tests. */
export function createFirmStore(database: Database, clock: Clock = systemClock): FirmStore {
  return new SqlFirmStore(database, clock);
}
