/**
 * Firm contacts and the lookup table of their e-mail addresses. Functions over a query handle
 * (the database or a transaction), so that firm sync composes them in one transaction.
 */
import { type Kysely, sql } from 'kysely';
import { LiaisonError } from '../domain/errors.js';
import type { Fields } from '../domain/fields.js';
import type { FirmContactId } from '../domain/ids.js';
import type { FirmContact, FirmContactWrite, Provenance } from '../firm/firm-types.js';
import type { FirmContactSummary } from '../firm/ports.js';
import { chunks } from './chunks.js';
import { fromJson, toJson } from './json-column.js';
import type { FirmContactTable, Tables } from './schema.js';
import { takeChangeSeq } from './sequence.js';

type Db = Kysely<Tables>;

/** Reads a firm contact row. */
export function toFirmContact(row: FirmContactTable): FirmContact {
  return {
    id: row.id as FirmContactId,
    fields: fromJson<Fields>(row.data, 'firm_contacts.data'),
    provenance: fromJson<Provenance>(row.provenance, 'firm_contacts.provenance'),
    seq: Number(row.seq),
    possibleDuplicate: row.possible_duplicate === 1,
    candidates: fromJson<FirmContactId[]>(row.duplicate_candidates, 'firm_contacts.duplicate_candidates'),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** These firm contacts (those that exist), by id. */
export async function readFirmContacts(
  db: Db,
  ids: readonly FirmContactId[],
): Promise<Map<FirmContactId, FirmContact>> {
  const out = new Map<FirmContactId, FirmContact>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await db.selectFrom('firm_contacts').selectAll().where('id', 'in', part).execute();
    for (const r of rows) out.set(r.id as FirmContactId, toFirmContact(r));
  }
  return out;
}

function group(rows: readonly { key: string; id: string }[]): Map<string, FirmContactId[]> {
  const out = new Map<string, FirmContactId[]>();
  for (const r of rows) {
    const list = out.get(r.key);
    if (list === undefined) out.set(r.key, [r.id as FirmContactId]);
    else list.push(r.id as FirmContactId);
  }
  return out;
}

/** Firm contacts holding each address (index lookups, in chunks). */
export async function firmIdsByEmail(
  db: Db,
  emails: readonly string[],
): Promise<Map<string, FirmContactId[]>> {
  const rows: { key: string; id: string }[] = [];
  for (const part of chunks([...new Set(emails)])) {
    rows.push(
      ...(await db
        .selectFrom('firm_contact_emails')
        .select(['email as key', 'firm_contact_id as id'])
        .where('email', 'in', part)
        .execute()),
    );
  }
  return group(rows);
}

/** Firm contacts with each "name|organization" key (index lookups, in chunks). */
export async function firmIdsByName(db: Db, keys: readonly string[]): Promise<Map<string, FirmContactId[]>> {
  const rows: { key: string; id: string }[] = [];
  for (const part of chunks([...new Set(keys)].filter((k) => k !== ''))) {
    rows.push(
      ...(await db
        .selectFrom('firm_contacts')
        .select(['name_key as key', 'id'])
        .where('name_key', 'in', part)
        .execute()),
    );
  }
  return group(rows);
}

/**
 * Creates and rewrites firm contacts, each with its own new change sequence value (the down
 * step pages by seq), and replaces their e-mail lookup rows. Throws `NotFound` when an update
 * names a firm contact that is gone.
 */
export async function writeFirmContacts(
  db: Db,
  writes: readonly FirmContactWrite[],
  now: string,
): Promise<Map<FirmContactId, number>> {
  const seqs = new Map<FirmContactId, number>();
  if (writes.length === 0) return seqs;
  let seq = await takeChangeSeq(db, writes.length);
  const rows = writes.map((w) => {
    seqs.set(w.id, seq);
    return rowOf(w, seq++, now);
  });
  const creates = rows.filter((_, i) => writes[i]!.op === 'create');
  for (const part of chunks(creates, 300)) await db.insertInto('firm_contacts').values(part).execute();
  const updates = writes.flatMap((w, i) =>
    w.op === 'update' ? [{ row: rows[i]!, keys: w.keysUnchanged !== true }] : [],
  );
  for (const keys of [false, true]) {
    const part = updates.filter((u) => u.keys === keys).map((u) => u.row);
    for (const some of chunks(part, 200)) await updateFirmContacts(db, some, keys);
  }
  const rewritten = writes.filter((w) => w.op === 'create' || w.emailsUnchanged !== true);
  const stale = rewritten.filter((w) => w.op === 'update').map((w) => w.id);
  for (const part of chunks(stale)) {
    await db.deleteFrom('firm_contact_emails').where('firm_contact_id', 'in', part).execute();
  }
  const emails = rewritten.flatMap((w) => w.keys.emails.map((email) => ({ email, firm_contact_id: w.id })));
  for (const part of chunks(emails)) await db.insertInto('firm_contact_emails').values(part).execute();
  return seqs;
}

/**
 * Rewrites firm contacts, one statement for all (UPDATE … FROM VALUES, on both dialects); their
 * indexed key columns only `withKeys` (an indexed column named in an UPDATE has its index entry
 * rewritten even when its value stays). Throws `NotFound` naming them when one is gone.
 */
async function updateFirmContacts(
  db: Db,
  rows: readonly FirmContactTable[],
  withKeys: boolean,
): Promise<void> {
  // Casts give PostgreSQL the types of the VALUES columns (their parameters are untyped).
  const values = rows.map((r) => {
    const head = sql`${r.id}, ${r.data}, ${r.provenance}, cast(${r.possible_duplicate} as integer), ${r.duplicate_candidates}, ${r.updated_at}, cast(${r.seq} as bigint)`;
    return withKeys
      ? sql`(${head}, ${r.email_norm}, ${r.name_norm}, ${r.org_norm}, ${r.name_key})`
      : sql`(${head})`;
  });
  // VALUES columns are named column1, column2, … on both dialects.
  const keys = withKeys
    ? sql`, email_norm = v.column8, name_norm = v.column9, org_norm = v.column10, name_key = v.column11`
    : sql``;
  const result = await sql`update firm_contacts set
      data = v.column2, provenance = v.column3, possible_duplicate = v.column4,
      duplicate_candidates = v.column5, updated_at = v.column6, seq = v.column7${keys}
    from (values ${sql.join(values)}) as v
    where firm_contacts.id = v.column1`.execute(db);
  if (Number(result.numAffectedRows ?? 0) !== rows.length) {
    throw new LiaisonError('NotFound', `A firm contact among ${rows.map((r) => r.id).join(', ')} is gone`);
  }
}

function rowOf(w: FirmContactWrite, seq: number, now: string): FirmContactTable {
  return {
    id: w.id,
    data: toJson(w.fields),
    provenance: toJson(w.provenance),
    email_norm: w.keys.emails[0] ?? '',
    name_norm: w.keys.fullName,
    org_norm: w.keys.organization,
    name_key: w.keys.name,
    possible_duplicate: w.possibleDuplicate ? 1 : 0,
    duplicate_candidates: toJson(w.candidates),
    created_at: now,
    updated_at: now,
    seq,
  };
}

/**
 * Deletes firm contacts (their e-mail rows go with them) and drops them from the candidate
 * lists of flagged firm contacts, so that no list names a contact that is gone.
 */
export async function deleteFirmContacts(db: Db, ids: readonly FirmContactId[]): Promise<void> {
  for (const part of chunks([...ids])) await db.deleteFrom('firm_contacts').where('id', 'in', part).execute();
  for (const id of ids) {
    const flagged = await db
      .selectFrom('firm_contacts')
      .select(['id', 'duplicate_candidates'])
      .where('possible_duplicate', '=', 1)
      .where('duplicate_candidates', 'like', `%${id}%`)
      .execute();
    for (const f of flagged) {
      const left = fromJson<string[]>(f.duplicate_candidates, 'firm_contacts.duplicate_candidates').filter(
        (c) => c !== id,
      );
      await db
        .updateTable('firm_contacts')
        .set({ duplicate_candidates: toJson(left), possible_duplicate: left.length > 0 ? 1 : 0 })
        .where('id', '=', f.id)
        .execute();
    }
  }
}

/** How many firm contacts were written in (afterSeq, uptoSeq], counting no further than `atMost + 1`. */
export async function countFirmChanges(
  db: Db,
  afterSeq: number,
  uptoSeq: number,
  atMost: number,
): Promise<number> {
  const range = db
    .selectFrom('firm_contacts')
    .select('id')
    .where('seq', '>', afterSeq)
    .where('seq', '<=', uptoSeq)
    .limit(atMost + 1)
    .as('r');
  const row = await db
    .selectFrom(range)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Firm contacts written in (afterSeq, uptoSeq], by seq, at most `limit`. */
export async function firmChangesAfter(
  db: Db,
  afterSeq: number,
  uptoSeq: number,
  limit: number,
): Promise<{ id: FirmContactId; seq: number }[]> {
  const rows = await db
    .selectFrom('firm_contacts')
    .select(['id', 'seq'])
    .where('seq', '>', afterSeq)
    .where('seq', '<=', uptoSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ id: r.id as FirmContactId, seq: Number(r.seq) }));
}

