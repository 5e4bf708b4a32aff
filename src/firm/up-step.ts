/**
 * The up step: user contacts created or changed since the user's up cursor flow to firm
 * contacts. Matching is by indexed lookups of a batch's keys only, never by reading the firm
 * list.
 *
 * Users with a few changes (the usual run: a handful of edits each) are taken together, a group
 * per transaction: their plans are made one after the other, each seeing the firm contacts the
 * ones before it would create or change (`PlannedFirm`), and written at once — an incremental
 * run then costs a few statements per group, not per user. A user with more changes (the first
 * run, a mass import) is streamed on their own in bounded batches, each batch in one transaction
 * with the cursor move. Either way a database error fails one user only: a failed group is rolled
 * back and taken again user by user.
 */
import type { FirmContactId, FirmItemId } from '../domain/ids.js';
import { emptyUserReport, type FirmUserReport, tallyUp } from './firm-report.js';
import type { FirmUser, UserContactLink } from './firm-types.js';
import { firmMatchKeys } from './match-keys.js';
import { planUp, type UpPlan } from './plan-up.js';
import { mergeFirmWrites, PlannedFirm } from './planned-firm.js';
import type { FirmReads, FirmTx } from './ports.js';
import {
  FIRM_SYNC_ACTOR,
  finishStep,
  newFirmIdOf,
  type StepContext,
  settle,
  type UserEntry,
  underLease,
  underLeases,
} from './step-context.js';

/** A user with at most this many changes is taken in a group with others. */
export const FEW_CHANGES = 10;

/** Runs the up step for every user in `users`; returns one report per user. */
export async function runUpStep(ctx: StepContext, users: readonly FirmUser[]): Promise<FirmUserReport[]> {
  const { store } = ctx.deps;
  // Every change up to this value is committed and visible: the counter row is locked until
  // commit, so values become visible in order (see db/sequence.ts).
  const upto = await store.currentSeq();
  const cursors = await store.cursors(users.map((u) => u.id));
  const cursorOf = (u: FirmUser) => cursors.get(u.id)?.up ?? 0;
  const behind = users.filter((u) => cursorOf(u) < upto).map((u) => u.id);
  const changed = await store.usersWithChanges(behind, upto);
  const few = Math.min(FEW_CHANGES, ctx.batchSize);
  const many = await store.usersWithManyChanges([...changed], upto, few);
  // Groups of users with few changes: at most `batchSize` contacts per transaction.
  const groupSize = Math.max(1, Math.floor(ctx.batchSize / few));
  const reports: FirmUserReport[] = [];
  const idle: FirmUser[] = [];
  let group: UserEntry[] = [];
  const flush = async () => {
    if (group.length > 0) await upGroup(ctx, group, cursorOf, upto);
    group = [];
  };
  // In the users' order, so that a run matches as it always did: who creates, who connects.
  for (const user of users) {
    const report = emptyUserReport(user.login, 'up', ctx.dryRun);
    reports.push(report);
    if (!changed.has(user.id)) {
      // Nothing to take: no lease needed, and the cursor moves on so later scans start later.
      report.outcome = 'unchanged';
      if (cursorOf(user) < upto) idle.push(user);
      continue;
    }
    if (!many.has(user.id)) {
      group.push({ user, report });
      if (group.length >= groupSize) await flush();
      continue;
    }
    await flush();
    await underLease(ctx, user, report, () => upForUser(ctx, user, cursorOf(user), upto, report));
  }
  await flush();
  return finishStep(ctx, 'up', reports, idle, upto);
}

/** One user's plan in a group: where their batch ended, and whether more may follow. */
interface Planned {
  readonly entry: UserEntry;
  readonly plan: UpPlan;
  readonly last: number;
  readonly full: boolean;
}

/**
 * Takes a group of users in one transaction. When it fails, nothing of it stands, and each user
 * is taken again alone, so that an error fails only the user it belongs to.
 */
async function upGroup(
  ctx: StepContext,
  entries: readonly UserEntry[],
  cursorOf: (u: FirmUser) => number,
  upto: number,
): Promise<void> {
  await underLeases(ctx, entries, async (held) => {
    let done: Planned[];
    try {
      done = await ctx.deps.store.transaction({ firmWrites: true }, (tx) =>
        upGroupIn(tx, ctx, held, cursorOf, upto),
      );
    } catch {
      for (const e of held)
        await settle(e.report, () => upForUser(ctx, e.user, cursorOf(e.user), upto, e.report));
      return;
    }
    for (const d of done) tallyUp(d.entry.report, d.plan);
    // A user whose batch filled up (a batch size below FEW_CHANGES): the rest alone.
    for (const d of done.filter((p) => p.full)) {
      await settle(d.entry.report, () => upForUser(ctx, d.entry.user, d.last, upto, d.entry.report));
    }
  });
}

