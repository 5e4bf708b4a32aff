/** Held firm updates and held new contacts. */
import type { Kysely } from 'kysely';
import type { Fields } from '../domain/fields.js';
import type { FirmContactId, FirmItemId, UserId } from '../domain/ids.js';
import type { FirmReview, NewReview, ReviewKind, ReviewState } from '../firm/firm-types.js';
import { chunks } from './chunks.js';
import { fromJson, toJson } from './json-column.js';
import { newId } from './new-id.js';
import type { FirmReviewTable, Tables } from './schema.js';

type Db = Kysely<Tables>;

function query(db: Db) {
  return db
    .selectFrom('firm_reviews as r')
    .innerJoin('users', 'users.id', 'r.user_id')
    .selectAll('r')
    .select('users.login');
}

function toReview(row: FirmReviewTable & { login: string }): FirmReview {
  return {
    id: row.id,
    user: row.user_id as UserId,
    login: row.login,
    kind: row.kind as ReviewKind,
    userContactId: row.user_contact_id as FirmItemId,
    firmContactId: row.firm_contact_id as FirmContactId | null,
    firmSeq: row.firm_seq === null ? null : Number(row.firm_seq),
    proposed: fromJson<Fields>(row.proposed, 'firm_reviews.proposed'),
    current: fromJson<Fields>(row.current, 'firm_reviews.current'),
    state: row.state as ReviewState,
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
  };
}

/** Stores reviews as held; returns their ids in order. */
export async function addReviews(db: Db, reviews: readonly NewReview[], now: string): Promise<string[]> {
  const rows: FirmReviewTable[] = reviews.map((r) => ({
    id: newId(),
    user_id: r.user,
    kind: r.kind,
    user_contact_id: r.userContactId,
    firm_contact_id: r.firmContactId,
    firm_seq: r.firmSeq,
    proposed: toJson(r.proposed),
    current: toJson(r.current),
    state: 'held',
    created_at: now,
    resolved_at: null,
  }));
  for (const part of chunks(rows, 300)) await db.insertInto('firm_reviews').values(part).execute();
  return rows.map((r) => r.id);
}

/** Resolves held reviews, stamping the time; one already resolved keeps its state. Returns how many were held. */
export async function resolveReviews(
  db: Db,
  ids: readonly string[],
  state: Exclude<ReviewState, 'held'>,
  now: string,
): Promise<number> {
  let resolved = 0;
  for (const part of chunks([...new Set(ids)])) {
    const result = await db
      .updateTable('firm_reviews')
      .set({ state, resolved_at: now })
      .where('id', 'in', part)
      .where('state', '=', 'held')
      .executeTakeFirst();
    resolved += Number(result.numUpdatedRows);
  }
  return resolved;
}

/** Every review of these user contacts, any state, oldest first. */
export async function reviewsOf(db: Db, userContacts: readonly FirmItemId[]): Promise<FirmReview[]> {
  const out: FirmReview[] = [];
  for (const part of chunks([...new Set(userContacts)])) {
    out.push(
      ...(await query(db).where('r.user_contact_id', 'in', part).orderBy('r.id').execute()).map(toReview),
    );
  }
  return out;
}

/** One review with its user's login, or null. */
export async function getReview(db: Db, id: string): Promise<FirmReview | null> {
  const row = await query(db).where('r.id', '=', id).executeTakeFirst();
  return row === undefined ? null : toReview(row);
}

/** Reviews, oldest first. */
export async function listReviews(
  db: Db,
  filter: { readonly state?: ReviewState; readonly user?: UserId },
): Promise<FirmReview[]> {
  let q = query(db);
  if (filter.state !== undefined) q = q.where('r.state', '=', filter.state);
  if (filter.user !== undefined) q = q.where('r.user_id', '=', filter.user);
  return (await q.orderBy('r.id').execute()).map(toReview);
}
