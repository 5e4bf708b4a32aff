import type { Kysely, Selectable, Updateable } from 'kysely';
import type { CollectionKind, SyncToken, UserId } from '../domain/ids.js';
import type { CollectionState, StatePatch } from '../sync/ports.js';
import type { CollectionStateTable, Tables } from './schema.js';

/** The state of a collection that was never synced. */
export const INITIAL_STATE: CollectionState = {
  lastSync: null,
  pendingSync: null,
  outOfSync: false,
  outOfSyncReason: null,
  probe: null,
  token: null,
  firmCounter: 0,
  lastChanges: null,
  lastFailed: false,
};

/** Reads a state row (the change counter is read separately: see `FirmSyncStore.changeCounter`). */
export function toCollectionState(row: Selectable<CollectionStateTable>): CollectionState {
  return {
    lastSync: row.last_sync,
    pendingSync: row.pending_sync,
    outOfSync: row.out_of_sync === 1,
    outOfSyncReason: row.out_of_sync_reason,
    probe: row.probe,
    token: row.token as SyncToken | null,
    firmCounter: Number(row.firm_counter),
    lastChanges: row.last_changes === null ? null : Number(row.last_changes),
    lastFailed: row.last_failure_at !== null,
  };
}

/** The user's state of one collection, or the initial state when it has none yet. */
export async function loadCollectionState(
  db: Kysely<Tables>,
  user: UserId,
  kind: CollectionKind,
): Promise<CollectionState> {
  const row = await db
    .selectFrom('collection_state')
    .selectAll()
    .where('user_id', '=', user)
    .where('kind', '=', kind)
    .executeTakeFirst();
  return row === undefined ? INITIAL_STATE : toCollectionState(row);
}

/** Writes the given fields of a collection's state, creating the row with defaults when missing. */
export async function saveCollectionState(
  db: Kysely<Tables>,
  user: UserId,
  kind: CollectionKind,
  patch: StatePatch,
): Promise<void> {
  const set: Updateable<CollectionStateTable> = {};
  if (patch.lastSync !== undefined) set.last_sync = patch.lastSync;
  if (patch.pendingSync !== undefined) set.pending_sync = patch.pendingSync;
  if (patch.outOfSync !== undefined) set.out_of_sync = patch.outOfSync ? 1 : 0;
  if (patch.outOfSyncReason !== undefined) set.out_of_sync_reason = patch.outOfSyncReason;
  if (patch.probe !== undefined) set.probe = patch.probe;
  if (patch.token !== undefined) set.token = patch.token;
  if (patch.firmCounter !== undefined) set.firm_counter = patch.firmCounter;
  if (patch.lastChanges !== undefined) set.last_changes = patch.lastChanges;
  const insert = db.insertInto('collection_state').values({ user_id: user, kind, ...set });
  if (Object.keys(set).length === 0) {
    await insert.onConflict((oc) => oc.columns(['user_id', 'kind']).doNothing()).execute();
  } else {
    await insert.onConflict((oc) => oc.columns(['user_id', 'kind']).doUpdateSet(set)).execute();
  }
}
