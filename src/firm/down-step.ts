/**
 * The down step: firm contacts written since a user's down cursor flow to that user's connected
 * contacts, field by field. The changed firm contacts are found once for the whole run, with the
 * user contacts connected to them, so that an incremental cycle costs in proportion to the
 * changes and not to the number of users times their contacts; and the users concerned are taken
 * in groups, one transaction per group of up to `batchSize` user contacts, so that it does not
 * cost a few statements per user either. A failed group is rolled back and taken again user by
 * user, so that an error fails only the user it belongs to.
 *
 * A user further behind than `TARGETED_LIMIT` changed firm contacts (the first run, a mass
 * import, a user long busy) has their connected contacts scanned instead, in bounded batches, so
 * that memory stays bounded.
 *
 * What the down step writes is not a change for the up step to take back: when nothing else of
 * the user waits for the up step, their up cursor moves past these writes in the same
 * transaction (otherwise the next up step would read every contact written here, to find it
 * unchanged).
 */
import type { FirmItemId, UserId } from '../domain/ids.js';
import { chunk } from './chunk.js';
import { emptyUserReport, type FirmUserReport, tallyDown } from './firm-report.js';
import type { DownRow, FirmCursor, FirmReview, FirmUser, SeqRange } from './firm-types.js';
import { type DownPlan, planDown } from './plan-down.js';
import type { FirmTx } from './ports.js';
import {
  FIRM_SYNC_ACTOR,
  finishStep,
  type StepContext,
  settle,
  type UserEntry,
  underLease,
  underLeases,
} from './step-context.js';

/** Up to this many changed firm contacts, the run finds the affected user contacts up front. */
export const TARGETED_LIMIT = 20_000;
const PAGE = 1_000;

/** A user of the targeted path and the connected contacts to look at. */
interface Targeted extends UserEntry {
  readonly ids: readonly FirmItemId[];
}

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
  let group: Targeted[] = [];
  let rows = 0;
  const flush = async () => {
    if (group.length > 0) await downGroup(ctx, group, cursors, upto);
    group = [];
    rows = 0;
  };
  for (const user of users) {
    const report = emptyUserReport(user.login, 'down', ctx.dryRun);
    reports.push(report);
    const cursor = cursorOf(user);
    // Lagging behind the targeted range (first run, long busy): scan the user's connections.
    const ids = cursor >= from ? [...new Set(targeted.get(user.id) ?? [])] : null;
    if (cursor >= upto || ids?.length === 0) {
      report.outcome = 'unchanged';
      if (cursor < upto) idle.push(user);
      continue;
    }
    if (ids !== null && ids.length <= ctx.batchSize) {
      if (rows + ids.length > ctx.batchSize) await flush();
      group.push({ user, report, ids });
      rows += ids.length;
      continue;
    }
    await flush();
    await underLease(ctx, user, report, () =>
      ids === null
        ? scanUser(ctx, user, cursors.get(user.id), upto, report)
        : downByIds(ctx, user, cursors.get(user.id), ids, upto, report),
    );
  }
  await flush();
  return finishStep(ctx, 'down', reports, idle, upto);
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
 * Takes a group of users in one transaction: their rows read at once, a plan per user, the
 * writes of all at once. When it fails, nothing of it stands, and each user is taken again alone.
 */
async function downGroup(
  ctx: StepContext,
  entries: readonly Targeted[],
  cursors: ReadonlyMap<UserId, FirmCursor>,
  upto: number,
): Promise<void> {
  await underLeases(ctx, entries, async (held) => {
    const group = entries.filter((e) => held.includes(e));
    let plans: DownPlan[];
    try {
      plans = await ctx.deps.store.transaction({ firmWrites: false }, async (tx) => {
        const users = group.map((e) => e.user);
        const rows = await tx.downRowsOf(
          users.map((u) => u.id),
          group.flatMap((e) => e.ids),
        );
        return planAndApply(tx, ctx, users, rows, cursors, upto);
      });
    } catch {
      for (const e of group) {
        await settle(e.report, () => downByIds(ctx, e.user, cursors.get(e.user.id), e.ids, upto, e.report));
      }
      return;
    }
    for (const [i, e] of group.entries()) tallyDown(e.report, plans[i]!);
  });
}

/**
 * One user's connected contacts by id, in batches of `batchSize`, each in its transaction. The
 * cursor moves to `upto` with the last batch: a failure before leaves it where it was, and the
 * next run does the user's part again (bringing down is idempotent: a value already brought down
 * equals the base and is not written twice).
 */
async function downByIds(
  ctx: StepContext,
  user: FirmUser,
  cursor: FirmCursor | undefined,
  ids: readonly FirmItemId[],
  upto: number,
  report: FirmUserReport,
): Promise<void> {
  const parts = chunk([...new Set(ids)], ctx.batchSize);
  for (const [i, part] of parts.entries()) {
    const [plan] = await ctx.deps.store.transaction({ firmWrites: false }, async (tx) => {
      const rows = await tx.downRowsOf([user.id], part);
      return planAndApply(
        tx,
        ctx,
        [user],
        rows,
        new Map(cursor ? [[user.id, cursor]] : []),
        i === parts.length - 1 ? upto : null,
      );
    });
    tallyDown(report, plan!);
  }
}

