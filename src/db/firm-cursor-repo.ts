/** Per-user cursors of firm sync: how far each step has taken each user. */
import type { Kysely } from 'kysely';
import type { UserId } from '../domain/ids.js';
import type { FirmCursor, FirmStep } from '../firm/firm-types.js';
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
