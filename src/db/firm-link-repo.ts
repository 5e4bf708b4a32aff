/**
 * User contacts as firm sync sees them: their link to a firm contact (firm_contact_id, the base
 * of the three-way comparison, the detached flag), the scans of both steps, and the rewrite of
 * a user contact by the down step, which goes the way of a CRM edit (new change sequence value,
 * collection change counter bumped) so that the next mailbox sync carries it out.
 */
import { type Kysely, sql } from 'kysely';
import type { Contact } from '../domain/contact.js';
import { LiaisonError } from '../domain/errors.js';
import type { Fields } from '../domain/fields.js';
import type { FirmContactId, FirmItemId, UserId } from '../domain/ids.js';
import type {
  BaseWrite,
  DownRow,
  LinkWrite,
  SeqRange,
  UserContactLink,
  UserContactWrite,
} from '../firm/firm-types.js';
import { chunks } from './chunks.js';
import { toFirmContact } from './firm-contact-repo.js';
import { fromJson, fromJsonOrNull, toJson } from './json-column.js';
import { type ContactMatchColumns, contactMatchColumns } from './match-columns.js';
import type { Tables } from './schema.js';
import { takeChangeSeq } from './sequence.js';
import { bumpChangeCounter } from './user-item-table.js';

type Db = Kysely<Tables>;

const LINK_COLUMNS = [
  'u.id',
  'u.user_id',
  'u.data',
  'u.change_seq',
  'u.firm_contact_id',
  'u.firm_base',
  'u.firm_detached',
] as const;

interface LinkRow {
  id: string;
  user_id: string;
  data: string;
  change_seq: number;
  firm_contact_id: string | null;
  firm_base: string | null;
  firm_detached: number;
}

function toLink(r: LinkRow): UserContactLink {
  return {
    id: r.id as FirmItemId,
    user: r.user_id as UserId,
    contact: fromJson<Contact>(r.data, 'user_contacts.data'),
    changeSeq: Number(r.change_seq),
    firmContactId: r.firm_contact_id as FirmContactId | null,
    base: fromJsonOrNull<Fields>(r.firm_base, 'user_contacts.firm_base'),
    detached: Number(r.firm_detached) === 1,
  };
}

/** The user's contacts written in (afterSeq, uptoSeq], by change_seq (index user_id, change_seq). */
export async function changedUserContacts(
  db: Db,
  user: UserId,
  afterSeq: number,
  uptoSeq: number,
  limit: number,
): Promise<UserContactLink[]> {
  const rows = await db
    .selectFrom('user_contacts as u')
    .select(LINK_COLUMNS)
    .where('u.user_id', '=', user)
    .where('u.change_seq', '>', afterSeq)
    .where('u.change_seq', '<=', uptoSeq)
    .orderBy('u.change_seq')
    .limit(limit)
    .execute();
  return rows.map(toLink);
}

/** These user contacts (those that exist) with their links. */
export async function readUserContacts(db: Db, ids: readonly FirmItemId[]): Promise<UserContactLink[]> {
  const out: UserContactLink[] = [];
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db
      .selectFrom('user_contacts as u')
      .select(LINK_COLUMNS)
      .where('u.id', 'in', part)
      .execute();
    out.push(...rows.map(toLink));
  }
  return out;
}

/** The user contacts connected to a firm contact. */
export async function userContactsOf(db: Db, firm: FirmContactId): Promise<UserContactLink[]> {
  const rows = await db
    .selectFrom('user_contacts as u')
    .select(LINK_COLUMNS)
    .where('u.firm_contact_id', '=', firm)
    .orderBy('u.id')
    .execute();
  return rows.map(toLink);
}

function downQuery(db: Db, users: UserId | readonly UserId[]) {
  return db
    .selectFrom('user_contacts as u')
    .innerJoin('firm_contacts as f', 'f.id', 'u.firm_contact_id')
    .select(LINK_COLUMNS)
    .select([
      'f.id as f_id',
      'f.data as f_data',
      'f.provenance as f_provenance',
      'f.email_norm as f_email_norm',
      'f.name_norm as f_name_norm',
      'f.org_norm as f_org_norm',
      'f.name_key as f_name_key',
      'f.possible_duplicate as f_possible_duplicate',
      'f.duplicate_candidates as f_duplicate_candidates',
      'f.created_at as f_created_at',
      'f.updated_at as f_updated_at',
      'f.seq as f_seq',
    ])
    .where('u.user_id', 'in', typeof users === 'string' ? [users] : [...new Set(users)]);
}

type DownQueryRow = Awaited<ReturnType<ReturnType<typeof downQuery>['execute']>>[number];