async function scanUser(
  ctx: StepContext,
  user: FirmUser,
  cursor: FirmCursor | undefined,
  upto: number,
  report: FirmUserReport,
): Promise<void> {
  let after = { seq: cursor?.down ?? 0, userContactId: '' };
  const cursors = new Map(cursor ? [[user.id, cursor]] : []);
  for (;;) {
    const done = await ctx.deps.store.transaction({ firmWrites: false }, async (tx) => {
      const rows = await tx.downRowsAfter(user.id, after, upto, ctx.batchSize);
      const last = rows.at(-1);
      const full = rows.length === ctx.batchSize;
      if (last === undefined) {
        if (!ctx.dryRun) await tx.setCursors([user.id], 'down', upto);
        return null;
      }
      const [plan] = await planAndApply(tx, ctx, [user], rows, cursors, full ? null : upto);
      return { plan: plan!, last, full };
    });
    if (done === null) break;
    tallyDown(report, done.plan);
    after = { seq: done.last.firm.seq, userContactId: done.last.userContact.id };
    if (!done.full) break;
  }
}

/**
 * Plans one batch for each of `users` and writes them all; with `cursor`, their down cursors move
 * there in the same transaction. Returns the plans in the order of `users`.
 */
async function planAndApply(
  tx: FirmTx,
  ctx: StepContext,
  users: readonly FirmUser[],
  rows: readonly DownRow[],
  cursors: ReadonlyMap<UserId, FirmCursor>,
  cursor: number | null,
): Promise<DownPlan[]> {
  const rowsOf = new Map<UserId, DownRow[]>(users.map((u) => [u.id, []]));
  for (const r of rows) rowsOf.get(r.userContact.user)?.push(r);
  const reviewed = users.filter((u) => u.preferences.updates === 'review');
  const reviews = new Map<FirmItemId, FirmReview[]>();
  const asked = reviewed.flatMap((u) => rowsOf.get(u.id)!.map((r) => r.userContact.id));
  if (asked.length > 0) {
    for (const r of await tx.reviewsOf(asked))
      reviews.set(r.userContactId, [...(reviews.get(r.userContactId) ?? []), r]);
  }
  const plans = users.map((user) => {
    const mine = rowsOf.get(user.id)!;
    return planDown({ user, rows: mine, reviews: mine.flatMap((r) => reviews.get(r.userContact.id) ?? []) });
  });
  if (!ctx.dryRun) {
    if (cursor !== null) {
      await tx.setCursors(
        users.map((u) => u.id),
        'down',
        cursor,
      );
    }
    const written = await applyDownPlan(tx, mergeDownPlans(plans), ctx.runId);
    // Users none of whose contacts had a change waiting for the up step, and whose contacts read
    // as the firm values after the write: nothing here for the up step to take.
    const passed = users.filter((u, i) => {
      const up = cursors.get(u.id)?.up ?? 0;
      const writes = plans[i]!.contactWrites;
      return writes.length > 0 && !plans[i]!.pendingUp && writes.every((w) => w.expectedSeq <= up);
    });
    if (written !== null && passed.length > 0)
      await tx.passUpCursors(
        passed.map((u) => u.id),
        written,
      );
  }
  return plans;
}

function mergeDownPlans(plans: readonly DownPlan[]): DownPlan {
  return {
    contactWrites: plans.flatMap((p) => p.contactWrites),
    journal: plans.flatMap((p) => p.journal),
    baseWrites: plans.flatMap((p) => p.baseWrites),
    reviews: plans.flatMap((p) => p.reviews),
    supersede: plans.flatMap((p) => p.supersede),
    outcomes: plans.flatMap((p) => p.outcomes),
    pendingUp: plans.some((p) => p.pendingUp),
  };
}

/**
 * Writes a down plan: reviews and journal first, then the user contacts as CRM edits and the
 * caught-up bases. Rows a CRM edit also locks (user contacts, the collection's counter) come
 * after the change sequence value, as in a CRM edit: one lock order, no deadlock; and what does
 * not need the sequence comes before it, so that its lock is held briefly. Returns the change
 * sequence values the contact writes took, or null when there were none.
 */
export async function applyDownPlan(
  tx: FirmTx,
  plan: DownPlan,
  runId: string | null,
  actor = FIRM_SYNC_ACTOR,
): Promise<SeqRange | null> {
  await tx.resolveReviews(plan.supersede, 'superseded');
  await tx.addReviews(plan.reviews);
  await tx.journal(plan.journal, actor, runId);
  const written = await tx.writeUserContacts(plan.contactWrites);
  await tx.writeBases(plan.baseWrites);
  return written;
}
