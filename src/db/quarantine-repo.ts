import type { CollectionKind, Href, UserId } from '../domain/ids.js';
import { chunks } from './chunks.js';
import type { Database } from './open.js';

/** A row of `quarantine`: one mailbox item that could not be synced. */
interface QuarantineTable {
  user_id: string;
  kind: string;
  href: string;
  reason: string;
  /** When it was first found so. */
  since: string;
}

/** An item kept out of sync, as the administrator sees it. */
export interface QuarantinedItem {
  readonly user: UserId;
  readonly kind: CollectionKind;
  readonly href: Href;
  readonly reason: string;
  readonly since: string;
}

type Db = Database['db'];

function table(db: Db) {
  return db.withTables<{ quarantine: QuarantineTable }>();
}

/**
 * Records what one run found about a user's collection. `examined` names the items the run
 * looked at (null: all of them, after a full listing): those of them not in `found` are
 * fine now, or gone, and leave the list; those in `found` are put in it (keeping when they
 * were first found). Items the run did not look at stay as they were.
 */
export async function recordQuarantine(
  db: Db,
  user: UserId,
  kind: CollectionKind,
  examined: readonly Href[] | null,
  found: readonly { readonly href: Href; readonly reason: string }[],
  now: string,
): Promise<void> {
  const q = table(db);
  const kept = new Set(found.map((f) => f.href));
  if (examined === null) {
    const listed = await q
      .selectFrom('quarantine')
      .select('href')
      .where('user_id', '=', user)
      .where('kind', '=', kind)
      .execute();
    examined = listed.map((r) => r.href as Href);
  }
  for (const part of chunks(examined.filter((h) => !kept.has(h)))) {
    await q
      .deleteFrom('quarantine')
      .where('user_id', '=', user)
      .where('kind', '=', kind)
      .where('href', 'in', part)
      .execute();
  }
  const rows = found.map((f) => ({ user_id: user, kind, href: f.href, reason: f.reason, since: now }));
  for (const part of chunks(rows)) {
    await q
      .insertInto('quarantine')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['user_id', 'kind', 'href']).doUpdateSet((eb) => ({ reason: eb.ref('excluded.reason') })),
      )
      .execute();
  }
}

/** Items kept out of sync, of the given users (all when absent), oldest first. */
export async function listQuarantine(db: Db, users?: readonly UserId[]): Promise<QuarantinedItem[]> {
  let query = table(db).selectFrom('quarantine').selectAll().orderBy('since').orderBy('href');
  if (users !== undefined) {
    if (users.length === 0) return [];
    query = query.where('user_id', 'in', [...users]);
  }
  return (await query.execute()).map((r) => ({
    user: r.user_id as UserId,
    kind: r.kind as CollectionKind,
    href: r.href as Href,
    reason: r.reason,
    since: r.since,
  }));
}

/** The items kept out of sync, for the administrator (`liaison status`). */
export class QuarantineRepo {
  constructor(private readonly database: Database) {}

  list(users?: readonly UserId[]): Promise<QuarantinedItem[]> {
    return listQuarantine(this.database.db, users);
  }
}
