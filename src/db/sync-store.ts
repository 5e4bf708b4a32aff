import { sql } from 'kysely';
import type { Appointment } from '../domain/appointment.js';
import type { TimeSpan } from '../domain/codec.js';
import type { Contact } from '../domain/contact.js';
import { errorMessage, LiaisonError } from '../domain/errors.js';
import type { Fields } from '../domain/fields.js';
import type { CollectionKind, Etag, FirmItemId, Href, Uid, UserId } from '../domain/ids.js';
import type {
  CollectionState,
  FirmDelta,
  FirmItem,
  FirmSyncStore,
  ItemCommit,
  StatePatch,
  StatusEntry,
} from '../sync/ports.js';
import { chunks } from './chunks.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { loadCollectionState, saveCollectionState } from './collection-state.js';
import { insertJournalRows, journalRow } from './journal-repo.js';
import { fromJson, toJson } from './json-column.js';
import type { Database } from './open.js';
import { recordQuarantine } from './quarantine-repo.js';
import type { SyncStatusTable, UserItemColumns } from './schema.js';
import { takeChangeSeq } from './sequence.js';
import { isUniqueViolation } from './sql-errors.js';
import { type NetBatch, netBatch } from './sync-batch.js';
import {
  appointmentSpec,
  changedItemColumns,
  contactSpec,
  itemDb,
  newItemRow,
  type UserItemSpec,
  withoutUnchanged,
} from './user-item-table.js';

export interface SyncStoreOptions {
  readonly clock?: Clock;
  /** Journal actor of sync writes (default `mailbox-sync`). */
  readonly actor?: string;
}

type Trx = Database['db'];

/**
 * A firm item as read, its data parsed when first asked for: a sync that lists every item
 * needs the content only of those written since they were synced (the others' fields are
 * in the status), so the rest are never parsed.
 */
function storedItem<T>(
  row: { readonly id: string; readonly data: string; readonly change_seq: string | number | bigint },
  column: string,
): FirmItem<T> {
  let parsed: T | undefined;
  return {
    id: row.id as FirmItemId,
    revision: String(row.change_seq),
    get item(): T {
      parsed ??= fromJson<T>(row.data, column);
      return parsed;
    },
  };
}

/**
 * `user_id = user`, written as an expression so that no index on user_id serves it. Beside
 * a list of ids, SQLite (which keeps no statistics here) would otherwise choose the user_id
 * index and read every item of the user, instead of looking the ids up by primary key: for
 * a user with 10,000 contacts, 5 ms instead of 0.2 ms per hundred ids.
 */
function ownedBy(user: UserId) {
  return sql<boolean>`${sql.ref('user_id')} || '' = ${user}`;
}

/**
 * The firm database as mailbox sync sees it (`FirmSyncStore`), for one kind of item.
 *
 * Sync writes do not bump the collection's change counter: the counter tells express mode
 * that the firm side changed since the last sync, and a sync's own writes are not such a
 * change. They do take values of the global change sequence, which firm sync follows.
 */
export class SqlFirmSyncStore<T extends { readonly uid: Uid }> implements FirmSyncStore<T> {
  private readonly clock: Clock;
  private readonly actor: string;

  constructor(
    private readonly database: Database,
    private readonly spec: UserItemSpec<T>,
    options: SyncStoreOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.actor = options.actor ?? 'mailbox-sync';
  }

  async listItems(user: UserId, kind: CollectionKind): Promise<FirmItem<T>[]> {
    this.checkKind(kind);
    const rows = await itemDb(this.database.db)
      .selectFrom(this.spec.table)
      .select(['id', 'data', 'change_seq'])
      .where('user_id', '=', user)
      .execute();
    return rows.map((r) => storedItem<T>(r, `${this.spec.table}.data`));
  }

  async revisionsOf(
    user: UserId,
    kind: CollectionKind,
    ids: readonly FirmItemId[],
  ): Promise<Map<FirmItemId, string>> {
    this.checkKind(kind);
    const out = new Map<FirmItemId, string>();
    for (const chunk of chunks([...ids])) {
      const rows = await itemDb(this.database.db)
        .selectFrom(this.spec.table)
        .select(['id', 'change_seq'])
        .where(ownedBy(user))
        .where('id', 'in', chunk)
        .execute();
      for (const r of rows) out.set(r.id as FirmItemId, String(r.change_seq));
    }
    return out;
  }

