/**
 * The change journal as an administrator reads it (`liaison journal [--user] [--firm-contact]
 * [--run]`) and undoes firm sync's changes with it (`liaison journal undo ENTRY`).
 *
 * An undo restores the entry's `before` on its target, and is itself journaled. Each firm sync
 * action has one target: the firm contact's content (firm-create, firm-update, firm-delete), a
 * user contact's link (connect, disconnect) or a user contact's content (contact-update). An
 * undo is refused when a newer entry changed the same target — that one is named, to be undone
 * first — or when the target is gone.
 *
 * A deletion also cut the firm contact's connections (its `disconnect` lines, written with it):
 * undoing it restores those too, as an administrator restoring a contact expects to find it
 * known to the same users. A copy edited while disconnected had its edit passed by as detached;
 * reconnected, it is marked changed so that the next up step takes the edit, field by field.
 */
import { LiaisonError } from '../domain/errors.js';
import { type Fields, sameValue } from '../domain/fields.js';
import type { FirmContactId, FirmItemId, UserId } from '../domain/ids.js';
import { withUserLease } from '../sync/user-lease.js';
import {
  ADMIN_ACTOR,
  type AdminOptions,
  adminLine,
  adminProvenance,
  removeFirmContact,
  touchFirmContact,
} from './firm-contacts-service.js';
import { firmFieldsOf, pickFirmFields, sameFirmFields, withFirmValues } from './firm-fields.js';
import {
  FIRM_JOURNAL_ACTIONS,
  type FirmJournalAction,
  type FirmJournalLine,
  type JournalLine,
  type UserContactLink,
} from './firm-types.js';
import { firmContactKeys } from './plan-up.js';
import type { FirmSyncDeps, FirmTx } from './ports.js';

/** Filters of `listJournal`; all given ones must hold. */
export interface JournalFilter {
  /** A login. */
  readonly user?: string;
  readonly firmContactId?: string;
  readonly runId?: string;
  /** Default 1000. */
  readonly limit?: number;
}

const FIRM_DATA: readonly FirmJournalAction[] = ['firm-create', 'firm-update', 'firm-delete'];
const LINK: readonly FirmJournalAction[] = ['connect', 'disconnect'];
/** Lines about a user contact that do not change its content: its link, firm contacts it fed, pairings. */
const NOT_CONTACT_DATA: readonly string[] = [...FIRM_DATA, ...LINK, 'link', 'quarantine'];

/** Journal lines (every writer's), newest first. Throws `Usage` for an unknown login. */
export async function listJournal(deps: FirmSyncDeps, filter: JournalFilter = {}): Promise<JournalLine[]> {
  let user: UserId | undefined;
  if (filter.user !== undefined) {
    const { found } = await deps.users.byLogins([filter.user]);
    user = found[0]?.id;
    if (user === undefined) throw new LiaisonError('Usage', `unknown user: ${filter.user}`);
  }
  return deps.store.listJournal({
    ...(user === undefined ? {} : { user }),
    ...(filter.firmContactId === undefined ? {} : { firmContactId: filter.firmContactId as FirmContactId }),
    ...(filter.runId === undefined ? {} : { runId: filter.runId }),
    ...(filter.limit === undefined ? {} : { limit: filter.limit }),
  });
}

/** What `undoJournal` did. */
export interface UndoOutcome {
  readonly undone: JournalLine;
  /**
   * User contacts connected again: by the undo of a `disconnect`, or by the undo of a
   * `firm-delete` (those the deletion disconnected, unless they changed hands since).
   */
  readonly reconnected: readonly FirmItemId[];
  /** Of those, the ones edited while disconnected: the next up step takes their edits. */
  readonly pendingUp: readonly FirmItemId[];
}

/**
 * Undoes one firm sync journal entry. Throws `Usage` for an unknown entry or one firm sync did not
 * write, `PreconditionFailed` naming the newer entry when the target changed since, `NotFound`
 * when the target is gone, `Busy` when the user of a user contact is being synced.
 */
