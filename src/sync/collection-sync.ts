import type { ItemCodec } from '../domain/codec.js';
import { errorMessage, isLiaisonError } from '../domain/errors.js';
import type { CollectionKind, Etag, Href, SyncToken, Uid, UserId } from '../domain/ids.js';
import type { ChangeSet, ItemRef, MailboxCollection, MailboxStore, MarkerNote } from '../mailbox/port.js';
import { turn } from './event-loop.js';
import { executePlan } from './execute.js';
import { loadIntoEmptyFirm } from './first-load.js';
import { changesOrNull, gatherSides } from './gather.js';
import { forgottenTokenReason, holdReason } from './guards.js';
import { checkMarker, withMarkerTime } from './marker.js';
import { planSync } from './plan.js';
import type { Op, PlanOptions } from './plan-types.js';
import type { CollectionState, FirmSyncStore, HeldPlanStore, StatePatch } from './ports.js';
import { type CollectionReport, tallyPlan } from './report.js';
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
    const plan = (await deps.held.listHeld({ state: 'held' })).find(
      (p) => p.user === user && p.kind === kind && p.state === 'held',
    );
    report.heldPlanId = plan?.id ?? null;
    return skip(
      report,
      `a plan is held for approval: see \`liaison held show ${plan?.id ?? '(liaison held list)'}\``,
    );
  }

  const collection = await deps.mailbox.collection(kind);
  const firmCounter = await firm.changeCounter(user, kind);
  const everSynced = state.lastSync !== null || state.pendingSync !== null;
  const express = !recovery && settings.mode === 'express' && everSynced;
  // Express mode asks each side one cheap question. Where the mailbox keeps a change list,
  // the question is the change list itself: an unchanged collection answers it empty, and
  // a changed one has then told what changed, in the same single request.
  const changes =
    express && state.token !== null
      ? await askChanges(target, deps, state.token, state.lastChanges, collection, settings)
      : null;
  const lastChanges = changes === null ? null : changes.changed.length + changes.removed.length;
  let listed: ItemRef[] | null = null;
  let probe: string | null = null;
  if (changes) {
    if (changes.changed.length === 0 && changes.removed.length === 0 && firmCounter === state.firmCounter) {
      if ((changes.token !== state.token || state.lastChanges !== 0) && !settings.dryRun)
        await firm.saveState(user, kind, { token: changes.token, lastChanges: 0 });
      report.outcome = 'unchanged';
      return;
    }
  } else {
    // Taken before listing, so a change made while this run works is seen by the next one.
    // Where the fingerprint is a digest of the listing (a folder), list once and derive it.
    // A store with a change list needs no fingerprint: the token taken with the listing serves.
    listed = collection.probeFromListing ? await collection.list() : null;
    if (listed && collection.probeFromListing) probe = collection.probeFromListing(listed);
    else if (!collection.keepsChangeList) probe = await collection.probe();
    if (express && probe !== null && probe === state.probe && firmCounter === state.firmCounter) {
      report.outcome = 'unchanged';
      return;
    }
  }

  // The marker is read only when there is something to sync: an unchanged answer to the
  // cheap question proves the mailbox is as the last sync left it, so it cannot have been
  // restored from a backup since (a restored server forgets the token, or reports changes).
  // It is read while the two sides are gathered, which only reads; its verdict is awaited
  // before anything is planned or written.
  const marker = markerGate(target, deps, state, settings, recovery, report);

  const now = deps.now().getTime();
  const day = 86_400_000;
  const options = {
    ...settings.plan,
    recovery,
    window:
      kind === 'calendar' && settings.windowDays
        ? { start: now - settings.windowDays.past * day, end: now + settings.windowDays.future * day }
        : null,
  };
  const where = `user ${target.login}, ${kind}`;
  const written: MailboxWrites = new Map();
  let begun: BegunMarker | null = null;
  const applying = async () => {
    begun ??= await beginMarker(target, deps, marker.note());
  };
  const context = {
    target,
    deps,
    settings,
    options,
    report,
    where,
    markerChecked: marker.checked,
    written,
    applying,
  };
  const applied =
    !recovery && !everSynced && (await bothSidesEmpty(firm, target))
      ? await loadIntoEmptyFirm(
          {
            target,
            ready: marker.checked,
            listWithItems: !state.lastFailed,
            codec: deps.codec,
            firm,
            collection,
            setFields: SET_FIELDS[kind],
            options,
            dryRun: settings.dryRun,
            report,
            where,
            ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
          },
          listed,
        )
      : await applyInRounds(context, collection, {
          listed,
          token: express && changes ? state.token : null,
          changes,
          firmChanged: firmCounter !== state.firmCounter,
          tokenRefused: express && state.token !== null && changes === null,
        });
  if (applied === null || settings.dryRun || !(await marker.checked())) return;
  const { token, planned } = applied;
  await firm.recordQuarantine(user, kind, applied.examined, report.quarantined);
  // A fingerprint or token taken before this run's own writes must not be kept: should the
  // mailbox later return to that earlier state (the user deletes what this run created, a
  // calendar is deleted and made anew, empty), express mode would take it for "unchanged".
  // The next express run compares once instead; a token is moved past this run's writes.
  const wroteMailbox = written.size > 0;
  const kept = wroteMailbox && token !== null ? await tokenAfterWrites(collection, token, written) : token;
  await commitMarker(
    target,
    deps,
    marker.note(),
    { probe: wroteMailbox ? null : probe, token: kept, firmCounter, lastChanges },
    recovery || planned > 0 || !everSynced,
    begun,
  );
  if (recovery) await supersedeHeld(deps, target);
  if (nothingDone(report)) report.outcome = 'unchanged';
}

