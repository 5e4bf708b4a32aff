/**
 * Firm sync (SPEC §7): user contacts ⇄ firm contacts, one user at a time under the same
 * per-user leases as mailbox sync.
 */
import { LiaisonError } from '../domain/errors.js';
import { runDownStep } from './down-step.js';
import type { FirmRunReport, FirmStepChoice, FirmUserReport } from './firm-report.js';
import { totalsOf } from './firm-report.js';
import type { FirmSyncDeps } from './ports.js';
import { stepContext } from './step-context.js';
import { runUpStep } from './up-step.js';

/** At most this many server groups per run (SPEC §8). */
export const MAX_FIRM_GROUPS = 5;

/** What a firm sync run covers (`liaison firm-sync` options). */
export interface FirmSyncOptions {
  /** `both` runs up for every user, then down for every user, so one run spreads a change to all. */
  readonly step: FirmStepChoice;
  /** Server groups in scope (at most five); none = every user. */
  readonly groups: readonly string[];
  /** Plan and report without writing. Matching within a batch sees the batch's own planned creations. */
  readonly dryRun: boolean;
}

/**
 * Runs firm sync for the users of `groups` and returns its report, which is also stored with the
 * run. A busy user is skipped ("taken next run"), a failing user is reported and the run goes on;
 * neither throws. Throws `Usage` for more than five groups or an unknown step.
 */
export async function runFirmSync(deps: FirmSyncDeps, options: FirmSyncOptions): Promise<FirmRunReport> {
  if (options.groups.length > MAX_FIRM_GROUPS) {
    throw new LiaisonError(
      'Usage',
      `at most ${MAX_FIRM_GROUPS} server groups per run; ${options.groups.length} were given`,
    );
  }
  if (!['up', 'down', 'both'].includes(options.step)) {
    throw new LiaisonError('Usage', `--step must be up, down or both, not ${options.step}`);
  }
  const users = await deps.users.list([...new Set(options.groups)]);
  const startedAt = deps.now().toISOString();
  const runId = await deps.runs.start('firm-sync', options);
  const reports: FirmUserReport[] = [];
  const finish = (status: 'ok' | 'partial' | 'failed'): Promise<FirmRunReport> => {
    const report: FirmRunReport = {
      runId,
      step: options.step,
      groups: options.groups,
      dryRun: options.dryRun,
      startedAt,
      finishedAt: deps.now().toISOString(),
      users: reports,
      totals: totalsOf(reports),
    };
    return deps.runs.finish(runId, status, report).then(() => report);
  };
  try {
    const ctx = stepContext(deps, runId, options.dryRun);
    if (options.step !== 'down') reports.push(...(await runUpStep(ctx, users)));
    if (options.step !== 'up') reports.push(...(await runDownStep(ctx, users)));
  } catch (e) {
    // Per-user errors never get here; this is the database failing between users.
    await finish('failed').catch(() => {});
    throw e;
  }
  return finish(reports.some((r) => r.outcome === 'failed') ? 'partial' : 'ok');
}
