/**
 * The report of a firm sync run, in the style of mailbox sync's (`sync/report.ts`): one entry
 * per user and step, an outcome, a reason when skipped or failed, and counts.
 */
import type { FirmItemId } from '../domain/ids.js';
import { type CollectionOutcome, EXIT } from '../sync/report.js';
import type { FirmStep } from './firm-types.js';
import type { DownPlan } from './plan-down.js';
import type { UpPlan } from './plan-up.js';

/** Which steps a run takes. */
export type FirmStepChoice = FirmStep | 'both';

/** What a run did, summed per user and step (and over the run in `totals`). */
export interface FirmCounts {
  firmCreated: number;
  firmUpdated: number;
  /** User contacts connected to an existing firm contact (a match). */
  connected: number;
  disconnected: number;
  /** Firm contacts created as possible duplicates of several candidates (also in `firmCreated`). */
  flaggedDuplicates: number;
  userContactsUpdated: number;
  reviewsHeld: number;
  /** User contacts with neither a name nor an e-mail address: kept, not matched. */
  notMatched: number;
  /** Private contacts, and contacts kept private by preference. */
  keptPrivate: number;
  /** Contacts whose firm contact was deleted: kept in the user's list, not connected again. */
  detached: number;
  /** Contact groups (KIND:group): a user's own lists, not people. */
  groups: number;
  /** Fields another user had changed differently too: this user's value taken, the other journaled. */
  overruled: number;
}

/**
 * What became of one user in one step, in mailbox sync's words (`sync/report.ts`): `synced`
 * (applied, or planned on a dry run), `unchanged` (nothing to carry), `skipped` (busy: taken
 * next run), `failed` (that user's batch was rolled back). Firm sync holds no plan.
 */
export type FirmOutcome = Exclude<CollectionOutcome, 'held'>;

/** At most this many not-matched contacts are named per user and step. */
export const NAMED_NOT_MATCHED = 50;

/** What one run did for one user in one step. */
export interface FirmUserReport {
  readonly user: string;
  readonly step: FirmStep;
  outcome: FirmOutcome;
  reason: string | null;
  readonly counts: FirmCounts;
  /** The first few contacts that could not be matched (no name, no e-mail). */
  readonly notMatched: { readonly id: FirmItemId; readonly uid: string }[];
  readonly dryRun: boolean;
}

/** A firm sync run's report: one entry per user and step, and the totals. */
export interface FirmRunReport {
  readonly runId: string;
  readonly step: FirmStepChoice;
  readonly groups: readonly string[];
  readonly dryRun: boolean;
  readonly startedAt: string;
  finishedAt: string;
  readonly users: FirmUserReport[];
  readonly totals: FirmCounts;
}

/** The reason given for a user skipped because another sync holds their lease. */
export const BUSY_REASON = 'busy — another sync holds this user; taken next run';

/** Counts at zero. */
export function emptyCounts(): FirmCounts {
  return {
    firmCreated: 0,
    firmUpdated: 0,
    connected: 0,
    disconnected: 0,
    flaggedDuplicates: 0,
    userContactsUpdated: 0,
    reviewsHeld: 0,
    notMatched: 0,
    keptPrivate: 0,
    detached: 0,
    groups: 0,
    overruled: 0,
  };
}

/** A user's report before the step runs: synced, nothing counted. */
export function emptyUserReport(user: string, step: FirmStep, dryRun: boolean): FirmUserReport {
  return { user, step, outcome: 'synced', reason: null, counts: emptyCounts(), notMatched: [], dryRun };
}

/**
 * A user's step that changed nothing and held nothing reads `unchanged`, as a mailbox sync of
 * an unchanged collection does: contacts re-read and found current are not news.
 */
export function settleOutcome(report: FirmUserReport): void {
  if (report.outcome === 'synced' && Object.values(report.counts).every((n) => n === 0)) {
    report.outcome = 'unchanged';
  }
}

/** Adds an up batch's plan to a user's report. */
export function tallyUp(report: FirmUserReport, plan: UpPlan): void {
  const c = report.counts;
  for (const o of plan.outcomes) {
    c.overruled += o.overruled?.length ?? 0;
    if (o.kind === 'connected') c.connected += 1;
    else if (o.kind === 'flagged') c.flaggedDuplicates += 1;
    else if (o.kind === 'disconnected') c.disconnected += 1;
    else if (o.kind === 'asked') c.reviewsHeld += 1;
    else if (o.kind === 'private' || o.kind === 'kept-private') c.keptPrivate += 1;
    else if (o.kind === 'detached') c.detached += 1;
    else if (o.kind === 'group') c.groups += 1;
    else if (o.kind === 'not-matched') {
      c.notMatched += 1;
      if (report.notMatched.length < NAMED_NOT_MATCHED)
        report.notMatched.push({ id: o.userContactId, uid: o.uid });
    }
  }
  for (const line of plan.journal) {
    if (line.action === 'firm-create') c.firmCreated += 1;
    else if (line.action === 'firm-update') c.firmUpdated += 1;
  }
}

/** Adds a down batch's plan to a user's report. */
export function tallyDown(report: FirmUserReport, plan: DownPlan): void {
  report.counts.userContactsUpdated += plan.contactWrites.length;
  report.counts.reviewsHeld += plan.reviews.length;
}

/** The sum of every user's counts. */
export function totalsOf(users: readonly FirmUserReport[]): FirmCounts {
  const total = emptyCounts();
  for (const u of users) {
    for (const k of Object.keys(total) as (keyof FirmCounts)[]) total[k] += u.counts[k];
  }
  return total;
}

/** The exit code of `liaison firm-sync`: the same codes as `liaison sync`. */
export function firmExitCode(report: FirmRunReport): number {
  if (report.users.some((u) => u.outcome === 'failed')) return EXIT.failed;
  if (report.users.some((u) => u.outcome === 'skipped')) return EXIT.skipped;
  return EXIT.ok;
}