/** A listing of firm contacts, newest first, with the number of connected user contacts. */
export async function searchFirmContacts(
  db: Db,
  search: { readonly text: string; readonly email: string } | null,
  limit: number,
): Promise<FirmContactSummary[]> {
  let q = db.selectFrom('firm_contacts as f').select([
    'f.id',
    'f.data',
    'f.possible_duplicate',
    'f.duplicate_candidates',
    'f.updated_at',
    (eb) =>
      eb
        .selectFrom('user_contacts as u')
        .select((e) => e.fn.countAll<number | string>().as('n'))
        .whereRef('u.firm_contact_id', '=', 'f.id')
        .as('connected'),
  ]);
  if (search !== null) {
    const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`f.name_norm like ${like(search.text)} escape '\\'`,
        sql<boolean>`f.org_norm like ${like(search.text)} escape '\\'`,
        eb.exists(
          eb
            .selectFrom('firm_contact_emails as e')
            .select('e.email')
            .whereRef('e.firm_contact_id', '=', 'f.id')
            .where(sql<boolean>`e.email like ${like(search.email)} escape '\\'`),
        ),
      ]),
    );
  }
  const rows = await q.orderBy('f.id', 'desc').limit(limit).execute();
  return rows.map((r) => {
    const fields = fromJson<Fields>(r.data, 'firm_contacts.data');
    const emails = Array.isArray(fields.emails)
      ? fields.emails.map((e) => (e !== null && typeof e === 'object' && 'value' in e ? String(e.value) : ''))
      : [];
    return {
      id: r.id as FirmContactId,
      formattedName: typeof fields.formattedName === 'string' ? fields.formattedName : '',
      organization: typeof fields.organization === 'string' ? fields.organization : '',
      emails: emails.filter((e) => e !== ''),
      connected: Number(r.connected ?? 0),
      possibleDuplicate: r.possible_duplicate === 1,
      candidates: fromJson<FirmContactId[]>(r.duplicate_candidates, 'firm_contacts.duplicate_candidates'),
      updatedAt: r.updated_at,
    };
  });
}
