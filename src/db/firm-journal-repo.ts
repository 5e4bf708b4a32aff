/**
 * Firm sync's lines in the change journal, and the journal as firm sync's administration reads
 * it (every writer's lines, by user, firm contact or run).
 */
import type { Kysely } from 'kysely';
import type { Fields } from '../domain/fields.js';
import type { FirmContactId, FirmItemId, UserId } from '../domain/ids.js';
import type { FirmJournalLine, JournalLine } from '../firm/firm-types.js';
import type { JournalQuery } from '../firm/ports.js';
import { insertJournalRows } from './journal-repo.js';
import { fromJsonOrNull, toJson } from './json-column.js';
import { newId } from './new-id.js';
import type { JournalTable, Tables } from './schema.js';

type Db = Kysely<Tables>;

/** Writes firm sync journal lines (kind `contacts`; `firm_id` is the user contact). */
export async function insertFirmJournal(
  db: Db,
  lines: readonly FirmJournalLine[],
  actor: string,
  runId: string | null,
  at: string,
): Promise<void> {
  const rows: JournalTable[] = lines.map((l) => ({
    id: newId(),
    at,
    run_id: runId,
    actor,
    user_id: l.user,
    kind: 'contacts',
    firm_id: l.userContactId,
    firm_contact_id: l.firmContactId,
    href: null,
    uid: l.uid,
    action: l.action,
    direction: l.direction,
    before: l.before === null ? null : toJson(l.before),
    after: l.after === null ? null : toJson(l.after),
    note: l.note,
    reason: l.reason ?? null,
  }));
  await insertJournalRows(db, rows);
}

function toLine(r: JournalTable): JournalLine {
  return {
    id: r.id,
    at: r.at,
    runId: r.run_id,
    actor: r.actor,
    user: r.user_id as UserId | null,
    userContactId: r.firm_id as FirmItemId | null,
    firmContactId: r.firm_contact_id as FirmContactId | null,
    action: r.action,
    direction: r.direction,
    before: fromJsonOrNull<Fields>(r.before, 'journal.before'),
    after: fromJsonOrNull<Fields>(r.after, 'journal.after'),
    note: r.note,
    reason: r.reason,
  };
}

/** One journal line, any writer's, or null. */
export async function getJournalLine(db: Db, id: string): Promise<JournalLine | null> {
  const row = await db.selectFrom('journal').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toLine(row);
}

/** The oldest line after `entryId` about the same firm contact or user contact (indexed by each). */
export async function newerJournalLine(
  db: Db,
  entryId: string,
  about: { readonly firmContactId?: FirmContactId; readonly userContactId?: FirmItemId },
  actions: { readonly only?: readonly string[]; readonly except?: readonly string[] },
): Promise<JournalLine | null> {
  let q = db.selectFrom('journal').selectAll().where('id', '>', entryId);
  if (about.firmContactId !== undefined) q = q.where('firm_contact_id', '=', about.firmContactId);
  if (about.userContactId !== undefined) q = q.where('firm_id', '=', about.userContactId);
  if (actions.only !== undefined && actions.only.length > 0) q = q.where('action', 'in', [...actions.only]);
  if (actions.except !== undefined && actions.except.length > 0) {
    q = q.where('action', 'not in', [...actions.except]);
  }
  const row = await q.orderBy('id').limit(1).executeTakeFirst();
  return row === undefined ? null : toLine(row);
}

/** The disconnect lines written in one statement with a firm-delete line (see `insertFirmJournal`). */
export async function disconnectsOfDeletion(db: Db, deletion: JournalLine): Promise<JournalLine[]> {
  if (deletion.firmContactId === null) return [];
  const rows = await db
    .selectFrom('journal')
    .selectAll()
    .where('firm_contact_id', '=', deletion.firmContactId)
    .where('id', '<', deletion.id)
    .where('action', '=', 'disconnect')
    .where('at', '=', deletion.at)
    .where('actor', '=', deletion.actor)
    .orderBy('id')
    .execute();
  return rows.map(toLine);
}

/** Lines matching every filter, newest first. */
export async function listJournalLines(db: Db, query: JournalQuery): Promise<JournalLine[]> {
  let q = db.selectFrom('journal').selectAll();
  if (query.user !== undefined) q = q.where('user_id', '=', query.user);
  if (query.firmContactId !== undefined) q = q.where('firm_contact_id', '=', query.firmContactId);
  if (query.runId !== undefined) q = q.where('run_id', '=', query.runId);
  const rows = await q
    .orderBy('id', 'desc')
    .limit(query.limit ?? 1000)
    .execute();
  return rows.map(toLine);
}
