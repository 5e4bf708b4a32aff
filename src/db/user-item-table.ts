import type { Kysely } from 'kysely';
import type { Appointment } from '../domain/appointment.js';
import type { TimeSpan } from '../domain/codec.js';
import type { Contact } from '../domain/contact.js';
import type { Fields } from '../domain/fields.js';
import type { CollectionKind, FirmItemId, Uid, UserId } from '../domain/ids.js';
import { defaultAppointmentSpan } from './appointment-span.js';
import { toJson } from './json-column.js';
import { contactMatchColumns } from './match-columns.js';
import type { Tables, UserItemColumns } from './schema.js';

export type UserItemTableName = 'user_contacts' | 'user_appointments';

/** What differs between user contacts and user appointments: table, kind and derived columns. */
export interface UserItemSpec<T extends { readonly uid: Uid }> {
  readonly kind: CollectionKind;
  readonly table: UserItemTableName;
  isPrivate(item: T): boolean;
  /** Columns computed from the item beyond the shared ones (match keys, time span). */
  derived(item: T): Readonly<Record<string, string | number | null>>;
  /** The derived columns an index holds (see {@link withoutUnchanged}). */
  readonly indexed: readonly string[];
}

/** User contacts: private flag and the columns firm sync matches on. */
export const contactSpec: UserItemSpec<Contact> = {
  kind: 'contacts',
  table: 'user_contacts',
  isPrivate: (item) => item.private,
  derived: (item) => ({ ...contactMatchColumns(item) }),
  indexed: ['email_norm'],
};

/**
 * User appointments: CLASS:PRIVATE and CONFIDENTIAL count as private (as the codec reads
 * them), and the time span fills the window columns. Pass the codec's `span` to use its
 * recurrence-aware reading; the default errs wide.
 */
export function appointmentSpec(
  span: (item: Appointment) => TimeSpan | null = defaultAppointmentSpan,
): UserItemSpec<Appointment> {
  return {
    kind: 'calendar',
    table: 'user_appointments',
    isPrivate: (item) => item.privacy === 'PRIVATE' || item.privacy === 'CONFIDENTIAL',
    derived: (item) => {
      const s = span(item);
      return { start_utc: s?.start ?? null, end_utc: s === null ? null : s.end };
    },
    indexed: ['start_utc'],
  };
}

/**
 * Both item tables share their common columns, so the shared code addresses them through
 * one view of the schema; the derived columns ride along in the row objects.
 */
export function itemDb(db: Kysely<Tables>): Kysely<Record<UserItemTableName, UserItemColumns>> {
  return db as unknown as Kysely<Record<UserItemTableName, UserItemColumns>>;
}

/** A complete row for a new item. */
export function newItemRow<T extends { readonly uid: Uid }>(
  spec: UserItemSpec<T>,
  user: UserId,
  id: FirmItemId,
  item: T,
  seq: number,
  now: string,
): UserItemColumns {
  return {
    id,
    user_id: user,
    uid: item.uid,
    data: toJson(item),
    private: spec.isPrivate(item) ? 1 : 0,
    created_at: now,
    updated_at: now,
    change_seq: seq,
    ...spec.derived(item),
  };
}

/** The columns an edit of `item` rewrites. */
export function changedItemColumns<T extends { readonly uid: Uid }>(
  spec: UserItemSpec<T>,
  item: T,
  seq: number,
  now: string,
): Partial<UserItemColumns> {
  return {
    uid: item.uid,
    data: toJson(item),
    private: spec.isPrivate(item) ? 1 : 0,
    updated_at: now,
    change_seq: seq,
    ...spec.derived(item),
  };
}

/**
 * Counts a firm-side change of the user's collection, for express mode's change detection.
 * Creates the state row on first use.
 */
export async function bumpChangeCounter(
  trx: Kysely<Tables>,
  user: UserId,
  kind: CollectionKind,
): Promise<void> {
  await trx
    .insertInto('collection_state')
    .values({ user_id: user, kind, change_counter: 1 })
    .onConflict((oc) =>
      oc
        .columns(['user_id', 'kind'])
        .doUpdateSet((eb) => ({ change_counter: eb('collection_state.change_counter', '+', 1) })),
    )
    .execute();
}

/** The item's content without its identity, as the journal keeps it. */
export function itemFields<T extends { readonly uid: Uid }>(item: T): Fields {
  const { uid: _uid, ...rest } = item;
  return rest as unknown as Fields;
}

/**
 * `columns` without the indexed ones whose value `stored` already holds. SQLite rewrites the
 * entry of every index whose column an UPDATE names, even to the same value: an edit that
 * leaves a UID or an e-mail address as it was then costs one page of that index the less
 * (for an express sync of 100 changed contacts, about a third of the pages it writes).
 */
export function withoutUnchanged(
  columns: Partial<UserItemColumns>,
  stored: Readonly<Record<string, unknown>> | undefined,
): Partial<UserItemColumns> {
  if (stored === undefined) return columns;
  const out: Record<string, unknown> = { ...columns };
  for (const [column, value] of Object.entries(stored)) {
    if (column in out && out[column] === value) delete out[column];
  }
  return out as Partial<UserItemColumns>;
}
