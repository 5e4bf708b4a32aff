/**
 * The down step: firm contacts written since a user's down cursor flow to that user's connected
 * contacts, field by field. The changed firm contacts are found once for the whole run, with the
 * user contacts connected to them, so that an incremental cycle costs in proportion to the
 * changes and not to the number of users times their contacts. A user further behind than
 * `TARGETED_LIMIT` changed firm contacts (the first run, a mass import, a user long busy) has
 * their connected contacts scanned instead, in bounded batches, so that memory stays bounded.
 */
import type { FirmItemId, UserId } from '../domain/ids.js';
import { chunk } from './chunk.js';
import { emptyUserReport, type FirmUserReport, tallyDown } from './firm-report.js';
import type { DownRow, FirmUser } from './firm-types.js';
import { type DownPlan, planDown } from './plan-down.js';
import type { FirmTx } from './ports.js';
import { FIRM_SYNC_ACTOR, type StepContext, underLease } from './step-context.js';

/** Up to this many changed firm contacts, the run finds the affected user contacts up front. */
export const TARGETED_LIMIT = 20_000;
const PAGE = 1_000;

/** Runs the down step for every user in `users`; returns one report per user. */
export async function runDownStep(ctx: StepContext, users: readonly FirmUser[]): Promise<FirmUserReport[]> {
  const { store } = ctx.deps;
  const upto = await store.currentSeq();
  const cursors = await store.cursors(users.map((u) => u.id));
  const cursorOf = (u: FirmUser) => cursors.get(u.id)?.down ?? 0;
  const from = await targetedFrom(ctx, users.map(cursorOf), upto);
  const targetedUsers = users.filter((u) => cursorOf(u) >= from && cursorOf(u) < upto);
  const targeted = await affectedUserContacts(ctx, targetedUsers, cursorOf, from, upto);
  const reports: FirmUserReport[] = [];
  const idle: FirmUser[] = [];
  for (const user of users) {
    const report = emptyUserReport(user.login, 'down', ctx.dryRun);
    reports.push(report);
    const cursor = cursorOf(user);
    // Lagging behind the targeted range (first run, long busy): scan the user's connections.
    const ids = cursor >= from ? (targeted.get(user.id) ?? []) : null;
    if (cursor >= upto || ids?.length === 0) {
      report.outcome = 'unchanged';
      if (cursor < upto) idle.push(user);
      continue;
    }
    await underLease(ctx, user, report, async () => {
      const seen =
        ids === null
          ? await scanUser(ctx, user, cursor, upto, report)
          : await downByIds(ctx, user, ids, upto, report);
      if (seen === 0) report.outcome = 'unchanged';
    });
  }
  if (!ctx.dryRun && idle.length > 0) {
    await store.advanceCursors(
      idle.map((u) => u.id),
      'down',
      upto,
    );
  }
  return reports;
}

/**
 * The lowest cursor from which the changed firm contacts are few enough (`TARGETED_LIMIT`) to be
 * followed to their user contacts; users whose cursor lies below are scanned instead. Usually
 * every user shares one or two cursor values, so this costs a query or two.
 */
async function targetedFrom(ctx: StepContext, cursors: readonly number[], upto: number): Promise<number> {
  let from = upto;
  const distinct = [...new Set(cursors.filter((c) => c < upto))].sort((a, b) => b - a);
  for (const cursor of distinct.slice(0, 16)) {
    if ((await ctx.deps.store.countFirmChanges(cursor, upto, TARGETED_LIMIT)) > TARGETED_LIMIT) break;
    from = cursor;
  }
  return from;
}

