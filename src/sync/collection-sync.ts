import type { ItemCodec } from '../domain/codec.js';
import { errorMessage, isLiaisonError } from '../domain/errors.js';
import type { CollectionKind, Etag, Href, SyncToken, Uid, UserId } from '../domain/ids.js';
import type { ItemRef, MailboxCollection, MailboxStore, MarkerNote } from '../mailbox/port.js';
import { executePlan } from './execute.js';
import { holdReason } from './guards.js';
import { checkMarker, withMarkerTime } from './marker.js';
import { planSync } from './plan.js';
import type { FirmView, MailboxView, Plan } from './plan-types.js';
import type { FirmSyncStore, HeldPlanStore, StatusEntry } from './ports.js';
import type { CollectionReport } from './report.js';
import { SET_FIELDS, type SyncSettings } from './settings.js';

/** What syncing one collection of one user needs. */
export interface CollectionDeps<T extends { readonly uid: Uid }> {
  readonly codec: ItemCodec<T>;
  readonly firm: FirmSyncStore<T>;
  readonly held: HeldPlanStore;
  readonly mailbox: MailboxStore;
  readonly now: () => Date;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface CollectionTarget {
  readonly user: UserId;
  readonly login: string;
  readonly kind: CollectionKind;
  readonly runId: string;
}

/**
 * Syncs one user's collection: marker check, change detection, plan, guards, apply,
 * marker. Expected outcomes are written into `report`; only unexpected errors throw.
 * With `recovery` (SPEC §5) the status is ignored, nothing is deleted, and a fresh marker is written.
 */
export async function syncCollection<T extends { readonly uid: Uid }>(
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  settings: SyncSettings,
  report: CollectionReport,
  recovery = false,
): Promise<void> {
  const { user, kind } = target;
  const { firm } = deps;
  const state = await firm.loadState(user, kind);
  if (!recovery && state.outOfSync) {
    return skip(
      report,
      `out of sync: ${state.outOfSyncReason ?? 'marker mismatch'}; run \`liaison recover --user ${target.login}\``,
    );
  }
  if (!recovery && (await deps.held.hasHeld(user, kind))) {
    return skip(report, 'a plan is held for approval: see `liaison held list`');
  }

  let note: MarkerNote | null;
  try {
    note = await deps.mailbox.readMarker();
  } catch (e) {
    if (!isLiaisonError(e, 'InvalidData')) throw e;
    if (recovery) note = null;
    else
      return markOutOfSync(
        target,
        deps,
        report,
        `the mailbox's sync marker cannot be read: ${errorMessage(e)}`,
      );
  }
  if (!recovery) {
    const verdict = checkMarker(kind, state, note);
    if (!verdict.ok) return markOutOfSync(target, deps, report, verdict.reason);
    if (verdict.promote && !settings.dryRun) {
      await firm.saveState(user, kind, { lastSync: state.pendingSync, pendingSync: null });
    }
  }

  const collection = await deps.mailbox.collection(kind);
  const firmCounter = await firm.changeCounter(user, kind);
  // Taken before listing, so a change made while this run works is seen by the next one.
  // Where the fingerprint is a digest of the listing (a folder), list once and derive it.
  const listed = collection.probeFromListing ? await collection.list() : null;
  const probe =
    listed && collection.probeFromListing ? collection.probeFromListing(listed) : await collection.probe();
  const everSynced = state.lastSync !== null || state.pendingSync !== null;
  if (
    !recovery &&
    settings.mode === 'express' &&
    everSynced &&
    probe === state.probe &&
    firmCounter === state.firmCounter
  ) {
    report.outcome = 'unchanged';
    return;
  }

  const status = await firm.loadStatus(user, kind);
  const { refs, token } = listed
    ? { refs: listed, token: await collection.currentToken() }
    : await listMailbox(collection, status, settings.mode === 'express' && !recovery ? state.token : null);
  const mailbox = await readChanged(collection, refs, recovery ? [] : status, deps.codec, target);
  const statusById = new Map(status.map((s) => [s.firmId, s]));
  const firmItems = (await firm.listItems(user, kind)).map((f): FirmView<T> => {
    // An item not written since it was synced has the synced content: no need to rehash it.
    const s = recovery ? undefined : statusById.get(f.id);
    if (s && s.firmRevision !== null && s.firmRevision === f.revision) {
      return { id: f.id, item: f.item, revision: f.revision, fields: s.base, hash: s.firmHash };
    }
    const fields = deps.codec.fields(f.item);
    return { id: f.id, item: f.item, revision: f.revision, fields, hash: deps.codec.hash(fields) };
  });

  const now = deps.now().getTime();
  const day = 86_400_000;
  const plan = planSync({
    codec: deps.codec,
    firm: firmItems,
    mailbox,
    status,
    setFields: SET_FIELDS[kind],
    options: {
      ...settings.plan,
      recovery,
      window:
        kind === 'calendar' && settings.windowDays
          ? { start: now - settings.windowDays.past * day, end: now + settings.windowDays.future * day }
          : null,
    },
  });
  report.quarantined.push(...plan.quarantined);

  if (!recovery) {
    const reason = holdReason(
      plan,
      status.length,
      { firmEmpty: firmItems.length === 0, mailboxEmpty: refs.length === 0 },
      settings.guards,
    );
    if (reason !== null) {
      report.outcome = 'held';
      report.reason = reason;
      tallyPlan(plan, report);
      if (!settings.dryRun) {
        report.heldPlanId = await deps.held.saveHeld({
          user,
          login: target.login,
          kind,
          reason,
          plan: JSON.stringify(plan),
        });
      }
      return;
    }
  }

  if (settings.dryRun) {
    tallyPlan(plan, report);
    return;
  }

  await executePlan(plan.ops, {
    user,
    kind,
    runId: target.runId,
    codec: deps.codec,
    mailbox: collection,
    firm,
    report,
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
  });
  await commitMarker(
    target,
    deps,
    note,
    { probe, token, firmCounter },
    recovery || plan.ops.length > 0 || !everSynced,
  );
  if (nothingDone(report)) report.outcome = 'unchanged';
}

/** True when a sync found nothing to carry either way (it may still have refreshed etags). */
function nothingDone(r: CollectionReport): boolean {
  const zero = (t: CollectionReport['toFirm']) => t.created + t.updated + t.deleted === 0;
  return (
    zero(r.toFirm) && zero(r.toMailbox) && r.conflicts === 0 && r.quarantined.length === 0 && r.deferred === 0
  );
}

/**
 * Records a successful sync. The database notes the time it is about to write before
 * the mailbox note is written (SPEC §5: a crash in between must not lock the user out).
 */
export async function commitMarker<T extends { readonly uid: Uid }>(
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  note: MarkerNote | null,
  detection: { probe: string | null; token: SyncToken | null; firmCounter: number },
  writeNote: boolean,
): Promise<void> {
  const { user, kind } = target;
  if (!writeNote) {
    await deps.firm.saveState(user, kind, detection);
    return;
  }
  const time = deps.now().toISOString();
  await deps.firm.saveState(user, kind, { pendingSync: time });
  await deps.mailbox.writeMarker(withMarkerTime(note, kind, time));
  await deps.firm.saveState(user, kind, {
    ...detection,
    lastSync: time,
    pendingSync: null,
    outOfSync: false,
    outOfSyncReason: null,
  });
}

function skip(report: CollectionReport, reason: string): void {
  report.outcome = 'skipped';
  report.reason = reason;
}

async function markOutOfSync<T extends { readonly uid: Uid }>(
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  report: CollectionReport,
  reason: string,
): Promise<void> {
  await deps.firm.saveState(target.user, target.kind, { outOfSync: true, outOfSyncReason: reason });
  skip(report, `out of sync: ${reason}; run \`liaison recover --user ${target.login}\``);
}

/**
 * The mailbox listing: from the change list when express mode has a valid token
 * (unchanged items filled in from the status), else a full listing.
 */
async function listMailbox(
  collection: MailboxCollection,
  status: readonly StatusEntry[],
  token: SyncToken | null,
): Promise<{ refs: ItemRef[]; token: SyncToken | null }> {
  if (token !== null) {
    try {
      const changes = await collection.changesSince(token);
      if (changes) {
        const byHref = new Map<Href, Etag>();
        for (const s of status) if (s.mailboxEtag !== null) byHref.set(s.href, s.mailboxEtag);
        // A status without an etag (the server returned none) must be listed to learn it.
        if (status.some((s) => s.mailboxEtag === null)) return fullListing(collection);
        for (const h of changes.removed) byHref.delete(h);
        for (const c of changes.changed) byHref.set(c.href, c.etag);
        return { refs: [...byHref].map(([href, etag]) => ({ href, etag })), token: changes.token };
      }
    } catch (e) {
      // RFC 6578 §3.2: an invalid token means a full listing, reconciled against the status.
      if (!isLiaisonError(e, 'InvalidSyncToken')) throw e;
    }
  }
  return fullListing(collection);
}

async function fullListing(
  collection: MailboxCollection,
): Promise<{ refs: ItemRef[]; token: SyncToken | null }> {
  const token = await collection.currentToken();
  return { refs: await collection.list(), token };
}

/** Reads only items that are new or whose etag moved; parse failures are quarantined. */
async function readChanged<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  refs: readonly ItemRef[],
  status: readonly StatusEntry[],
  codec: ItemCodec<T>,
  target: CollectionTarget,
): Promise<MailboxView<T>[]> {
  const known = new Map(status.map((s) => [s.href, s.mailboxEtag]));
  const views = new Map<Href, MailboxView<T>>();
  const toRead: Href[] = [];
  for (const r of refs) {
    if (known.has(r.href) && known.get(r.href) === r.etag) views.set(r.href, { href: r.href, etag: r.etag });
    else toRead.push(r.href);
  }
  for await (const got of collection.read(toRead)) {
    if ('missing' in got) continue; // deleted between listing and reading: gone
    try {
      const item = codec.parse(got.text, fallbackUid(got.href));
      const fields = codec.fields(item);
      views.set(got.href, {
        href: got.href,
        etag: got.etag,
        content: { item, fields, hash: codec.hash(fields) },
      });
    } catch (e) {
      const where = `user ${target.login}, ${target.kind}, ${collection.location}, ${got.href}`;
      views.set(got.href, { href: got.href, etag: got.etag, quarantine: `${where}: ${errorMessage(e)}` });
    }
  }
  return refs.map((r) => views.get(r.href)).filter((v): v is MailboxView<T> => v !== undefined);
}

/** A stable UID for an item that has none: derived from where it lives. */
function fallbackUid(href: Href): Uid {
  return `liaison-${href.replace(/\.(vcf|ics)$/i, '')}` as Uid;
}

/** Fills a report from a plan that is not applied (dry run or held). */
export function tallyPlan(plan: Plan, report: CollectionReport): void {
  for (const op of plan.ops) {
    if (op.type === 'create-in-mailbox') report.toMailbox.created++;
    else if (op.type === 'create-in-firm') report.toFirm.created++;
    else if (op.type === 'delete-in-mailbox') report.toMailbox.deleted++;
    else if (op.type === 'delete-in-firm') report.toFirm.deleted++;
    else if (op.type === 'update') {
      if (op.toFirm) report.toFirm.updated++;
      if (op.toMailbox) report.toMailbox.updated++;
      if (op.reason === 'both-changed') report.conflicts++;
    }
  }
}