/**
 * A recovery matched both sides anew: a plan held before it (mass deletions found in a
 * restored mailbox) was made against a state that no longer is, and approving it would
 * write stale values. It is marked superseded, and the collection syncs again.
 */
async function supersedeHeld<T extends { readonly uid: Uid }>(
  deps: CollectionDeps<T>,
  target: CollectionTarget,
): Promise<void> {
  for (const plan of await deps.held.listHeld({ state: 'held' })) {
    if (plan.user === target.user && plan.kind === target.kind)
      await deps.held.resolveHeld(plan.id, 'superseded');
  }
}

/**
 * The largest last change list after which the next one is asked for with the items' data.
 * A change list with data costs the server the whole answer before its first byte (Radicale
 * builds it whole), which for thousands of changed contacts with photos is slower than the
 * list alone and bounded multigets. Changes come in runs, so after a large change list, or
 * a listing, the next is asked for without data.
 */
const SMALL_CHANGE_LIST = 1_000;

/**
 * The express run's change list, with the items' data after a small one. Should asking
 * fail (a server that timed out building a large answer), the next run asks without data.
 */
async function askChanges<T extends { readonly uid: Uid }>(
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  token: SyncToken,
  lastChanges: number | null,
  collection: MailboxCollection,
  settings: SyncSettings,
): Promise<ChangeSet | null> {
  const withItems = lastChanges !== null && lastChanges <= SMALL_CHANGE_LIST;
  try {
    return await changesOrNull(collection, token, { withItems });
  } catch (e) {
    if (withItems && !settings.dryRun) {
      // The failure reported is the server's; a database that fails too says so next run.
      await deps.firm.saveState(target.user, target.kind, { lastChanges: null }).catch(() => undefined);
    }
    throw e;
  }
}

/** What this run wrote to the mailbox: href → the etag the write answered (or null), or 'deleted'. */
type MailboxWrites = Map<Href, Etag | null | 'deleted'>;

/**
 * The change-list token to keep after this run wrote to the mailbox. The token taken before
 * the writes names a state the collection may come back to (servers such as Radicale derive
 * it from the content), so the changes since it are asked once more: when they are exactly
 * this run's writes, the new token is kept; when someone else changed something meanwhile,
 * the old one, so that the next run sees that change (and knows its own writes by their
 * etags); when the server no longer knows it, none (the next run lists the collection).
 */
