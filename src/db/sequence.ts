import type { Kysely } from 'kysely';
import type { Tables } from './schema.js';

/** The global change sequence: every write to a user or firm contact or appointment takes a value. */
const CHANGE = 'change';

/**
 * Takes `count` values of the global change sequence inside the caller's transaction and
 * returns the first; the caller uses first, first + 1, … first + count - 1.
 *
 * A counter row, not a database sequence: on PostgreSQL the row stays locked until the
 * transaction ends, so values become visible in commit order. Firm sync reads "every
 * change after N"; with a native sequence a transaction holding a smaller value could
 * commit after a reader had already moved past it, and that change would be missed.
 * Take the values late in a transaction: concurrent writers wait for the lock.
 */
export async function takeChangeSeq(trx: Kysely<Tables>, count: number): Promise<number> {
  if (count <= 0) return 0;
  // An upsert, so that the sequence needs no seed row.
  const row = await trx
    .insertInto('sequences')
    .values({ name: CHANGE, value: count })
    .onConflict((oc) => oc.column('name').doUpdateSet((eb) => ({ value: eb('sequences.value', '+', count) })))
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value) - count + 1;
}

/** The last value taken from the global change sequence (0 before any write). */
export async function currentChangeSeq(db: Kysely<Tables>): Promise<number> {
  const row = await db.selectFrom('sequences').select('value').where('name', '=', CHANGE).executeTakeFirst();
  return row === undefined ? 0 : Number(row.value);
}
