import type { CollectionKind } from '../domain/ids.js';
import type { Plan, Quarantined } from './plan-types.js';

export interface Tally {
  created: number;
  updated: number;
  deleted: number;
}

export type CollectionOutcome =
  /** Applied (or, on a dry run, planned). */
  | 'synced'
  /** Express mode found nothing changed on either side. */
  | 'unchanged'
  /** Not synced this run: out of sync, busy, a plan still held, disabled… (`reason` says which). */
  | 'skipped'
  /** The plan crossed a guard and was stored for approval. */
  | 'held'
  /** An error stopped this collection; the run went on with the others. */
  | 'failed';

/** What one run did to one user's collection. */
export interface CollectionReport {
  readonly user: string;
  readonly collection: CollectionKind;
  outcome: CollectionOutcome;
  reason: string | null;
  readonly toMailbox: Tally;
  readonly toFirm: Tally;
  /** Pairs changed on both sides and merged (or resolved by policy). */
  conflicts: number;
  /**
   * Items found on both sides and paired (first sync, recovery, or a run after a crash that
   * wrote an item but not its record), each matched by UID or content.
   */
  paired: number;
  quarantined: Quarantined[];
  /** Changes left for the next run: the item changed while this run wrote it. */
  deferred: number;
  /**
   * Firm changes the mailbox server would not take: a meeting it schedules (the mailbox's
   * version was kept in the firm database instead), a UID it holds in another collection.
   */
  notWritten: { readonly href: string; readonly reason: string }[];
  heldPlanId: string | null;
  dryRun: boolean;
}

export function emptyReport(user: string, collection: CollectionKind, dryRun: boolean): CollectionReport {
  return {
    user,
    collection,
    outcome: 'synced',
    reason: null,
    toMailbox: { created: 0, updated: 0, deleted: 0 },
    toFirm: { created: 0, updated: 0, deleted: 0 },
    conflicts: 0,
    paired: 0,
    quarantined: [],
    deferred: 0,
    notWritten: [],
    heldPlanId: null,
    dryRun,
  };
}

/** A run's report: one entry per user and collection in scope. */
export interface RunReport {
  readonly runId: string;
  readonly mode: string;
  readonly startedAt: string;
  finishedAt: string;
  readonly collections: CollectionReport[];
}

/** Documented exit codes of `liaison sync` and friends. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  /** Some users were skipped, held or out of sync; nothing failed. */
  skipped: 3,
  /** Some users failed with an error. */
  failed: 4,
} as const;

export function exitCodeOf(reports: readonly CollectionReport[]): number {
  if (reports.some((r) => r.outcome === 'failed')) return EXIT.failed;
  // A collection synced with part of its plan held (see `forgottenTokenReason`) waits too.
  if (reports.some((r) => r.outcome === 'skipped' || r.outcome === 'held' || r.heldPlanId !== null))
    return EXIT.skipped;
  return EXIT.ok;
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
      if (op.reason === 'matched' || op.reason === 'recovered') report.paired++;
    }
  }
}
