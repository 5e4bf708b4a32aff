import { LiaisonError } from '../domain/errors.js';
import { canonicalJson, type Fields } from '../domain/fields.js';
import type { FirmItemId, Uid, UserId } from '../domain/ids.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { insertJournalRows, type JournalInput, journalRow } from './journal-repo.js';
import { fromJson } from './json-column.js';
import { newId } from './new-id.js';
import type { Database } from './open.js';
import type { UserItemColumns } from './schema.js';
import { takeChangeSeq } from './sequence.js';
import { isForeignKeyViolation } from './sql-errors.js';
import {
  bumpChangeCounter,
  changedItemColumns,
  itemDb,
  itemFields,
  newItemRow,
  type UserItemSpec,
} from './user-item-table.js';

/** A user contact or user appointment with its bookkeeping. */
export interface UserItemRecord<T> {
  readonly id: FirmItemId;
  readonly user: UserId;
  readonly item: T;
  readonly private: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Global change sequence value of the last write. */
  readonly changeSeq: number;
}

/** Who makes an edit, for the journal. */
export interface EditOptions {
  /** Default `cli`. */
  readonly actor?: string;
  readonly runId?: string | null;
}

/** A field patch: any top-level field but the UID. */
export type ItemPatch<T> = Partial<Omit<T, 'uid'>>;

/** Reads a row of either item table. */
export function toItemRecord<T>(row: UserItemColumns, table: string): UserItemRecord<T> {
  return {
    id: row.id as FirmItemId,
    user: row.user_id as UserId,
    item: fromJson<T>(row.data, `${table}.data`),
    private: row.private === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    changeSeq: Number(row.change_seq),
  };
}

/**
 * A user's items as the CRM user (or the CLI) edits them. Every edit, in one transaction,
 * writes the row with a new global change sequence value, bumps the collection's change
 * counter (so express mailbox sync notices it) and writes a journal line.
 */
export class UserItemRepo<T extends { readonly uid: Uid }> {
  constructor(
    protected readonly database: Database,
    protected readonly spec: UserItemSpec<T>,
    protected readonly clock: Clock = systemClock,
  ) {}

  /** Every item of the user, oldest first. */
  async list(user: UserId): Promise<UserItemRecord<T>[]> {
    const rows = await itemDb(this.database.db)
      .selectFrom(this.spec.table)
      .selectAll()
      .where('user_id', '=', user)
      .orderBy('id')
      .execute();
    return rows.map((r) => toItemRecord<T>(r, this.spec.table));
  }

  /** One item, or null. */
  async get(id: FirmItemId): Promise<UserItemRecord<T> | null> {
    const row = await itemDb(this.database.db)
      .selectFrom(this.spec.table)
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? null : toItemRecord<T>(row, this.spec.table);
  }

  /**
   * Adds an item to the user's collection. Throws `AlreadyExists` when the user already
   * has an item with that UID, `NotFound` when the user does not exist.
   */
  async add(user: UserId, item: T, options: EditOptions = {}): Promise<FirmItemId> {
    const id = newId() as FirmItemId;
    const now = isoAt(this.clock());
    try {
      await this.database.db.transaction().execute(async (trx) => {
        // Checked here rather than by a unique index (see the migration). On PostgreSQL two
        // simultaneous adds of one UID could both pass; the planner reports such duplicates.
        const same = await itemDb(trx)
          .selectFrom(this.spec.table)
          .select('id')
          .where('user_id', '=', user)
          .where('uid', '=', item.uid)
          .executeTakeFirst();
        if (same !== undefined) {
          throw new LiaisonError(
            'AlreadyExists',
            `User ${user} already has a ${this.spec.kind} item with UID ${item.uid}`,
            {
              context: { user, collection: this.spec.kind },
            },
          );
        }
        const seq = await takeChangeSeq(trx, 1);
        await itemDb(trx)
          .insertInto(this.spec.table)
          .values(newItemRow(this.spec, user, id, item, seq, now))
          .execute();
        await bumpChangeCounter(trx, user, this.spec.kind);
        await insertJournalRows(trx, [
          journalRow(this.line(user, id, item, 'create', null, itemFields(item), options), now),
        ]);
      });
    } catch (e) {
      if (isForeignKeyViolation(e)) {
        throw new LiaisonError('NotFound', `No user with id ${user}`, { cause: e, context: { user } });
      }
      throw e;
    }
    return id;
  }

  /**
   * Changes some fields of an item and returns it as stored. An edit that changes nothing
   * writes nothing, so that it does not trigger a sync. Throws `NotFound` for an unknown id.
   */
  async edit(id: FirmItemId, patch: ItemPatch<T>, options: EditOptions = {}): Promise<T> {
    const now = isoAt(this.clock());
    return this.database.db.transaction().execute(async (trx) => {
      const before = await this.load(trx, id);
      const item = { ...before.item, ...patch, uid: before.item.uid } as T;
      if (canonicalJson(item) === canonicalJson(before.item)) return before.item;
      const seq = await takeChangeSeq(trx, 1);
      await itemDb(trx)
        .updateTable(this.spec.table)
        .set(changedItemColumns(this.spec, item, seq, now))
        .where('id', '=', id)
        .execute();
      await bumpChangeCounter(trx, before.user, this.spec.kind);
      const line = this.line(
        before.user,
        id,
        item,
        'update',
        itemFields(before.item),
        itemFields(item),
        options,
      );
      await insertJournalRows(trx, [journalRow(line, now)]);
      return item;
    });
  }

  /** Deletes an item; the next mailbox sync deletes it from the mailbox. Throws `NotFound` for an unknown id. */
  async delete(id: FirmItemId, options: EditOptions = {}): Promise<void> {
    const now = isoAt(this.clock());
    await this.database.db.transaction().execute(async (trx) => {
      const before = await this.load(trx, id);
      await itemDb(trx).deleteFrom(this.spec.table).where('id', '=', id).execute();
      await bumpChangeCounter(trx, before.user, this.spec.kind);
      await insertJournalRows(trx, [
        journalRow(
          this.line(before.user, id, before.item, 'delete', itemFields(before.item), null, options),
          now,
        ),
      ]);
    });
  }

  private async load(trx: Database['db'], id: FirmItemId): Promise<UserItemRecord<T>> {
    const row = await itemDb(trx)
      .selectFrom(this.spec.table)
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (row === undefined) {
      throw new LiaisonError('NotFound', `No ${this.spec.kind} item with id ${id}`, {
        context: { collection: this.spec.kind },
      });
    }
    return toItemRecord<T>(row, this.spec.table);
  }

  private line(
    user: UserId,
    id: FirmItemId,
    item: T,
    action: 'create' | 'update' | 'delete',
    before: Fields | null,
    after: Fields | null,
    options: EditOptions,
  ): JournalInput {
    return {
      actor: options.actor ?? 'cli',
      runId: options.runId ?? null,
      user,
      kind: this.spec.kind,
      action,
      direction: 'none',
      firmId: id,
      href: null,
      uid: item.uid,
      before,
      after,
      note: '',
    };
  }
}