export async function undoJournal(
  deps: FirmSyncDeps,
  entryId: string,
  options: AdminOptions = {},
): Promise<UndoOutcome> {
  const entry = await deps.store.getJournalLine(entryId);
  if (entry === null) throw new LiaisonError('Usage', `there is no journal entry ${entryId}`);
  const action = FIRM_JOURNAL_ACTIONS.find((a) => a === entry.action);
  if (action === undefined) {
    throw new LiaisonError(
      'Usage',
      `journal entry ${entryId} (${entry.action} by ${entry.actor}) is not a firm sync change; only ${FIRM_JOURNAL_ACTIONS.join(', ')} can be undone`,
    );
  }
  const actor = options.actor ?? ADMIN_ACTOR;
  const relinked: Relinked[] = [];
  const undo = async (tx: FirmTx) => {
    relinked.length = 0;
    relinked.push(...(await undoIn(deps, tx, entry, action, actor)));
  };
  const outcome = (): UndoOutcome => ({
    undone: entry,
    reconnected: relinked.map((r) => r.id),
    pendingUp: relinked.filter((r) => r.edited).map((r) => r.id),
  });
  if (action === 'firm-delete') {
    await undoDeletion(deps, entry, undo);
    return outcome();
  }
  if (FIRM_DATA.includes(action)) {
    await deps.store.transaction({ firmWrites: true }, undo);
    return outcome();
  }
  // A user contact's link or content: under the user's lease, like any sync of that user.
  if (entry.user === null) throw new LiaisonError('NotFound', `journal entry ${entryId} names no user`);
  const ran = await withUserLease(deps.locks, entry.user, deps.holder, () =>
    deps.store.transaction({ firmWrites: true }, undo),
  );
  if (!ran) {
    throw new LiaisonError(
      'Busy',
      `the user of journal entry ${entryId} is being synced; undo it again shortly`,
    );
  }
  return outcome();
}

/** A user contact an undo connected again; `edited` while it was disconnected. */
interface Relinked {
  readonly id: FirmItemId;
  readonly edited: boolean;
}

/**
 * Undoing a deletion reconnects the user contacts it disconnected, so it runs under the leases
 * of their users, as a sync of them would: a user being synced refuses the undo (`Busy`).
 */
async function undoDeletion(
  deps: FirmSyncDeps,
  entry: JournalLine,
  undo: (tx: FirmTx) => Promise<void>,
): Promise<void> {
  const users = [
    ...new Set(
      (await deps.store.disconnectsOfDeletion(entry))
        .map((l) => l.user)
        .filter((u): u is UserId => u !== null),
    ),
  ].sort();
  const under = async (i: number): Promise<void> => {
    const user = users[i];
    if (user === undefined) {
      await deps.store.transaction({ firmWrites: true }, undo);
      return;
    }
    const ran = await withUserLease(deps.locks, user, deps.holder, () => under(i + 1));
    if (!ran) {
      throw new LiaisonError(
        'Busy',
        `a user whose contact journal entry ${entry.id} disconnected is being synced; undo it again shortly`,
      );
    }
  };
  await under(0);
}

