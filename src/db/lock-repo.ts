import type { UserId } from '../domain/ids.js';
import { type Clock, systemClock } from './clock.js';
import type { Database } from './open.js';

/**
 * Per-user leases (SPEC §7: firm sync skips a user whose list is being synced with the
 * mailbox). A lease, not a session lock: a worker that dies frees the user when its lease
 * runs out, and a long sync renews it. Times come from the workers' clocks, so leases
 * should be long compared with their clock skew.
 */
export class LockRepo {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Takes the user's lease for `leaseMs` when it is free, expired or already `holder`'s.
   * One statement (an upsert whose update only happens when the lease may be taken), so
   * two workers racing for a user cannot both win, on SQLite or PostgreSQL.
   */
  async tryAcquire(user: UserId, holder: string, leaseMs: number): Promise<boolean> {
    const now = this.clock();
    const row = await this.database.db
      .insertInto('user_locks')
      .values({ user_id: user, holder, expires_at: now + leaseMs })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet((eb) => ({
            holder: eb.ref('excluded.holder'),
            expires_at: eb.ref('excluded.expires_at'),
          }))
          .where((eb) =>
            eb.or([eb('user_locks.expires_at', '<=', now), eb('user_locks.holder', '=', holder)]),
          ),
      )
      .returning('user_id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Extends `holder`'s lease; false when it is no longer theirs (expired and taken over). */
  async renew(user: UserId, holder: string, leaseMs: number): Promise<boolean> {
    const result = await this.database.db
      .updateTable('user_locks')
      .set({ expires_at: this.clock() + leaseMs })
      .where('user_id', '=', user)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Gives the lease up; does nothing when `holder` does not hold it. */
  async release(user: UserId, holder: string): Promise<void> {
    await this.database.db
      .deleteFrom('user_locks')
      .where('user_id', '=', user)
      .where('holder', '=', holder)
      .execute();
  }

  /** Every lease held now: user → holder and when it runs out (epoch milliseconds). */
  async live(): Promise<Map<UserId, { holder: string; expiresAt: number }>> {
    const rows = await this.database.db
      .selectFrom('user_locks')
      .selectAll()
      .where('expires_at', '>', this.clock())
      .execute();
    return new Map(
      rows.map((r) => [r.user_id as UserId, { holder: r.holder, expiresAt: Number(r.expires_at) }]),
    );
  }

  /** Who holds the user's lease now, or null. */
  async holder(user: UserId): Promise<string | null> {
    const row = await this.database.db
      .selectFrom('user_locks')
      .select('holder')
      .where('user_id', '=', user)
      .where('expires_at', '>', this.clock())
      .executeTakeFirst();
    return row?.holder ?? null;
  }
}
