/**
 * Administration of firm contacts (`liaison firm list | show | merge | delete`): listing,
 * details with connected user contacts and provenance, merging two into one, deleting one.
 */
import type { Contact } from '../domain/contact.js';
import { LiaisonError } from '../domain/errors.js';
import type { Fields, FieldValue } from '../domain/fields.js';
import { asUid, type FirmContactId, type FirmItemId, type UserId } from '../domain/ids.js';
import { mergeTwoWay } from '../sync/merge.js';
import { changedFirmFields, contactOfFirmFields, FIRM_SET_FIELDS, pickFirmFields } from './firm-fields.js';
import type { FieldSource, FirmContact, FirmJournalLine, Provenance } from './firm-types.js';
import { normalizeMatchEmail, normalizeMatchText } from './match-keys.js';
import { firmContactKeys } from './plan-up.js';
import type { FirmContactSummary, FirmSyncDeps, FirmTx } from './ports.js';

/** Who makes an administrative change, for the journal (default `cli`). */
export interface AdminOptions {
  readonly actor?: string;
}

/** A user contact connected to a firm contact. */
export interface ConnectedUserContact {
  readonly userContactId: FirmItemId;
  readonly user: UserId;
  readonly login: string;
  readonly uid: string;
  readonly formattedName: string;
}

/** A firm contact as `liaison firm show` presents it. */
export interface FirmContactDetail {
  readonly firmContact: FirmContact;
  /** The firm fields as a contact (personal fields empty), for display or export. */
  readonly contact: Contact;
  readonly connected: readonly ConnectedUserContact[];
}

/** What `mergeFirmContacts` did. */
export interface MergeOutcome {
  readonly kept: FirmContactId;
  readonly removed: FirmContactId;
  /** Fields of KEEP that took OTHER's value (filled or united). */
  readonly fieldsChanged: readonly string[];
  readonly reconnected: number;
}

/** What `deleteFirmContact` did. */
export interface DeleteOutcome {
  readonly deleted: FirmContactId;
  readonly disconnected: number;
}

/** The journal actor of administrative changes unless the caller names another. */
export const ADMIN_ACTOR = 'cli';

/** Firm contacts matching `search` (name, organization or e-mail; accents and case ignored), newest first. */
export async function listFirmContacts(
  deps: FirmSyncDeps,
  options: { readonly search?: string; readonly limit?: number } = {},
): Promise<FirmContactSummary[]> {
  const search = options.search?.trim() ?? '';
  return deps.store.searchFirmContacts(
    search === '' ? null : { text: normalizeMatchText(search), email: normalizeMatchEmail(search) },
    options.limit ?? 100,
  );
}

/** One firm contact with its connected user contacts. Throws `Usage` for an unknown id. */
export async function getFirmContact(deps: FirmSyncDeps, id: string): Promise<FirmContactDetail> {
  const firmContact = await mustGet(deps.store, id as FirmContactId);
  const linked = await deps.store.userContactsOf(firmContact.id);
  const logins = new Map(
    (await deps.users.byIds([...new Set(linked.map((l) => l.user))])).map((u) => [u.id, u.login]),
  );
  return {
    firmContact,
    contact: contactOfFirmFields(asUid(firmContact.id), firmContact.fields),
    connected: linked.map((l) => ({
      userContactId: l.id,
      user: l.user,
      login: logins.get(l.user) ?? l.user,
      uid: l.contact.uid,
      formattedName: l.contact.formattedName,
    })),
  };
}

/**
 * Merges OTHER into KEEP: fields merged field by field (KEEP wins where both hold different
 * values; set fields such as e-mails are united), OTHER's user contacts reconnected to KEEP with
 * their bases kept (so that the next down step brings them KEEP's differences), OTHER deleted.
 * Journaled. Throws `Usage` for an unknown id or KEEP = OTHER.
 */