/** Undoes `entry` in `tx`; returns the user contacts it connected again. */
async function undoIn(
  deps: FirmSyncDeps,
  tx: FirmTx,
  entry: JournalLine,
  action: FirmJournalAction,
  actor: string,
): Promise<Relinked[]> {
  const note = `undo of ${entry.id}`;
  const at = deps.now().toISOString();
  if (FIRM_DATA.includes(action)) {
    const id = need(entry.firmContactId, entry, 'firm contact');
    await refuseIfNewer(tx, entry, { firmContactId: id }, { only: FIRM_DATA });
    const current = (await tx.firmContacts([id])).get(id);
    if (action === 'firm-delete') {
      if (current !== undefined) throw changed(entry, `firm contact ${id} exists again`);
      const fields = pickFirmFields(entry.before ?? {});
      await tx.writeFirmContacts([
        {
          op: 'create',
          id,
          fields,
          provenance: {},
          keys: firmContactKeys(id, fields),
          possibleDuplicate: false,
          candidates: [],
        },
      ]);
      const lines: FirmJournalLine[] = [adminLine('firm-create', id, null, null, fields, note)];
      const relinked = await reconnectDeleted(tx, entry, id, note, lines);
      await tx.journal(lines, actor, null);
      return relinked;
    }
    if (current === undefined) throw gone(entry, `firm contact ${id}`);
    if (action === 'firm-create') {
      await removeFirmContact(tx, current, actor, note);
      return [];
    }
    const after = entry.after ?? {};
    const before = entry.before ?? {};
    ensureStill(entry, current.fields, after, `firm contact ${id}`);
    const fields = pickFirmFields({ ...current.fields, ...before });
    const keys = Object.keys(before);
    await tx.writeFirmContacts([
      {
        op: 'update',
        id,
        fields,
        provenance: adminProvenance(current.provenance, keys, at),
        keys: firmContactKeys(id, fields),
        possibleDuplicate: current.possibleDuplicate,
        candidates: current.candidates,
      },
    ]);
    await tx.journal([adminLine('firm-update', id, null, after, before, note)], actor, null);
    return [];
  }

  const ucId = need(entry.userContactId, entry, 'user contact');
  const [uc] = await tx.userContacts([ucId]);
  if (uc === undefined) throw gone(entry, `user contact ${ucId}`);
  const line = (
    a: FirmJournalAction,
    firm: FirmContactId | null,
    before: Fields | null,
    after: Fields | null,
  ): FirmJournalLine => ({
    ...adminLine(a, firm, uc.id, before, after, note),
    user: uc.user,
    uid: uc.contact.uid,
  });

  if (action === 'contact-update') {
    await refuseIfNewer(tx, entry, { userContactId: ucId }, { except: NOT_CONTACT_DATA });
    const after = entry.after ?? {};
    const before = entry.before ?? {};
    ensureStill(entry, firmFieldsOf(uc.contact), after, `user contact ${ucId}`);
    // The base goes back with the values: the firm change counts as not yet brought down.
    await tx.writeUserContacts([
      {
        id: uc.id,
        user: uc.user,
        read: uc.contact,
        contact: withFirmValues(uc.contact, before),
        base: uc.base === null ? null : { ...uc.base, ...before },
        expectedSeq: uc.changeSeq,
        firmContactId: uc.firmContactId,
      },
    ]);
    await tx.journal([line('contact-update', uc.firmContactId, after, before)], actor, null);
    return [];
  }

  await refuseIfNewer(tx, entry, { userContactId: ucId }, { only: LINK });
  const was = (entry.before?.firmContactId ?? null) as FirmContactId | null;
  const now = (entry.after?.firmContactId ?? null) as FirmContactId | null;
  if (uc.firmContactId !== now) {
    throw changed(entry, `user contact ${ucId} is connected to ${uc.firmContactId ?? 'nothing'} now`);
  }
  if (was === null) {
    // Undoing a connection: kept out of the firm list, as after a deletion.
    await tx.writeLinks([{ userContactId: uc.id, firmContactId: null, base: null, detached: true }]);
    await tx.journal(
      [
        {
          ...line('disconnect', now, { firmContactId: now, base: uc.base }, { firmContactId: null }),
          reason: 'undo',
        },
      ],
      actor,
      null,
    );
    return [];
  }
  const target = (await tx.firmContacts([was])).get(was);
  if (target === undefined) throw gone(entry, `firm contact ${was} (undo its deletion first)`);
  const restored = action === 'disconnect' ? ((entry.before?.base ?? null) as Fields | null) : uc.base;
  // A new seq for the firm contact, so that the next down step brings its differences.
  await touchFirmContact(tx, target);
  const relinked = await relink(tx, [{ uc, base: restored }], was);
  await tx.journal(
    [{ ...line('connect', was, { firmContactId: now }, { firmContactId: was }), reason: 'undo' }],
    actor,
    null,
  );
  return relinked;
}