async function upGroupIn(
  tx: FirmTx,
  ctx: StepContext,
  held: readonly UserEntry[],
  cursorOf: (u: FirmUser) => number,
  upto: number,
): Promise<Planned[]> {
  // Plans of the group see each other's firm contacts before any is written.
  const planned = new PlannedFirm();
  const reads = planned.over(ctx.planned?.over(tx) ?? tx);
  const done: Planned[] = [];
  for (const entry of held) {
    const batch = await tx.changedUserContacts(entry.user.id, cursorOf(entry.user), upto, ctx.batchSize);
    const last = batch.at(-1);
    if (last === undefined) continue;
    const plan = await planUpBatch(tx, ctx, entry.user, batch, reads);
    planned.record(plan.firmWrites);
    done.push({ entry, plan, last: last.changeSeq, full: batch.length === ctx.batchSize });
  }
  const firmWrites = mergeFirmWrites(done.map((d) => d.plan.firmWrites));
  if (ctx.dryRun) ctx.planned?.record(firmWrites);
  else {
    const complete = held.filter((e) => !done.some((d) => d.entry === e && d.full)).map((e) => e.user.id);
    await tx.setCursors(complete, 'up', upto);
    for (const d of done.filter((p) => p.full)) await tx.setCursors([d.entry.user.id], 'up', d.last);
    await applyUpPlan(
      tx,
      {
        firmWrites,
        links: done.flatMap((d) => d.plan.links),
        bases: done.flatMap((d) => d.plan.bases),
        reviews: done.flatMap((d) => d.plan.reviews),
        journal: done.flatMap((d) => d.plan.journal),
        outcomes: [],
      },
      ctx.runId,
    );
  }
  return done;
}

/** One user alone, batch after batch from `cursor`, each batch in a transaction with its cursor move. */
async function upForUser(
  ctx: StepContext,
  user: FirmUser,
  cursor: number,
  upto: number,
  report: FirmUserReport,
): Promise<void> {
  let after = cursor;
  for (;;) {
    const done = await ctx.deps.store.transaction({ firmWrites: true }, async (tx) => {
      const batch = await tx.changedUserContacts(user.id, after, upto, ctx.batchSize);
      const last = batch.at(-1);
      if (last === undefined) return null;
      const plan = await planUpBatch(tx, ctx, user, batch, ctx.planned?.over(tx) ?? tx);
      const full = batch.length === ctx.batchSize;
      if (ctx.dryRun) ctx.planned?.record(plan.firmWrites);
      else {
        // The cursor moves with the batch: a failed batch leaves it where the last good one put it.
        await tx.setCursors([user.id], 'up', full ? last.changeSeq : upto);
        await applyUpPlan(tx, plan, ctx.runId);
      }
      return { plan, last: last.changeSeq, full };
    });
    if (done !== null) {
      tallyUp(report, done.plan);
      after = done.last;
    }
    if (done === null || !done.full) {
      // The last batch set the cursor to `upto` itself; an empty one did not.
      if (done === null && !ctx.dryRun) await ctx.deps.store.advanceCursors([user.id], 'up', upto);
      break;
    }
  }
}

/**
 * Reads what the planner needs for a batch — the connected firm contacts, the candidates of the
 * batch's match keys (through `lookups`: the stored firm contacts, or those with the ones planned
 * before), earlier new-contact reviews — and plans it. The user's preferences may be overridden
 * (an approved new-contact review is taken up as `firm`).
 */
export async function planUpBatch(
  tx: FirmTx,
  ctx: StepContext,
  user: FirmUser,
  batch: readonly UserContactLink[],
  lookups: Pick<FirmReads, 'firmContacts' | 'firmIdsByEmail' | 'firmIdsByName'> = tx,
): Promise<UpPlan> {
  const fresh = batch.filter((c) => c.firmContactId === null && !c.contact.private && !c.detached);
  const emails = new Set<string>();
  const names = new Set<string>();
  if (user.preferences.newContacts === 'firm') {
    for (const c of fresh) {
      const keys = firmMatchKeys(c.contact);
      for (const e of keys.emails) emails.add(e);
      if (keys.name !== '') names.add(keys.name);
    }
  }
  const byEmail = await lookups.firmIdsByEmail([...emails]);
  const byName = await lookups.firmIdsByName([...names]);
  const ids = new Set<FirmContactId>();
  for (const c of batch) if (c.firmContactId !== null) ids.add(c.firmContactId);
  for (const list of [...byEmail.values(), ...byName.values()]) for (const id of list) ids.add(id);
  const firm = await lookups.firmContacts([...ids]);
  const asked = new Set<FirmItemId>();
  if (user.preferences.newContacts === 'ask' && fresh.length > 0) {
    for (const r of await tx.reviewsOf(fresh.map((c) => c.id))) {
      if (r.kind === 'new-contact') asked.add(r.userContactId);
    }
  }
  return planUp({
    user,
    runId: ctx.runId,
    at: ctx.deps.now().toISOString(),
    contacts: batch,
    firm,
    byEmail,
    byName,
    asked,
    newFirmId: newFirmIdOf(ctx.deps),
  });
}

/**
 * Writes an up plan. Reviews and journal need no change sequence value: they go first, so that
 * the sequence row (locked from the moment values are taken until commit) is held briefly. Then
 * firm contacts (links refer to them), then links: taking sequence values before locking user
 * contact rows keeps one lock order in every transaction (no deadlocks).
 */
export async function applyUpPlan(
  tx: FirmTx,
  plan: UpPlan,
  runId: string | null,
  actor = FIRM_SYNC_ACTOR,
): Promise<void> {
  await tx.addReviews(plan.reviews);
  await tx.journal(plan.journal, actor, runId);
  await tx.writeFirmContacts(plan.firmWrites);
  await tx.writeLinks(plan.links);
  await tx.writeBases(plan.bases);
}
