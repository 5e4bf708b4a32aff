import { LiaisonError } from '../domain/errors.js';
import type { CollectionKind, UserId } from '../domain/ids.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { fromJsonOrNull, toJson } from './json-column.js';
import { newId } from './new-id.js';
import type { Database } from './open.js';
import type { RunTable } from './schema.js';

/** What ran: `mailbox-sync`, `recover`, `firm-sync`, … (named by the service that starts it). */
export type RunKind = string;
export type RunStatus = 'running' | 'ok' | 'partial' | 'failed' | 'cancelled';

/** One execution of a process, with its report. */
export interface RunRecord {
  readonly id: string;
  readonly kind: RunKind;
  /** Name of the process that started it; null for a run started by hand. */
  readonly process: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly status: RunStatus;
  /** The settings the run was started with (JSON). */
  readonly settings: unknown;
  /** The report as the run wrote it (JSON); null while running. */
  readonly report: unknown;
}

function toRecord(row: RunTable): RunRecord {
  return {
    id: row.id,
    kind: row.kind as RunKind,
    process: row.process,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    status: row.status as RunStatus,
    settings: fromJsonOrNull<unknown>(row.settings, 'runs.settings'),
    report: fromJsonOrNull<unknown>(row.report, 'runs.report'),
  };
}

/** Runs: started, finished with a status and a report. */
export class RunRepo {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Records a run as running, with the settings it runs with, and returns its id. */
  async start(kind: RunKind, settings: unknown = null, process: string | null = null): Promise<string> {
    const id = newId();
    await this.database.db
      .insertInto('runs')
      .values({
        id,
        kind,
        process,
        started_at: isoAt(this.clock()),
        finished_at: null,
        status: 'running',
        settings: toJson(settings ?? null),
        report: null,
      })
      .execute();
    return id;
  }

  /** Records the end of a run with its report (any JSON value). Throws `NotFound` for an unknown id. */
  async finish(id: string, status: Exclude<RunStatus, 'running'>, report: unknown): Promise<void> {
    const result = await this.database.db
      .updateTable('runs')
      .set({ status, finished_at: isoAt(this.clock()), report: toJson(report ?? null) })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw new LiaisonError('NotFound', `No run ${id}`);
  }

  /**
   * Notes how a run left a user's collection: `failure` is the reason it failed, or null
   * when it synced (which clears an earlier failure; nothing is written when there is none).
   */
  async noteCollectionOutcome(user: UserId, kind: CollectionKind, failure: string | null): Promise<void> {
    const db = this.database.db;
    if (failure === null) {
      await db
        .updateTable('collection_state')
        .set({ last_failure_at: null, last_failure: null })
        .where('user_id', '=', user)
        .where('kind', '=', kind)
        .where('last_failure_at', 'is not', null)
        .execute();
      return;
    }
    const set = { last_failure_at: isoAt(this.clock()), last_failure: failure };
    await db
      .insertInto('collection_state')
      .values({ user_id: user, kind, ...set })
      .onConflict((oc) => oc.columns(['user_id', 'kind']).doUpdateSet(set))
      .execute();
  }

  async get(id: string): Promise<RunRecord | null> {
    const row = await this.database.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : toRecord(row);
  }

  /** The latest runs first, optionally of one process. */
  async list(filter: { readonly process?: string; readonly limit?: number } = {}): Promise<RunRecord[]> {
    let q = this.database.db.selectFrom('runs').selectAll();
    if (filter.process !== undefined) q = q.where('process', '=', filter.process);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map(toRecord);
  }
}