  async changeCounter(user: UserId, kind: CollectionKind): Promise<number> {
    this.checkKind(kind);
    const row = await this.database.db
      .selectFrom('collection_state')
      .select('change_counter')
      .where('user_id', '=', user)
      .where('kind', '=', kind)
      .executeTakeFirst();
    return row === undefined ? 0 : Number(row.change_counter);
  }

  async loadStatus(user: UserId, kind: CollectionKind): Promise<StatusEntry[]> {
    this.checkKind(kind);
    const rows = await this.database.db
      .selectFrom('sync_status')
      .selectAll()
      .where('user_id', '=', user)
      .where('kind', '=', kind)
      .execute();
    return rows.map(toStatusEntry);
  }

  async statusEtags(
    user: UserId,
    kind: CollectionKind,
    hrefs?: readonly Href[],
  ): Promise<Map<Href, Etag | null>> {
    this.checkKind(kind);
    const out = new Map<Href, Etag | null>();
    const query = this.database.db
      .selectFrom('sync_status')
      .select(['href', 'mailbox_etag'])
      .where('user_id', '=', user)
      .where('kind', '=', kind);
    for (const chunk of hrefs === undefined ? [null] : chunks([...hrefs])) {
      const rows = await (chunk === null ? query : query.where('href', 'in', chunk)).execute();
      for (const r of rows) out.set(r.href as Href, r.mailbox_etag as Etag | null);
    }
    return out;
  }

  async loadPairs(
    user: UserId,
    kind: CollectionKind,
    hrefs: readonly Href[],
  ): Promise<{ status: StatusEntry[]; items: FirmItem<T>[] }> {
    this.checkKind(kind);
    const status = await this.statusOf(user, kind, hrefs);
    return {
      status,
      items: await this.itemsOf(
        user,
        status.map((s) => s.firmId),
      ),
    };
  }

  /** The status entries of `hrefs`. */
  private async statusOf(user: UserId, kind: CollectionKind, hrefs: readonly Href[]): Promise<StatusEntry[]> {
    const status: StatusEntry[] = [];
    for (const chunk of chunks([...new Set(hrefs)])) {
      const rows = await this.database.db
        .selectFrom('sync_status')
        .selectAll()
        .where('user_id', '=', user)
        .where('kind', '=', kind)
        .where('href', 'in', chunk)
        .execute();
      status.push(...rows.map(toStatusEntry));
    }
    return status;
  }

  /** The user's firm items of `ids` that exist. */
  private async itemsOf(user: UserId, ids: readonly FirmItemId[]): Promise<FirmItem<T>[]> {
    const items: FirmItem<T>[] = [];
    for (const chunk of chunks([...ids])) {
      const rows = await itemDb(this.database.db)
        .selectFrom(this.spec.table)
        .select(['id', 'data', 'change_seq'])
        .where(ownedBy(user))
        .where('id', 'in', chunk)
        .execute();
      for (const r of rows) items.push(storedItem<T>(r, `${this.spec.table}.data`));
    }
    return items;
  }

