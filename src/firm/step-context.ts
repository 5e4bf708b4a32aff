import { errorMessage, isLiaisonError } from '../domain/errors.js';
import { asFirmContactId, type FirmContactId } from '../domain/ids.js';
import { withUserLease } from '../sync/user-lease.js';
import { BUSY_REASON, type FirmUserReport } from './firm-report.js';
import type { FirmUser } from './firm-types.js';
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
}

/** The context of a step of run `runId` (null outside a run: reviews, undo). */
export function stepContext(deps: FirmSyncDeps, runId: string | null, dryRun: boolean): StepContext {
  return {
    deps,
    runId,
    dryRun,
    batchSize: Math.max(1, deps.batchSize ?? DEFAULT_BATCH_SIZE),
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
    const ran = await withUserLease(ctx.deps.locks, user.id, ctx.deps.holder, async () => {
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
    });
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