async function tokenAfterWrites(
  collection: MailboxCollection,
  token: SyncToken,
  written: MailboxWrites,
): Promise<SyncToken | null> {
  const after = await changesOrNull(collection, token);
  if (after === null) return null;
  const ours =
    after.changed.every((c) => {
      const w = written.get(c.href);
      return w !== undefined && w !== 'deleted' && (w === null || c.etag === null || w === c.etag);
    }) && after.removed.every((href) => written.get(href) === 'deleted');
  return ours ? after.token : token;
}

/**
 * True when a sync found nothing to carry either way (it may still have refreshed etags).
 * Quarantined items do not count: they stay reported with the outcome, and in `status`.
 */
function nothingDone(r: CollectionReport): boolean {
  const zero = (t: CollectionReport['toFirm']) => t.created + t.updated + t.deleted === 0;
  return zero(r.toFirm) && zero(r.toMailbox) && r.conflicts === 0 && r.paired === 0 && r.deferred === 0;
}

/** A marker write under way: the time it writes, and its request, settled. */
interface BegunMarker {
  readonly time: string;
  readonly written: Promise<{ ok: true } | { ok: false; error: unknown }>;
  /** Whether the request has settled yet. */
  readonly settled: () => boolean;
}

/**
 * Starts writing the mailbox note with a new time, after the database noted that time as
 * pending (SPEC §5: a crash in between must not lock the user out). A run that is about to
 * apply a plan starts it then, so that the request runs while the plan is written; the
 * note it leaves, should the run fail after, matches the pending time and is accepted.
 */
