import type { Kysely } from 'kysely';
import type { Fields } from '../domain/fields.js';
import type { CollectionKind, FirmItemId, Href, Uid, UserId } from '../domain/ids.js';
import type { Direction, JournalAction, JournalEntry } from '../sync/ports.js';
import { chunks } from './chunks.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { fromJsonOrNull, toJson } from './json-column.js';
import { newId } from './new-id.js';
import type { Database } from './open.js';
import type { JournalTable, Tables } from './schema.js';

/** A journal line to write: the sync port's entry plus who wrote it and where. */
export interface JournalInput extends JournalEntry {
  /** Who or which process made the change: `cli`, `mailbox-sync`, a login, … */
  readonly actor: string;
  readonly runId?: string | null;
  readonly user?: UserId | null;
  readonly kind?: CollectionKind | null;
  readonly firmContactId?: string | null;
}

/** A journal line as stored. */
export interface JournalRecord {
  readonly id: string;
  readonly at: string;
  readonly runId: string | null;
  readonly actor: string;
  readonly user: UserId | null;
  readonly kind: CollectionKind | null;
  readonly firmId: FirmItemId | null;
  readonly firmContactId: string | null;
  readonly href: Href | null;
  readonly uid: Uid | null;
  readonly action: JournalAction;
  readonly direction: Direction;
  readonly before: Fields | null;
  readonly after: Fields | null;
  readonly note: string;
}

export interface JournalFilter {
  readonly user?: UserId;
  readonly kind?: CollectionKind;
  readonly runId?: string;
  /** Most lines returned (default 1000). */
  readonly limit?: number;
  /** Default: newest first, as an administrator reads it. */
  readonly order?: 'newest-first' | 'oldest-first';
}

/** The row for one journal line; ids are time-ordered, so the journal reads in write order. */
export function journalRow(line: JournalInput, at: string): JournalTable {
  return {
    id: newId(),
    at,
    run_id: line.runId ?? null,
    actor: line.actor,
    user_id: line.user ?? null,
    kind: line.kind ?? null,
    firm_id: line.firmId,
    firm_contact_id: line.firmContactId ?? null,
    href: line.href,
    uid: line.uid,
    action: line.action,
    direction: line.direction,
    before: line.before === null ? null : toJson(line.before),
    after: line.after === null ? null : toJson(line.after),
    note: line.note,
    reason: null,
  };
}

/** Writes journal rows inside the caller's transaction, several rows per statement. */
export async function insertJournalRows(trx: Kysely<Tables>, rows: readonly JournalTable[]): Promise<void> {
  for (const chunk of chunks(rows)) await trx.insertInto('journal').values(chunk).execute();
}

function toRecord(row: JournalTable): JournalRecord {
  return {
    id: row.id,
    at: row.at,
    runId: row.run_id,
    actor: row.actor,
    user: row.user_id as UserId | null,
    kind: row.kind as CollectionKind | null,
    firmId: row.firm_id as FirmItemId | null,
    firmContactId: row.firm_contact_id,
    href: row.href as Href | null,
    uid: row.uid as Uid | null,
    action: row.action as JournalAction,
    direction: row.direction as Direction,
    before: fromJsonOrNull<Fields>(row.before, 'journal.before'),
    after: fromJsonOrNull<Fields>(row.after, 'journal.after'),
    note: row.note,
  };
}

/** The change journal (SPEC §1): who changed what, when, before and after. */
export class JournalRepo {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Appends lines in one transaction. */
  async append(lines: readonly JournalInput[]): Promise<void> {
    if (lines.length === 0) return;
    const at = isoAt(this.clock());
    const rows = lines.map((l) => journalRow(l, at));
    await this.database.db.transaction().execute((trx) => insertJournalRows(trx, rows));
  }

  /** Journal lines matching every given filter. */
  async list(filter: JournalFilter = {}): Promise<JournalRecord[]> {
    let q = this.database.db.selectFrom('journal').selectAll();
    if (filter.user !== undefined) q = q.where('user_id', '=', filter.user);
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    if (filter.runId !== undefined) q = q.where('run_id', '=', filter.runId);
    const rows = await q
      .orderBy('id', filter.order === 'oldest-first' ? 'asc' : 'desc')
      .limit(filter.limit ?? 1000)
      .execute();
    return rows.map(toRecord);
  }
}