/**
 * The user contacts a deletion disconnected, connected again to the restored firm contact `id`
 * with the bases they had: what the deletion did, undone. One that changed hands since (connected
 * elsewhere, connected again one by one, deleted) or became private stays as it is; the journal
 * lines of those reconnected are added to `lines`.
 */
async function reconnectDeleted(
  tx: FirmTx,
  entry: JournalLine,
  id: FirmContactId,
  note: string,
  lines: FirmJournalLine[],
): Promise<Relinked[]> {
  const disconnects = await tx.disconnectsOfDeletion(entry);
  const current = new Map(
    (await tx.userContacts(disconnects.flatMap((l) => l.userContactId ?? []))).map((uc) => [uc.id, uc]),
  );
  const back: { uc: UserContactLink; base: Fields | null }[] = [];
  for (const d of disconnects) {
    const uc = d.userContactId === null ? undefined : current.get(d.userContactId);
    if (uc === undefined || uc.firmContactId !== null || !uc.detached || uc.contact.private) continue;
    if ((await tx.newerJournalLine(d.id, { userContactId: uc.id }, { only: LINK })) !== null) continue;
    back.push({ uc, base: (d.before?.base ?? null) as Fields | null });
    lines.push({
      ...adminLine('connect', id, uc.id, { firmContactId: null }, { firmContactId: id }, note),
      user: uc.user,
      uid: uc.contact.uid,
      reason: 'undo',
    });
  }
  return relink(tx, back, id);
}

/**
 * Connects user contacts to `firm` with the given bases. One edited while it was disconnected
 * (its values differ from its base) gets a new change sequence value: the up step had passed it
 * by as detached, and must now take its edits to the firm contact, field by field.
 */
async function relink(
  tx: FirmTx,
  contacts: readonly { readonly uc: UserContactLink; readonly base: Fields | null }[],
  firm: FirmContactId,
): Promise<Relinked[]> {
  await tx.writeLinks(
    contacts.map(({ uc, base }) => ({ userContactId: uc.id, firmContactId: firm, base, detached: false })),
  );
  const relinked = contacts.map(({ uc, base }) => ({
    id: uc.id,
    edited: base === null || !sameFirmFields(pickFirmFields(base), firmFieldsOf(uc.contact)),
  }));
  await tx.touchUserContacts(relinked.filter((r) => r.edited).map((r) => r.id));
  return relinked;
}

async function refuseIfNewer(
  tx: FirmTx,
  entry: JournalLine,
  about: { readonly firmContactId?: FirmContactId; readonly userContactId?: FirmItemId },
  actions: { readonly only?: readonly string[]; readonly except?: readonly string[] },
): Promise<void> {
  const newer = await tx.newerJournalLine(entry.id, about, actions);
  if (newer !== null) {
    throw new LiaisonError(
      'PreconditionFailed',
      `cannot undo journal entry ${entry.id}: its target changed since, in entry ${newer.id} (${newer.action} by ${newer.actor} at ${newer.at}); undo that one first`,
    );
  }
}

/** The target must still hold the entry's `after` values, or something unjournaled changed it. */
function ensureStill(entry: JournalLine, current: Fields, after: Fields, what: string): void {
  for (const [k, v] of Object.entries(after)) {
    if (!sameValue(current[k], v)) throw changed(entry, `${what} no longer holds the ${k} it set`);
  }
}

function need<T extends string>(value: T | null, entry: JournalLine, what: string): T {
  if (value === null) throw new LiaisonError('NotFound', `journal entry ${entry.id} names no ${what}`);
  return value;
}

function changed(entry: JournalLine, why: string): LiaisonError {
  return new LiaisonError('PreconditionFailed', `cannot undo journal entry ${entry.id}: ${why}`);
}

function gone(entry: JournalLine, what: string): LiaisonError {
  return new LiaisonError('NotFound', `cannot undo journal entry ${entry.id}: ${what} is gone`);
}