async function beginMarker<T extends { readonly uid: Uid }>(
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  note: MarkerNote | null,
): Promise<BegunMarker> {
  const time = deps.now().toISOString();
  await deps.firm.saveState(target.user, target.kind, { pendingSync: time });
  // A turn first frees the connection the marker was just read over, so that the write
  // reuses it (else a new one is opened: a new process on Cyrus); then it is sent before
  // the plan is written.
  await turn();
  // Settled at once: a run that fails before awaiting it leaves no unhandled rejection.
  let settled = false;
  const written = deps.mailbox.writeMarker(withMarkerTime(note, target.kind, time)).then(
    () => ({ ok: true as const }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  written.then(() => {
    settled = true;
  });
  await deps.mailbox.sendStarted();
  return { time, written, settled: () => settled };
}

/**
 * Records a successful sync: the mailbox note (begun earlier, or now) and then the
 * database, which keeps the same time.
 */
export async function commitMarker<T extends { readonly uid: Uid }>(
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  note: MarkerNote | null,
  detection: Pick<CollectionState, 'probe' | 'token' | 'firmCounter'> & StatePatch,
  writeNote: boolean,
  begun: BegunMarker | null = null,
): Promise<void> {
  const { user, kind } = target;
  if (!writeNote && begun === null) {
    await deps.firm.saveState(user, kind, detection);
    return;
  }
  const { time, written, settled } = begun ?? (await beginMarker(target, deps, note));
  // The plan is written; a mailbox still answering the marker's write (Cyrus takes about
  // 20 ms) leaves time for the upkeep closing the database would do after the run.
  // Upkeep only: should it fail, the database's next write reports what is wrong.
  if (!settled()) await deps.firm.tidy().catch(() => undefined);
  const outcome = await written;
  if (!outcome.ok) throw outcome.error;
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
  dryRun: boolean,
): Promise<void> {
  // A dry run writes nothing, this mark included: it only reports what a run would find.
  if (!dryRun) {
    await deps.firm.saveState(target.user, target.kind, { outOfSync: true, outOfSyncReason: reason });
  }
  skip(report, `out of sync: ${reason}; run \`liaison recover --user ${target.login}\``);
}

/**
 * The mailbox's sync marker, read as soon as asked for and judged once, when `checked` is
 * first awaited: true to go on; false when the collection was marked out of sync (the
 * report says why). A marker that cannot be read counts as missing in recovery.
 */
function markerGate<T extends { readonly uid: Uid }>(
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  state: CollectionState,
  settings: SyncSettings,
  recovery: boolean,
  report: CollectionReport,
): { checked: () => Promise<boolean>; note: () => MarkerNote | null } {
  // Settled at once, so a failure nobody awaits (the gathering failed first) is not unhandled.
  const read = deps.mailbox.readMarker().then(
    (note) => ({ ok: true as const, note }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  let note: MarkerNote | null = null;
  let verdict: Promise<boolean> | undefined;
  const judge = async (): Promise<boolean> => {
    const got = await read;
    if (got.ok) note = got.note;
    else {
      if (!isLiaisonError(got.error, 'InvalidData')) throw got.error;
      if (!recovery) {
        const why = `the mailbox's sync marker cannot be read: ${errorMessage(got.error)}`;
        await markOutOfSync(target, deps, report, why, settings.dryRun);
        return false;
      }
    }
    if (recovery) return true;
    const v = checkMarker(target.kind, state, note);
    if (!v.ok) {
      await markOutOfSync(target, deps, report, v.reason, settings.dryRun);
      return false;
    }
    if (v.promote && !settings.dryRun) {
      await deps.firm.saveState(target.user, target.kind, { lastSync: state.pendingSync, pendingSync: null });
    }
    return true;
  };
  return {
    checked: () => {
      verdict ??= judge();
      return verdict;
    },
    note: () => note,
  };
}

interface RoundsContext<T extends { readonly uid: Uid }> {
  readonly target: CollectionTarget;
  readonly deps: CollectionDeps<T>;
  readonly settings: SyncSettings;
  readonly options: PlanOptions;
  readonly report: CollectionReport;
  readonly where: string;
  /** The marker's verdict (see {@link markerGate}), awaited before the first plan. */
  readonly markerChecked: () => Promise<boolean>;
  /** Filled with what the rounds write to the mailbox. */
  readonly written: MailboxWrites;
  /** Called before a plan with operations is applied: starts the marker write. */
  readonly applying: () => Promise<void>;
}

/**
 * Gathers both sides, plans, checks the guards and applies; items that changed while they
 * were written are re-planned in up to two more rounds. Returns the mailbox token that goes
 * with the first listing and the number of operations planned, or null when nothing was
 * applied (held, or a dry run).
 */
async function applyInRounds<T extends { readonly uid: Uid }>(
  ctx: RoundsContext<T>,
  collection: MailboxCollection,
  first: {
    listed: ItemRef[] | null;
    token: SyncToken | null;
    changes: ChangeSet | null;
    /** The firm side's change counter moved since the last sync. */
    firmChanged: boolean;
    /** The mailbox refused the last sync token (see {@link forgottenTokenReason}). */
    tokenRefused: boolean;
  },
): Promise<{ token: SyncToken | null; planned: number; examined: readonly Href[] | null } | null> {
  const { target, deps, settings, options, report, where } = ctx;
  const { user, kind } = target;
  const { firm } = deps;
  const { recovery } = options;
  let listedNow = first.listed;
  let listToken = first.token;
  let asked = first.changes;
  let token: SyncToken | null = null;
  let examined: readonly Href[] | null = null;
  let planned = 0;
  let slice = true;
  for (let round = 0; ; round++) {
    const sides = await gatherSides(collection, firm, deps.codec, target, {
      listed: listedNow,
      token: listToken,
      changes: asked,
      recovery,
      where,
      // A later round re-reads after this run's own writes: no shortcut then.
      firmChanged: round === 0 ? first.firmChanged : true,
      slice,
    });
    if (round === 0) {
      if (!(await ctx.markerChecked())) return null;
      token = sides.token;
      examined = sides.examined;
    }
    // An item the server would not hand over keeps the change list where it was (none
    // after a full listing): the next express run asks for its change again.
    let notRead = sides.mailbox.some((m) => m.notRead);
    const plan = planSync({
      codec: deps.codec,
      firm: sides.firm,
      mailbox: sides.mailbox,
      status: sides.status,
      setFields: SET_FIELDS[kind],
      options,
    });

    const sidesEmpty = { firmEmpty: sides.firmEmpty, mailboxEmpty: sides.mailboxEmpty };
    const pending = sides.waiting?.count ?? 0;
    if (!recovery && pending > 0 && holdReason(plan, sides.existing, sidesEmpty, settings.guards, pending)) {
      // Had every waiting pair a modification, a threshold would be crossed: they are
      // planned with the rest after all, so that the guards count the change exactly.
      slice = false;
      round--;
      continue;
    }
    if (round === 0) report.quarantined.push(...plan.quarantined);
    planned += plan.ops.length;

    let ops = plan.ops;
    if (!recovery) {
      const reason = holdReason(plan, sides.existing, sidesEmpty, settings.guards);
      if (reason !== null) {
        report.outcome = 'held';
        report.reason = reason;
        tallyPlan(plan, report);
        if (!settings.dryRun) {
          const rec = { user, login: target.login, kind, reason, plan: JSON.stringify(plan) };
          report.heldPlanId = await deps.held.saveHeld(rec);
        }
        return null;
      }
      // After the mailbox forgot the sync token, only the deletions wait for approval: the
      // rest (a client's edits made since) is applied, so that neither decision loses it.
      const forgotten = round === 0 && first.tokenRefused ? forgottenTokenReason(plan) : null;
      if (forgotten !== null) {
        const deletions = plan.ops.filter((o) => o.type === 'delete-in-firm');
        ops = plan.ops.filter((o) => o.type !== 'delete-in-firm');
        report.reason = `${forgotten}; the other changes were applied`;
        if (!settings.dryRun) {
          const held = JSON.stringify({ ...plan, ops: deletions, quarantined: [] });
          report.heldPlanId = await deps.held.saveHeld({
            user,
            login: target.login,
            kind,
            reason: forgotten,
            plan: held,
          });
        }
      }
    }
    const total = ops.length + pending;
    let done = 0;
    const apply = async (these: readonly Op[]) => {
      if (settings.dryRun) return;
      if (these.length > 0) await ctx.applying();
      const offset = done;
      done += these.length;
      await executePlan(these, {
        user,
        kind,
        runId: target.runId,
        codec: deps.codec,
        mailbox: collection,
        firm,
        report,
        onMailboxWrite: (href, etag) => ctx.written.set(href, etag),
        ...(deps.onProgress ? { onProgress: (d: number) => deps.onProgress?.(offset + d, total) } : {}),
      });
    };
    if (settings.dryRun) tallyPlan(plan, report);
    await apply(ops);
    for await (const part of sides.waiting?.slices() ?? []) {
      notRead ||= part.mailbox.some((m) => m.notRead);
      const partPlan = planSync({ codec: deps.codec, ...part, setFields: SET_FIELDS[kind], options });
      if (round === 0) report.quarantined.push(...partPlan.quarantined);
      planned += partPlan.ops.length;
      if (settings.dryRun) tallyPlan(partPlan, report);
      await apply(partPlan.ops);
    }
    if (round === 0 && notRead) token = first.token;
    if (settings.dryRun) return null;
    // Items that changed while this run wrote them (a failed precondition) are re-read and
    // re-planned now, against what they became — never retried blindly. Two more rounds at most.
    if (report.deferred === 0 || round >= 2) break;
    report.deferred = 0;
    listedNow = null;
    // From where this run started: a change the mailbox showed before this run, whose item
    // could not be written (the firm side changed under it), must be seen again, not skipped.
    listToken = first.token;
    asked = null;
  }
  // Items still deferred: the next run must see their changes again, so the change list
  // stays where this run found it (a listing run keeps none: the next one lists again).
  if (report.deferred > 0) token = first.token;
  return { token, planned, examined };
}

/** True when neither the status nor the firm side holds anything for this collection. */
async function bothSidesEmpty<T>(firm: FirmSyncStore<T>, target: CollectionTarget): Promise<boolean> {
  const status = await firm.loadStatus(target.user, target.kind);
  if (status.length > 0) return false;
  return (await firm.listItems(target.user, target.kind)).length === 0;
}