  async loadChanged(
    user: UserId,
    kind: CollectionKind,
    hrefs: readonly Href[],
    firmChanged: boolean,
  ): Promise<FirmDelta<T>> {
    this.checkKind(kind);
    const db = this.database.db;
    const table = this.spec.table;
    // The totals the guards need come from indexes; rows without an etag or a revision
    // (rare) are found through partial indexes, not by reading every status row.
    const counts = await db
      .selectFrom('sync_status')
      .select((eb) => eb.fn.countAll<string | number>().as('entries'))
      .where('user_id', '=', user)
      .where('kind', '=', kind)
      .executeTakeFirstOrThrow();
    const noEtag = await db
      .selectFrom('sync_status')
      .select('firm_id')
      .where('user_id', '=', user)
      .where('kind', '=', kind)
      .where('mailbox_etag', 'is', null)
      .limit(1)
      .executeTakeFirst();
    const itemCount = await itemDb(db)
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('user_id', '=', user)
      .executeTakeFirstOrThrow();
    const entries = Number(counts.entries);
    const status = new Map<FirmItemId, StatusEntry>();
    for (const s of await this.statusOf(user, kind, hrefs)) status.set(s.firmId, s);
    const paired = new Set([...status.values()].map((s) => s.href));
    const newHrefs = hrefs.some((h) => !paired.has(h));
    // Pairs whose firm item was written since they were synced, or is gone: the join reads
    // only index columns, so it costs little even for a large collection. With the counter
    // unchanged only pairs of unknown revision can be stale.
    const stale = firmChanged
      ? await sql<SyncStatusTable>`
          select s.* from sync_status s
          left join ${sql.table(table)} i on i.id = s.firm_id and i.user_id = s.user_id
          where s.user_id = ${user} and s.kind = ${kind}
            and (i.id is null or s.firm_revision is null or cast(i.change_seq as text) <> s.firm_revision)`.execute(
          db,
        )
      : await sql<SyncStatusTable>`
          select * from sync_status
          where user_id = ${user} and kind = ${kind} and firm_revision is null`.execute(db);
    for (const r of stale.rows) status.set(r.firm_id as FirmItemId, toStatusEntry(r));
    // Firm items without a pair (new on the firm side, or left out of the mailbox: a new
    // mailbox item may match one), and the items of the pairs above.
    const unpaired =
      firmChanged || newHrefs
        ? (
            await sql<{ id: string }>`
              select i.id from ${sql.table(table)} i
              left join sync_status s on s.user_id = i.user_id and s.kind = ${kind} and s.firm_id = i.id
              where i.user_id = ${user} and s.firm_id is null`.execute(db)
          ).rows
        : [];
    const ids = [...new Set([...unpaired.map((r) => r.id as FirmItemId), ...status.keys()])];
    const items = await this.itemsOf(user, ids);
    return {
      status: [...status.values()],
      items,
      statusCount: entries,
      itemCount: Number(itemCount.n),
      missingEtags: noEtag !== undefined,
    };
  }

  /**
   * Applies the batch in one transaction: if any write fails, none is kept. Throws
   * `NotFound` when an update names an item that is gone, `Database` for a refused write
   * (such as two status rows claiming one href).
   */
  async commit(
    user: UserId,
    kind: CollectionKind,
    runId: string,
    batch: readonly ItemCommit<T>[],
  ): Promise<FirmItemId[]> {
    this.checkKind(kind);
    if (batch.length === 0) return [];
    const net = netBatch(batch);
    const now = isoAt(this.clock());
    try {
      await this.database.db.transaction().execute(async (trx) => {
        const revisions = await this.writeItems(trx, user, net, now);
        await this.writeStatus(trx, user, net, revisions);
        const lines = net.journal.map((entry) =>
          journalRow({ ...entry, actor: this.actor, runId, user, kind: this.spec.kind }, now),
        );
        await insertJournalRows(trx, lines);
      });
    } catch (e) {
      if (e instanceof LiaisonError) throw e;
      const why = isUniqueViolation(e) ? 'a status row would repeat an href or firm id' : errorMessage(e);
      throw new LiaisonError(
        'Database',
        `Saving ${batch.length} ${kind} changes of user ${user} failed, none was kept: ${why}`,
        { cause: e, context: { user, collection: kind } },
      );
    }
    return net.ids;
  }

  async recordQuarantine(
    user: UserId,
    kind: CollectionKind,
    examined: readonly Href[] | null,
    found: readonly { readonly href: Href; readonly reason: string }[],
  ): Promise<void> {
    this.checkKind(kind);
    await this.database.db
      .transaction()
      .execute((trx) => recordQuarantine(trx, user, kind, examined, found, isoAt(this.clock())));
  }

  async tidy(): Promise<void> {
    // PASSIVE: copies what no reader still needs, and never waits for anyone.
    if (this.database.dialect === 'sqlite')
      await sql`pragma wal_checkpoint(passive)`.execute(this.database.db);
  }

