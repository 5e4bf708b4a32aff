import { LiaisonError } from '../domain/errors.js';
import type { CollectionKind, UserId } from '../domain/ids.js';
import type { HeldPlanRecord, HeldPlanStore } from '../sync/ports.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { newId } from './new-id.js';
import type { Database } from './open.js';

/** Plans held by the mass-change guard until an administrator approves or rejects them (SPEC §6). */
export class HeldPlanRepo implements HeldPlanStore {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Stores a plan in state `held`; returns its id. The login shown later is read from the user. */
  async saveHeld(rec: Omit<HeldPlanRecord, 'id' | 'createdAt' | 'state'>): Promise<string> {
    const id = newId();
    await this.database.db
      .insertInto('held_plans')
      .values({
        id,
        user_id: rec.user,
        kind: rec.kind,
        created_at: isoAt(this.clock()),
        reason: rec.reason,
        plan: rec.plan,
        state: 'held',
        resolved_at: null,
      })
      .execute();
    return id;
  }

  /** Plans, oldest first, optionally in one state. */
  async listHeld(filter: { state?: HeldPlanRecord['state'] } = {}): Promise<HeldPlanRecord[]> {
    let q = this.query();
    if (filter.state !== undefined) q = q.where('held_plans.state', '=', filter.state);
    const rows = await q.orderBy('held_plans.id').execute();
    return rows.map(toRecord);
  }

  async getHeld(id: string): Promise<HeldPlanRecord | null> {
    const row = await this.query().where('held_plans.id', '=', id).executeTakeFirst();
    return row === undefined ? null : toRecord(row);
  }

  async hasHeld(user: UserId, kind: CollectionKind): Promise<boolean> {
    const row = await this.database.db
      .selectFrom('held_plans')
      .select('id')
      .where('user_id', '=', user)
      .where('kind', '=', kind)
      .where('state', '=', 'held')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Records the administrator's decision. Throws `NotFound` for an unknown id and
   * `PreconditionFailed` when the plan was already decided (two administrators at once).
   */
  async resolveHeld(id: string, state: 'approved' | 'rejected' | 'superseded'): Promise<void> {
    const result = await this.database.db
      .updateTable('held_plans')
      .set({ state, resolved_at: isoAt(this.clock()) })
      .where('id', '=', id)
      .where('state', '=', 'held')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return;
    const current = await this.getHeld(id);
    if (current === null) throw new LiaisonError('NotFound', `No held plan ${id}`);
    throw new LiaisonError('PreconditionFailed', `Held plan ${id} was already ${current.state}`, {
      context: { user: current.login, collection: current.kind },
    });
  }

  private query() {
    return this.database.db
      .selectFrom('held_plans')
      .innerJoin('users', 'users.id', 'held_plans.user_id')
      .select([
        'held_plans.id',
        'held_plans.user_id',
        'users.login',
        'held_plans.kind',
        'held_plans.created_at',
        'held_plans.reason',
        'held_plans.plan',
        'held_plans.state',
      ]);
  }
}

function toRecord(row: {
  id: string;
  user_id: string;
  login: string;
  kind: string;
  created_at: string;
  reason: string;
  plan: string;
  state: string;
}): HeldPlanRecord {
  return {
    id: row.id,
    user: row.user_id as UserId,
    login: row.login,
    kind: row.kind as CollectionKind,
    createdAt: row.created_at,
    reason: row.reason,
    plan: row.plan,
    state: row.state as HeldPlanRecord['state'],
  };
}