/** Per user in scope, the connected contacts whose firm contact changed since that user's cursor. */
async function affectedUserContacts(
  ctx: StepContext,
  users: readonly FirmUser[],
  cursorOf: (u: FirmUser) => number,
  from: number,
  upto: number,
): Promise<Map<UserId, FirmItemId[]>> {
  const cursor = new Map(users.map((u) => [u.id, cursorOf(u)]));
  const out = new Map<UserId, FirmItemId[]>();
  if (users.length === 0) return out;
  let after = from;
  for (;;) {
    const page = await ctx.deps.store.firmChangesAfter(after, upto, PAGE);
    const last = page.at(-1);
    if (last === undefined) break;
    const seqOf = new Map(page.map((p) => [p.id, p.seq]));
    for (const link of await ctx.deps.store.linksOf(page.map((p) => p.id))) {
      const since = cursor.get(link.user);
      if (since === undefined || (seqOf.get(link.firmContactId) ?? 0) <= since) continue;
      const list = out.get(link.user);
      if (list === undefined) out.set(link.user, [link.id]);
      else list.push(link.id);
    }
    after = last.seq;
    if (page.length < PAGE) break;
  }
  return out;
}

/**
 * The cursor moves to `upto` with the user's last batch, in its transaction: a failure before
 * leaves it where it was, and the next run does the user's part again (bringing down is
 * idempotent: a value already brought down equals the base and is not written twice).
 */
async function downByIds(
  ctx: StepContext,
  user: FirmUser,
  ids: readonly FirmItemId[],
  upto: number,
  report: FirmUserReport,
): Promise<number> {
  let seen = 0;
  const parts = chunk([...new Set(ids)], ctx.batchSize);
  for (const [i, part] of parts.entries()) {
    const plan = await ctx.deps.store.transaction({ firmWrites: false }, async (tx) => {
      const rows = await tx.downRowsOf(user.id, part);
      return planAndApply(tx, ctx, user, rows, i === parts.length - 1 ? upto : null);
    });
    tallyDown(report, plan);
    seen += plan.outcomes.length;
  }
  return seen;
}

async function scanUser(
  ctx: StepContext,
  user: FirmUser,
  cursor: number,
  upto: number,
  report: FirmUserReport,
): Promise<number> {
  let after = { seq: cursor, userContactId: '' };
  let seen = 0;
  for (;;) {
    const done = await ctx.deps.store.transaction({ firmWrites: false }, async (tx) => {
      const rows = await tx.downRowsAfter(user.id, after, upto, ctx.batchSize);
      const last = rows.at(-1);
      const full = rows.length === ctx.batchSize;
      if (last === undefined) {
        if (!ctx.dryRun) await tx.setCursor(user.id, 'down', upto);
        return null;
      }
      const plan = await planAndApply(tx, ctx, user, rows, full ? null : upto);
      return { plan, last, full };
    });
    if (done === null) break;
    tallyDown(report, done.plan);
    seen += done.plan.outcomes.length;
    after = { seq: done.last.firm.seq, userContactId: done.last.userContact.id };
    if (!done.full) break;
  }
  return seen;
}

/** Plans and writes one batch; with `cursor`, the user's down cursor moves there in the same transaction. */
async function planAndApply(
  tx: FirmTx,
  ctx: StepContext,
  user: FirmUser,
  rows: readonly DownRow[],
  cursor: number | null,
): Promise<DownPlan> {
  const reviews =
    user.preferences.updates === 'review' && rows.length > 0
      ? await tx.reviewsOf(rows.map((r) => r.userContact.id))
      : [];
  const plan = planDown({ user, rows, reviews });
  if (!ctx.dryRun) {
    if (cursor !== null) await tx.setCursor(user.id, 'down', cursor);
    await applyDownPlan(tx, plan, ctx.runId);
  }
  return plan;
}

/**
 * Writes a down plan: reviews and journal first, then the user contacts as CRM edits and the
 * caught-up bases. Rows a CRM edit also locks (user contacts, the collection's counter) come
 * after the change sequence value, as in a CRM edit: one lock order, no deadlock; and what does
 * not need the sequence comes before it, so that its lock is held briefly.
 */
export async function applyDownPlan(
  tx: FirmTx,
  plan: DownPlan,
  runId: string | null,
  actor = FIRM_SYNC_ACTOR,
): Promise<void> {
  await tx.resolveReviews(plan.supersede, 'superseded');
  await tx.addReviews(plan.reviews);
  await tx.journal(plan.journal, actor, runId);
  await tx.writeUserContacts(plan.contactWrites);
  await tx.writeBases(plan.baseWrites);
}
