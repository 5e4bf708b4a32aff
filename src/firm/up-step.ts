/**
 * The up step: user contacts created or changed since the user's up cursor flow to firm
 * contacts. Streams each user's changes in bounded batches, one transaction per batch (the
 * batch's writes and the cursor move together), and matches by indexed lookups of the batch's
 * keys only, never by reading the firm list.
 */
import type { FirmContactId, FirmItemId } from '../domain/ids.js';
import { emptyUserReport, type FirmUserReport, tallyUp } from './firm-report.js';
import type { FirmUser, UserContactLink } from './firm-types.js';
import { firmMatchKeys } from './match-keys.js';
import { planUp, type UpPlan } from './plan-up.js';
import type { FirmTx } from './ports.js';
import { FIRM_SYNC_ACTOR, newFirmIdOf, type StepContext, underLease } from './step-context.js';

/** Runs the up step for every user in `users`; returns one report per user. */
export async function runUpStep(ctx: StepContext, users: readonly FirmUser[]): Promise<FirmUserReport[]> {
  const { store } = ctx.deps;
  // Every change up to this value is committed and visible: the counter row is locked until
  // commit, so values become visible in order (see db/sequence.ts).
  const upto = await store.currentSeq();
  const cursors = await store.cursors(users.map((u) => u.id));
  const cursorOf = (u: FirmUser) => cursors.get(u.id)?.up ?? 0;
  const changed = await store.usersWithChanges(
    users.filter((u) => cursorOf(u) < upto).map((u) => u.id),
    upto,
  );
  const reports: FirmUserReport[] = [];
  const idle: FirmUser[] = [];
  for (const user of users) {
    const report = emptyUserReport(user.login, 'up', ctx.dryRun);
    reports.push(report);
    const cursor = cursorOf(user);
    if (!changed.has(user.id)) {
      // Nothing to take: no lease needed, and the cursor moves on so later scans start later.
      report.outcome = 'unchanged';
      if (cursor < upto) idle.push(user);
      continue;
    }
    await underLease(ctx, user, report, () => upForUser(ctx, user, cursor, upto, report));
  }
  if (!ctx.dryRun && idle.length > 0) {
    await store.advanceCursors(
      idle.map((u) => u.id),
      'up',
      upto,
    );
  }
  return reports;
}

async function upForUser(
  ctx: StepContext,
  user: FirmUser,
  cursor: number,
  upto: number,
  report: FirmUserReport,
): Promise<void> {
  let after = cursor;
  let seen = 0;
  for (;;) {
    const done = await ctx.deps.store.transaction({ firmWrites: true }, async (tx) => {
      const batch = await tx.changedUserContacts(user.id, after, upto, ctx.batchSize);
      const last = batch.at(-1);
      if (last === undefined) return null;
      const plan = await planUpBatch(tx, ctx, user, batch);
      const full = batch.length === ctx.batchSize;
      if (!ctx.dryRun) {
        // The cursor moves with the batch: a failed batch leaves it where the last good one put it.
        await tx.setCursor(user.id, 'up', full ? last.changeSeq : upto);
        await applyUpPlan(tx, plan, ctx.runId);
      }
      return { plan, last: last.changeSeq, full };
    });
    if (done !== null) {
      tallyUp(report, done.plan);
      seen += done.plan.outcomes.length;
      after = done.last;
    }
    if (done === null || !done.full) {
      // The last batch set the cursor to `upto` itself; an empty one did not.
      if (done === null && !ctx.dryRun) await ctx.deps.store.advanceCursors([user.id], 'up', upto);
      break;
    }
  }
  if (seen === 0) report.outcome = 'unchanged';
}

/**
 * Reads what the planner needs for a batch — the connected firm contacts, the candidates of the
 * batch's match keys, earlier new-contact reviews — and plans it. `preferences` overrides the
 * user's (an approved new-contact review is taken up as `firm`).
 */
export async function planUpBatch(
  tx: FirmTx,
  ctx: StepContext,
  user: FirmUser,
  batch: readonly UserContactLink[],
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
  const byEmail = await tx.firmIdsByEmail([...emails]);
  const byName = await tx.firmIdsByName([...names]);
  const ids = new Set<FirmContactId>();
  for (const c of batch) if (c.firmContactId !== null) ids.add(c.firmContactId);
  for (const list of [...byEmail.values(), ...byName.values()]) for (const id of list) ids.add(id);
  const firm = await tx.firmContacts([...ids]);
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
}
