/** Per-user cursors of firm sync: how far each step has taken each user. */
import type { Kysely } from 'kysely';
import type { UserId } from '../domain/ids.js';
import type { FirmCursor, FirmStep, SeqRange } from '../firm/firm-types.js';
import { chunks } from './chunks.js';
import type { Tables } from './schema.js';

type Db = Kysely<Tables>;

/** Every given user's cursors; a user that was never taken reads as 0, 0. */
export async function readCursors(db: Db, users: readonly UserId[]): Promise<Map<UserId, FirmCursor>> {
  const out = new Map<UserId, FirmCursor>();
  for (const part of chunks([...new Set(users)])) {
    const rows = await db.selectFrom('firm_sync_cursors').selectAll().where('user_id', 'in', part).execute();
    for (const r of rows) out.set(r.user_id as UserId, { up: Number(r.up_seq), down: Number(r.down_seq) });
  }
  return out;
}

/**
 * Raises the cursor of `step` to `seq` for each user; never lowers one, so that two runs
 * finishing in either order leave the higher value.
 */
export async function raiseCursors(
  db: Db,
  users: readonly UserId[],
  step: FirmStep,
  seq: number,
): Promise<void> {
  const column = step === 'up' ? 'up_seq' : 'down_seq';
  for (const part of chunks([...new Set(users)])) {
    await db
      .insertInto('firm_sync_cursors')
      .values(part.map((user_id) => ({ user_id, up_seq: 0, down_seq: 0, [column]: seq })))
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({ [column]: seq })
          .where(`firm_sync_cursors.${column}`, '<', seq),
      )
      .execute();
  }
}

/**
 * Raises the up cursor of each of `users` to `written.last` unless one of their user contacts
 * was written after the cursor and before `written.first`. Run in the transaction that took
 * `written`: it holds the change sequence row, so every value below `written.first` is committed
 * and visible to this statement (db/sequence.ts), and no other write falls inside `written`.
 */
export async function passUpCursors(db: Db, users: readonly UserId[], written: SeqRange): Promise<void> {
  for (const part of chunks([...new Set(users)])) {
    await db
      .updateTable('firm_sync_cursors')
      .set({ up_seq: written.last })
      .where('user_id', 'in', part)
      .where('up_seq', '<', written.last)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('user_contacts as u')
              .select('u.id')
              .whereRef('u.user_id', '=', 'firm_sync_cursors.user_id')
              .whereRef('u.change_seq', '>', 'firm_sync_cursors.up_seq')
              .where('u.change_seq', '<', written.first),
          ),
        ),
      )
      .execute();
  }
}