export async function mergeFirmContacts(
  deps: FirmSyncDeps,
  keep: string,
  other: string,
  options: AdminOptions = {},
): Promise<MergeOutcome> {
  if (keep === other) throw new LiaisonError('Usage', `cannot merge firm contact ${keep} into itself`);
  const at = deps.now().toISOString();
  return deps.store.transaction({ firmWrites: true }, async (tx) => {
    const k = await mustGet(tx, keep as FirmContactId);
    const o = await mustGet(tx, other as FirmContactId);
    const fields = pickFirmFields(mergeTwoWay(k.fields, o.fields, 'firm', FIRM_SET_FIELDS).fields);
    const changed = changedFirmFields(k.fields, fields);
    const source: FieldSource = { user: null, run: null, at };
    const provenance: Record<string, FieldSource> = { ...k.provenance };
    for (const f of changed) provenance[f] = o.provenance[f] ?? source;
    const candidates = k.candidates.filter((c) => c !== o.id);
    // Written even when no field changed: OTHER's users must get KEEP's values on the down step.
    await tx.writeFirmContacts([
      {
        op: 'update',
        id: k.id,
        fields,
        provenance,
        keys: firmContactKeys(k.id, fields),
        possibleDuplicate: k.possibleDuplicate && candidates.length > 0,
        candidates,
      },
    ]);
    const moved = await tx.userContactsOf(o.id);
    await tx.writeLinks(
      moved.map((uc) => ({ userContactId: uc.id, firmContactId: k.id, base: uc.base, detached: false })),
    );
    await tx.deleteFirmContacts([o.id]);
    const lines: FirmJournalLine[] = [];
    if (changed.length > 0) {
      lines.push(
        adminLine(
          'firm-update',
          k.id,
          null,
          diff(k.fields, changed),
          diff(fields, changed),
          `merged ${o.id}`,
        ),
      );
    }
    for (const uc of moved) {
      lines.push({
        ...adminLine(
          'connect',
          k.id,
          uc.id,
          { firmContactId: o.id },
          { firmContactId: k.id },
          `merged ${o.id}`,
        ),
        user: uc.user,
        uid: uc.contact.uid,
        reason: 'merge',
      });
    }
    lines.push(adminLine('firm-delete', o.id, null, o.fields, null, `merged into ${k.id}`));
    await tx.journal(lines, options.actor ?? ADMIN_ACTOR, null);
    return { kept: k.id, removed: o.id, fieldsChanged: changed, reconnected: moved.length };
  });
}

/**
 * Deletes a firm contact. Its user contacts are disconnected and keep their copies; they are
 * marked detached so that their next edit does not bring the person back into the firm list.
 * Journaled. Throws `Usage` for an unknown id.
 */
export async function deleteFirmContact(
  deps: FirmSyncDeps,
  id: string,
  options: AdminOptions = {},
): Promise<DeleteOutcome> {
  return deps.store.transaction({ firmWrites: true }, async (tx) => {
    const f = await mustGet(tx, id as FirmContactId);
    const disconnected = await removeFirmContact(tx, f, options.actor ?? ADMIN_ACTOR, 'firm contact deleted');
    return { deleted: f.id, disconnected };
  });
}

/** Disconnects (detached) every user contact of `f`, deletes it and journals both; returns how many. */
export async function removeFirmContact(
  tx: FirmTx,
  f: FirmContact,
  actor: string,
  note: string,
): Promise<number> {
  const linked = await tx.userContactsOf(f.id);
  await tx.writeLinks(
    linked.map((uc) => ({ userContactId: uc.id, firmContactId: null, base: null, detached: true })),
  );
  await tx.deleteFirmContacts([f.id]);
  const lines: FirmJournalLine[] = linked.map((uc) => ({
    ...adminLine(
      'disconnect',
      f.id,
      uc.id,
      { firmContactId: f.id, base: uc.base },
      { firmContactId: null },
      note,
    ),
    user: uc.user,
    uid: uc.contact.uid,
    reason: 'firm-delete',
  }));
  lines.push(adminLine('firm-delete', f.id, null, f.fields, null, note));
  await tx.journal(lines, actor, null);
  return linked.length;
}

/** Rewrites a firm contact unchanged: a new seq, so the down step looks at it for every user. */
export async function touchFirmContact(tx: FirmTx, f: FirmContact): Promise<void> {
  await tx.writeFirmContacts([
    {
      op: 'update',
      id: f.id,
      fields: f.fields,
      provenance: f.provenance,
      keys: firmContactKeys(f.id, f.fields),
      possibleDuplicate: f.possibleDuplicate,
      candidates: f.candidates,
      emailsUnchanged: true,
      keysUnchanged: true,
    },
  ]);
}

/** The firm contact, or a `Usage` error naming the id (the CLI's exit code 2). */
export async function mustGet(reads: Pick<FirmTx, 'firmContacts'>, id: FirmContactId): Promise<FirmContact> {
  const f = (await reads.firmContacts([id])).get(id);
  if (f === undefined) {
    throw new LiaisonError('Usage', `there is no firm contact ${id}: see \`liaison firm list\``);
  }
  return f;
}

/** The given fields of `fields`. */
export function diff(fields: Fields, keys: readonly string[]): Fields {
  const out: Record<string, FieldValue> = {};
  for (const k of keys) out[k] = fields[k] ?? null;
  return out;
}

/** Provenance stamped by an administrator's change. */
export function adminProvenance(provenance: Provenance, keys: readonly string[], at: string): Provenance {
  const out: Record<string, FieldSource> = { ...provenance };
  for (const k of keys) out[k] = { user: null, run: null, at };
  return out;
}

/** A journal line of an administrative change (no user, no run). */
export function adminLine(
  action: FirmJournalLine['action'],
  firm: FirmContactId | null,
  userContact: FirmItemId | null,
  before: Fields | null,
  after: Fields | null,
  note: string,
): FirmJournalLine {
  return {
    action,
    direction: 'none',
    user: null,
    userContactId: userContact,
    firmContactId: firm,
    uid: null,
    before,
    after,
    note,
  };
}