function toDownRow(r: DownQueryRow): DownRow {
  return {
    userContact: toLink(r),
    firm: toFirmContact({
      id: r.f_id,
      data: r.f_data,
      provenance: r.f_provenance,
      email_norm: r.f_email_norm,
      name_norm: r.f_name_norm,
      org_norm: r.f_org_norm,
      name_key: r.f_name_key,
      possible_duplicate: r.f_possible_duplicate,
      duplicate_candidates: r.f_duplicate_candidates,
      created_at: r.f_created_at,
      updated_at: r.f_updated_at,
      seq: r.f_seq,
    }),
  };
}

/** The user's connected contacts whose firm contact changed in (after.seq, uptoSeq], keyset-paged. */
export async function downRowsAfter(
  db: Db,
  user: UserId,
  after: { readonly seq: number; readonly userContactId: string },
  uptoSeq: number,
  limit: number,
): Promise<DownRow[]> {
  const rows = await downQuery(db, user)
    .where((eb) =>
      eb.or([
        eb('f.seq', '>', after.seq),
        eb.and([eb('f.seq', '=', after.seq), eb('u.id', '>', after.userContactId)]),
      ]),
    )
    .where('f.seq', '<=', uptoSeq)
    .orderBy('f.seq')
    .orderBy('u.id')
    .limit(limit)
    .execute();
  return rows.map(toDownRow);
}

/** These user contacts of the users that are connected, with their firm contacts. */
export async function downRowsOf(
  db: Db,
  users: readonly UserId[],
  ids: readonly FirmItemId[],
): Promise<DownRow[]> {
  const out: DownRow[] = [];
  if (users.length === 0) return out;
  for (const part of chunks([...new Set(ids)])) {
    const rows = await downQuery(db, users).where('u.id', 'in', part).orderBy('u.id').execute();
    out.push(...rows.map(toDownRow));
  }
  return out;
}

/**
 * Those of `users` with a user contact written after their up cursor (0 without one) and no
 * later than `uptoSeq`: an EXISTS probe of the (user_id, change_seq) index per user, so that a
 * user whose cursor lags far behind costs no more than one that is current.
 */
export function usersWithChanges(db: Db, users: readonly UserId[], uptoSeq: number): Promise<Set<UserId>> {
  return usersWithManyChanges(db, users, uptoSeq, 0);
}

/**
 * Those of `users` with more than `few` user contacts written after their up cursor and no later
 * than `uptoSeq`: an EXISTS probe past the first `few` entries of the (user_id, change_seq) index.
 */
export async function usersWithManyChanges(
  db: Db,
  users: readonly UserId[],
  uptoSeq: number,
  few: number,
): Promise<Set<UserId>> {
  const out = new Set<UserId>();
  for (const part of chunks([...new Set(users)])) {
    const rows = await db
      .selectFrom('users as s')
      .leftJoin('firm_sync_cursors as c', 'c.user_id', 's.id')
      .select('s.id')
      .where('s.id', 'in', part)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('user_contacts as u')
            .select('u.id')
            .whereRef('u.user_id', '=', 's.id')
            .where('u.change_seq', '>', eb.fn.coalesce('c.up_seq', eb.lit(0)))
            .where('u.change_seq', '<=', uptoSeq)
            .orderBy('u.change_seq')
            .limit(1)
            .offset(few),
        ),
      )
      .execute();
    for (const r of rows) out.add(r.id as UserId);
  }
  return out;
}

/** The user contacts connected to these firm contacts (index on firm_contact_id). */
export async function linksOf(
  db: Db,
  firmIds: readonly FirmContactId[],
): Promise<{ id: FirmItemId; user: UserId; firmContactId: FirmContactId }[]> {
  const out: { id: FirmItemId; user: UserId; firmContactId: FirmContactId }[] = [];
  for (const part of chunks([...new Set(firmIds)])) {
    const rows = await db
      .selectFrom('user_contacts')
      .select(['id', 'user_id', 'firm_contact_id'])
      .where('firm_contact_id', 'in', part)
      .execute();
    for (const r of rows) {
      out.push({
        id: r.id as FirmItemId,
        user: r.user_id as UserId,
        firmContactId: r.firm_contact_id as FirmContactId,
      });
    }
  }
  return out;
}

/**
 * Sets links; does not count as an edit of the contact (no change sequence value, no counter).
 * One statement per 300 links (UPDATE … FROM VALUES); the last write of a contact wins.
 */
export async function writeLinks(db: Db, links: readonly LinkWrite[]): Promise<void> {
  const last = new Map(links.map((l) => [l.userContactId, l]));
  for (const part of chunks([...last.values()], 300)) {
    const rows = part.map(
      (l) =>
        sql`(${l.userContactId}, ${l.firmContactId}, ${l.base === null ? null : toJson(l.base)}, cast(${l.detached ? 1 : 0} as integer))`,
    );
    await sql`update user_contacts set
        firm_contact_id = v.column2, firm_base = v.column3, firm_detached = v.column4
      from (values ${sql.join(rows)}) as v
      where user_contacts.id = v.column1`.execute(db);
  }
}

