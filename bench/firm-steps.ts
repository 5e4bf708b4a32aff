/**
 * Child process of the firm sync benchmark: the measured steps on a database the parent has
 * seeded, in a process of its own so that its peak memory (maxRSS) is firm sync's alone.
 *
 * Started with an IPC channel (`fork`) and the database URL as its argument. It runs
 * (1) the initial up step, (2) the initial down step, (3) a cycle (up + down) with no user
 * change (the down step's writes are not read back by the up step), then changes CHANGES user
 * contacts spread over the users (not measured) and runs (4) the incremental cycle. It sends
 * `{ type: 'result', result: FirmStepsResult }` or `{ type: 'error', message }`.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { FirmItemId } from '../src/domain/ids.js';
import { type FirmCounts, type FirmRunReport, type FirmStepChoice, runFirmSync } from '../src/firm/index.js';
import { openApp } from '../src/main.js';

/** User contacts changed before the incremental cycle. */
export const CHANGES = 1_000;

export interface FirmStepResult {
  readonly name: string;
  readonly ms: number;
  readonly totals: FirmCounts;
  /** Users whose step failed. */
  readonly failed: number;
  /** The process's peak memory so far, after this step. */
  readonly peakRssMb: number;
  /** The machine's load average (1 minute) when the step ended: other work skews the figures. */
  readonly load: number;
}

export interface FirmStepsResult {
  readonly steps: FirmStepResult[];
  /** Rows of firm_contacts after the initial up step. */
  readonly firmContacts: number;
  readonly userContacts: number;
  /** User contacts changed before the incremental cycle, and over how many users. */
  readonly changed: number;
  readonly changedUsers: number;
  readonly editMs: number;
}

export type FirmStepsMessage =
  | { type: 'result'; result: FirmStepsResult }
  | { type: 'error'; message: string };

function send(message: FirmStepsMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(message, undefined, {}, (e) => (e ? reject(e) : resolve()));
  });
}

async function bench(url: string): Promise<FirmStepsResult> {
  const app = await openApp(url);
  try {
    const deps = app.firmDeps();
    const steps: FirmStepResult[] = [];
    const step = async (name: string, choice: FirmStepChoice): Promise<FirmRunReport> => {
      const t0 = performance.now();
      const report = await runFirmSync(deps, { step: choice, groups: [], dryRun: false });
      steps.push({
        name,
        ms: performance.now() - t0,
        totals: report.totals,
        failed: report.users.filter((u) => u.outcome === 'failed').length,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        load: loadavg()[0]!,
      });
      return report;
    };
    const count = async (table: 'firm_contacts' | 'user_contacts') =>
      Number(
        (
          await app.database.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    await step('initial up step (matching everything)', 'up');
    const firmContacts = await count('firm_contacts');
    await step('initial down step', 'down');
    await step('next cycle, no user change', 'both');

    // CHANGES edits spread over the users, as CRM users make them: one transaction each.
    const users = await app.repos.users.list();
    const perUser = Math.max(1, Math.ceil(CHANGES / users.length));
    const t0 = performance.now();
    let changed = 0;
    let changedUsers = 0;
    for (const [u, user] of users.entries()) {
      if (changed >= CHANGES) break;
      // The user's first contacts by id, sorted here: asked for `order by id limit n`,
      // PostgreSQL walks the primary key through every other user's contacts.
      const ids = await app.database.db
        .selectFrom('user_contacts')
        .select('id')
        .where('user_id', '=', user.id)
        .execute();
      const rows = ids
        .map((r) => r.id)
        .sort()
        .slice(0, Math.min(perUser, CHANGES - changed))
        .map((id) => ({ id }));
      for (const row of rows) {
        await app.repos.contacts.edit(row.id as FirmItemId, {
          title: `Senior Partner ${u}`,
          phones: [{ types: ['work'], value: `+44 20 7946 ${String(changed).padStart(4, '0')}` }],
        });
        changed += 1;
      }
      if (rows.length > 0) changedUsers += 1;
    }
    const editMs = performance.now() - t0;
    await step(`incremental cycle after ${changed} changed user contacts`, 'both');
    return { steps, firmContacts, userContacts: await count('user_contacts'), changed, changedUsers, editMs };
  } finally {
    await app.close();
  }
}

try {
  const url = process.argv[2];
  if (url === undefined) throw new Error('usage: firm-steps.js DATABASE_URL');
  await send({ type: 'result', result: await bench(url) });
} catch (e) {
  await send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
process.disconnect();
