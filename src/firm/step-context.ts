import { errorMessage, isLiaisonError } from '../domain/errors.js';
import { asFirmContactId, type FirmContactId } from '../domain/ids.js';
import { LEASE_MS, withUserLease } from '../sync/user-lease.js';
import { BUSY_REASON, type FirmUserReport, settleOutcome } from './firm-report.js';
import type { FirmStep, FirmUser } from './firm-types.js';
import { PlannedFirm } from './planned-firm.js';
import type { FirmSyncDeps } from './ports.js';

/** The journal actor of everything a firm sync run changes. */
export const FIRM_SYNC_ACTOR = 'firm-sync';
/** User contacts per transaction: bounds memory and the time a transaction holds its locks. */
export const DEFAULT_BATCH_SIZE = 500;

/** What one step of a run works with. */
export interface StepContext {
  readonly deps: FirmSyncDeps;
  readonly runId: string | null;
  readonly dryRun: boolean;
  readonly batchSize: number;
  /**
   * A dry run's planned firm contacts, for the whole run: nothing is written, yet each batch must
   * match against what the batches before it would have created. Null on a real run.
   */
  readonly planned: PlannedFirm | null;
}

/** The context of a step of run `runId` (null outside a run: reviews, undo). */
export function stepContext(deps: FirmSyncDeps, runId: string | null, dryRun: boolean): StepContext {
  return {
    deps,
    runId,
    dryRun,
    batchSize: Math.max(1, deps.batchSize ?? DEFAULT_BATCH_SIZE),
    planned: dryRun ? new PlannedFirm() : null,
  };
}

/** The deps' id maker, typed for firm contacts. */
export function newFirmIdOf(deps: FirmSyncDeps): () => FirmContactId {
  return () => asFirmContactId(deps.newId());
}

/**
 * Runs a user's part of a step under the user's lease, shared with mailbox sync. A user whose
 * lease another holder has is skipped, not waited for (SPEC §7); an error fails that user only.
 * A contact edited while firm sync wrote it is left for the next run, not reported as a failure.
 */
export async function underLease(
  ctx: StepContext,
  user: FirmUser,
  report: FirmUserReport,
  work: () => Promise<void>,
): Promise<void> {
  try {
    const ran = await withUserLease(ctx.deps.locks, user.id, ctx.deps.holder, () => settle(report, work));
    if (!ran) {
      report.outcome = 'skipped';
      report.reason = BUSY_REASON;
    }
  } catch (e) {
    // Taking or giving back the lease failed (the database is gone, say).
    report.outcome = 'failed';
    report.reason = errorMessage(e);
  }
}

/**
 * Runs a user's part of a step, the lease held: an error fails that user only, and a contact
 * edited while firm sync wrote it leaves the user for the next run.
 */
export async function settle(report: FirmUserReport, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (isLiaisonError(e, 'PreconditionFailed')) {
      report.outcome = 'skipped';
      report.reason = `${errorMessage(e)}; taken next run`;
    } else {
      report.outcome = 'failed';
      report.reason = errorMessage(e);
    }
  }
}

/** A user of a step and their report. */
export interface UserEntry {
  readonly user: FirmUser;
  readonly report: FirmUserReport;
}

/**
 * `underLease` for a group of users taken together: runs `work` with those whose lease it could
 * take, renewing the leases while it runs. A user another sync holds is reported busy and left
 * out (taken next run); one whose lease cannot be taken or given back fails. `work` must settle
 * each user's outcome itself (see `settle`).
 */
export async function underLeases(
  ctx: StepContext,
  entries: readonly UserEntry[],
  work: (held: readonly UserEntry[]) => Promise<void>,
): Promise<void> {
  const { locks, holder } = ctx.deps;
  const held: UserEntry[] = [];
  const fail = (e: UserEntry, error: unknown) => {
    e.report.outcome = 'failed';
    e.report.reason = errorMessage(error);
  };
  try {
    for (const e of entries) {
      try {
        if (await locks.tryAcquire(e.user.id, holder, LEASE_MS)) held.push(e);
        else {
          e.report.outcome = 'skipped';
          e.report.reason = BUSY_REASON;
        }
      } catch (error) {
        fail(e, error);
      }
    }
    if (held.length === 0) return;
    // As `withUserLease` does: renewed well before it runs out, so that two missed renewals are harmless.
    const timer = setInterval(() => {
      for (const e of held) locks.renew(e.user.id, holder, LEASE_MS).catch(() => {});
    }, LEASE_MS / 3);
    timer.unref();
    try {
      await work(held);
    } finally {
      clearInterval(timer);
    }
  } finally {
    for (const e of held) {
      try {
        await locks.release(e.user.id, holder);
      } catch (error) {
        fail(e, error);
      }
    }
  }
}

/**
 * Ends a step: settles each user's outcome, and moves the cursor of the users who had nothing
 * to take up to `upto` (not on a dry run), so that the next run does not look again.
 */
export async function finishStep(
  ctx: StepContext,
  step: FirmStep,
  reports: FirmUserReport[],
  idle: readonly FirmUser[],
  upto: number,
): Promise<FirmUserReport[]> {
  for (const r of reports) settleOutcome(r);
  if (!ctx.dryRun && idle.length > 0) {
    await ctx.deps.store.advanceCursors(
      idle.map((u) => u.id),
      step,
      upto,
    );
  }
  return reports;
}