  async loadState(user: UserId, kind: CollectionKind): Promise<CollectionState> {
    this.checkKind(kind);
    return loadCollectionState(this.database.db, user, kind);
  }

  async saveState(user: UserId, kind: CollectionKind, patch: StatePatch): Promise<void> {
    this.checkKind(kind);
    await saveCollectionState(this.database.db, user, kind, patch);
  }

  /** Writes the firm items; returns the new revision (change sequence) of each item written. */
  private async writeItems(
    trx: Trx,
    user: UserId,
    net: NetBatch<T>,
    now: string,
  ): Promise<Map<FirmItemId, string>> {
    const revisions = new Map<FirmItemId, string>();
    const items = itemDb(trx);
    for (const ids of chunks([...net.deletes])) {
      await items.deleteFrom(this.spec.table).where(ownedBy(user)).where('id', 'in', ids).execute();
    }
    const writes = net.creates.length + net.updates.size;
    let seq = await takeChangeSeq(trx, writes);
    const rows = net.creates.map((c) => {
      revisions.set(c.id, String(seq));
      return newItemRow(this.spec, user, c.id, c.item, seq++, now);
    });
    for (const chunk of chunks(rows)) await items.insertInto(this.spec.table).values(chunk).execute();
    // Updates go as upserts of whole rows, one statement per set of changed columns rather
    // than one per item: building and running a statement costs more than its rows. Every
    // id was just read under the write lock, so the insert half never runs; an update that
    // would find no row fails the batch here instead.
    const stored = await this.indexedValues(trx, user, [...net.updates.keys()]);
    const groups = new Map<string, UserItemColumns[]>();
    for (const [id, item] of net.updates) {
      const before = stored.get(id);
      if (before === undefined) {
        throw new LiaisonError('NotFound', `The ${this.spec.kind} item ${id} of user ${user} is gone`, {
          context: { user, collection: this.spec.kind },
        });
      }
      revisions.set(id, String(seq));
      const changed = changedItemColumns(this.spec, item, seq++, now);
      const set = Object.keys(withoutUnchanged(changed, before)).join(',');
      const row = { id, user_id: user, created_at: now, ...changed } as UserItemColumns;
      const group = groups.get(set);
      if (group === undefined) groups.set(set, [row]);
      else group.push(row);
    }
    for (const [set, rows] of groups) {
      const columns = set.split(',') as (keyof UserItemColumns)[];
      for (const chunk of chunks(rows)) {
        await items
          .insertInto(this.spec.table)
          .values(chunk)
          .onConflict((oc) =>
            oc
              .column('id')
              .doUpdateSet((eb) =>
                Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}` as const)])),
              ),
          )
          .execute();
      }
    }
    return revisions;
  }

  /** The UID and the other indexed columns of the items `ids`, by id. */
  private async indexedValues(
    trx: Trx,
    user: UserId,
    ids: readonly FirmItemId[],
  ): Promise<Map<FirmItemId, Record<string, unknown>>> {
    const out = new Map<FirmItemId, Record<string, unknown>>();
    const columns = ['uid', ...this.spec.indexed];
    for (const chunk of chunks(ids)) {
      const rows = await itemDb(trx)
        .selectFrom(this.spec.table)
        .select(['id', ...columns.map((c) => sql.ref<unknown>(c).as(c))])
        .where(ownedBy(user))
        .where('id', 'in', chunk)
        .execute();
      for (const row of rows) {
        const { id, ...values } = row as Record<string, unknown>;
        out.set(id as FirmItemId, values);
      }
    }
    return out;
  }

  private async writeStatus(
    trx: Trx,
    user: UserId,
    net: NetBatch<T>,
    revisions: ReadonlyMap<FirmItemId, string>,
  ): Promise<void> {
    const removed: FirmItemId[] = [];
    const rows: SyncStatusTable[] = [];
    for (const [firmId, entry] of net.status) {
      if (entry === null) removed.push(firmId);
      else
        rows.push(
          this.statusRow(user, { ...entry, firmRevision: revisions.get(firmId) ?? entry.firmRevision }),
        );
    }
    // Removals first, so that an href handed from one item to another in the same batch is free.
    for (const ids of chunks(removed)) {
      await trx
        .deleteFrom('sync_status')
        .where('user_id', '=', user)
        .where('kind', '=', this.spec.kind)
        .where('firm_id', 'in', ids)
        .execute();
    }
    for (const chunk of chunks(rows)) {
      // A pair that keeps its href is updated in place, its href left out of the SET:
      // SQLite rewrites the href index entry of every row an UPDATE names it for.
      const current = await trx
        .selectFrom('sync_status')
        .select(['firm_id', 'href'])
        .where('user_id', '=', user)
        .where('kind', '=', this.spec.kind)
        .where(
          'firm_id',
          'in',
          chunk.map((r) => r.firm_id),
        )
        .execute();
      const hrefOf = new Map(current.map((r) => [r.firm_id, r.href]));
      const staying = chunk.filter((r) => hrefOf.get(r.firm_id) === r.href);
      const placed = chunk.filter((r) => hrefOf.get(r.firm_id) !== r.href);
      if (placed.length > 0) {
        // A put takes its href over from any other pair (an item re-created after a
        // delete/modify clash keeps its href but gets a new firm id).
        await trx
          .deleteFrom('sync_status')
          .where('user_id', '=', user)
          .where('kind', '=', this.spec.kind)
          .where(
            'href',
            'in',
            placed.map((r) => r.href),
          )
          .execute();
        await this.upsertStatus(trx, placed, true);
      }
      if (staying.length > 0) await this.upsertStatus(trx, staying, false);
    }
  }

  /** Inserts status rows, or updates those of their firm ids, their hrefs too when `moved`. */
  private async upsertStatus(trx: Trx, rows: readonly SyncStatusTable[], moved: boolean): Promise<void> {
    await trx
      .insertInto('sync_status')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['user_id', 'kind', 'firm_id']).doUpdateSet((eb) => ({
          ...(moved ? { href: eb.ref('excluded.href') } : {}),
          firm_hash: eb.ref('excluded.firm_hash'),
          firm_revision: eb.ref('excluded.firm_revision'),
          mailbox_etag: eb.ref('excluded.mailbox_etag'),
          mailbox_hash: eb.ref('excluded.mailbox_hash'),
          base: eb.ref('excluded.base'),
        })),
      )
      .execute();
  }

  private statusRow(user: UserId, entry: StatusEntry): SyncStatusTable {
    return {
      user_id: user,
      kind: this.spec.kind,
      firm_id: entry.firmId,
      href: entry.href,
      firm_hash: entry.firmHash,
      firm_revision: entry.firmRevision,
      mailbox_etag: entry.mailboxEtag,
      mailbox_hash: entry.mailboxHash,
      base: toJson(entry.base),
    };
  }

  private checkKind(kind: CollectionKind): void {
    if (kind !== this.spec.kind) {
      throw new LiaisonError('Usage', `This store holds ${this.spec.kind}, not ${kind}`);
    }
  }
}

function toStatusEntry(r: SyncStatusTable): StatusEntry {
  return {
    firmId: r.firm_id as FirmItemId,
    href: r.href as Href,
    firmHash: r.firm_hash,
    firmRevision: r.firm_revision,
    mailboxEtag: r.mailbox_etag as Etag | null,
    mailboxHash: r.mailbox_hash,
    base: fromJson<Fields>(r.base, 'sync_status.base'),
  };
}

/** The sync store of user contacts. */
export function contactSyncStore(
  database: Database,
  options: SyncStoreOptions = {},
): SqlFirmSyncStore<Contact> {
  return new SqlFirmSyncStore(database, contactSpec, options);
}

/** The sync store of user appointments; `span` is the codec's, for the window columns. */
export function appointmentSyncStore(
  database: Database,
  options: SyncStoreOptions & { readonly span?: (item: Appointment) => TimeSpan | null } = {},
): SqlFirmSyncStore<Appointment> {
  return new SqlFirmSyncStore(database, appointmentSpec(options.span), options);
}