/**
 * New bases; a contact whose link changed since it was read is left alone. One statement per
 * 300 bases, as `writeLinks`.
 */
export async function writeBases(db: Db, bases: readonly BaseWrite[]): Promise<void> {
  // Two bases of one contact for one firm contact: the later wins, as one statement each would.
  const last = new Map(bases.map((b) => [`${b.userContactId}\n${b.firmContactId}`, b]));
  for (const part of chunks([...last.values()], 300)) {
    const rows = part.map((b) => sql`(${b.userContactId}, ${b.firmContactId}, ${toJson(b.base)})`);
    await sql`update user_contacts set firm_base = v.column3
      from (values ${sql.join(rows)}) as v
      where user_contacts.id = v.column1 and user_contacts.firm_contact_id = v.column2`.execute(db);
  }
}

/**
 * Rewrites user contacts the way a CRM edit does: new change sequence values, the collection's
 * change counter bumped. Each must still be as read (same change_seq, same link), else
 * `PreconditionFailed` and the caller's transaction keeps nothing. One statement per 200
 * contacts (UPDATE … FROM VALUES, on both dialects): the change sequence row stays locked from
 * the moment its values are taken until commit, so the fewer round trips after, the better.
 *
 * Only the columns that can change are set: an indexed column named in an UPDATE has its index
 * entry rewritten even when its value stays, and at the scale of a firm those index pages are
 * most of a down step's cost. The UID and private flag never change here; the match columns
 * only with the names, organization or first address.
 */
export async function writeUserContacts(
  db: Db,
  writes: readonly UserContactWrite[],
  now: string,
): Promise<SeqRange | null> {
  if (writes.length === 0) return null;
  const first = await takeChangeSeq(db, writes.length);
  let seq = first;
  const rows = writes.map((w) => {
    const keys = contactMatchColumns(w.contact);
    const before = contactMatchColumns(w.read);
    const same =
      keys.email_norm === before.email_norm &&
      keys.name_norm === before.name_norm &&
      keys.org_norm === before.org_norm;
    return { w, keys: same ? null : keys, seq: seq++ };
  });
  for (const part of chunks(
    rows.filter((r) => r.keys === null),
    200,
  )) {
    await updateUserContacts(db, part, now, false);
  }
  for (const part of chunks(
    rows.filter((r) => r.keys !== null),
    200,
  )) {
    await updateUserContacts(db, part, now, true);
  }
  for (const user of new Set(writes.map((w) => w.user))) await bumpChangeCounter(db, user, 'contacts');
  return { first, last: first + writes.length - 1 };
}

async function updateUserContacts(
  db: Db,
  part: readonly { w: UserContactWrite; keys: ContactMatchColumns | null; seq: number }[],
  now: string,
  withKeys: boolean,
): Promise<void> {
  if (part.length === 0) return;
  const values = part.map(({ w, keys, seq }) => {
    const base = w.base === null ? null : toJson(w.base);
    // Casts give PostgreSQL the types of the VALUES columns (their parameters are untyped).
    const head = sql`${w.id}, cast(${w.expectedSeq} as bigint), ${w.firmContactId}, ${toJson(w.contact)}, ${now}, cast(${seq} as bigint), ${base}`;
    return keys === null
      ? sql`(${head})`
      : sql`(${head}, ${keys.email_norm}, ${keys.name_norm}, ${keys.org_norm})`;
  });
  // VALUES columns are named column1, column2, … on both dialects.
  const set = withKeys
    ? sql`data = v.column4, updated_at = v.column5, change_seq = v.column6, firm_base = v.column7,
        email_norm = v.column8, name_norm = v.column9, org_norm = v.column10`
    : sql`data = v.column4, updated_at = v.column5, change_seq = v.column6, firm_base = v.column7`;
  const result = await sql`update user_contacts set ${set}
    from (values ${sql.join(values)}) as v
    where user_contacts.id = v.column1 and user_contacts.change_seq = v.column2
      and user_contacts.firm_contact_id is not distinct from v.column3`.execute(db);
  if (Number(result.numAffectedRows ?? 0) !== part.length) {
    const ids = part.map((r) => r.w.id).join(', ');
    throw new LiaisonError(
      'PreconditionFailed',
      `a user contact among ${ids} changed while firm sync wrote it`,
      {
        context: { user: part[0]!.w.user, collection: 'contacts' },
      },
    );
  }
}

/** New change sequence values for these user contacts; their content and links stay. */
export async function touchUserContacts(db: Db, ids: readonly FirmItemId[]): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  let seq = await takeChangeSeq(db, unique.length);
  for (const id of unique) {
    await db.updateTable('user_contacts').set({ change_seq: seq++ }).where('id', '=', id).execute();
  }
}
