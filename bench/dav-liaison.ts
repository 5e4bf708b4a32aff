/**
 * Child process of the DAV benchmark: Liaison's three syncs against one server, in a
 * process of its own so that its peak memory (maxRSS) is Liaison's alone.
 *
 * Started with an IPC channel (`fork`). It receives a {@link LiaisonBenchInput}, then
 * (a) syncs the address book into an empty firm database (SQLite in a temporary folder),
 * (b) runs a no-change express sync `runs` times, and `runs` times asks the parent to
 * change contacts on the server (`{ type: 'edit', round }`, answered `{ type: 'edited' }`)
 * and (c) runs an express sync; it sends `{ type: 'result', result: LiaisonBenchResult }`.
 * With `firstOnly` it stops after (a): a first sync is measured again in a new process,
 * where Node's compiler is as cold as in a new `liaison sync`.
 *
 * Each phase is one run as `liaison sync` does it — the app opened on the database, the
 * sync, the app closed — so only what the database keeps (as between two `liaison sync`
 * processes: the status, the discovered mailbox) helps the next phase, and the heap is
 * collected before each (the process runs with --expose-gc). Starting Node and
 * loading Liaison's modules is measured once (the `ready` message) and not counted in the
 * phases. The DAV adapter is the app's own, made from the stored server record and
 * credential, with an `onRequest` hook to count requests; the firm store and the mailbox
 * are wrapped to time the calls the sync makes to them (`step-timer.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { markerCollectionPath } from '../src/mailbox/dav/dav-marker.js';
import type { DavRequestEvent } from '../src/mailbox/dav/dav-transport.js';
import { openApp } from '../src/main.js';
import type { RunReport } from '../src/sync/report.js';
import { runMailboxSync } from '../src/sync/run-sync.js';
import { DEFAULT_SETTINGS, type SyncMode } from '../src/sync/settings.js';
import { BareDav, type Login } from './dav-http.js';
import { type StepTally, StepTimer } from './step-timer.js';

export interface LiaisonBenchInput {
  readonly url: string;
  readonly service: Login;
  /** The mailbox owner's own login. */
  readonly user: Login;
  readonly account: string;
  /** The address book, absolute: requests to it and its items are told apart from others. */
  readonly addressBookUrl: string;
  /** How many times (b) and (c) run. */
  readonly runs: number;
  /** Only (a). */
  readonly firstOnly: boolean;
}

/** Requests of one kind in a phase: how many, and their time until the answer's headers. */
export interface RequestTally {
  readonly what: string;
  count: number;
  ms: number;
  maxMs: number;
}

export interface LiaisonPhase {
  readonly name: string;
  readonly step: Step;
  readonly ms: number;
  /** Of `ms`, opening the firm database. */
  readonly openMs: number;
  /** CPU time Liaison's process spent in the phase (user + system): the rest is waiting. */
  readonly cpuMs: number;
  readonly summary: string;
  /** Created, updated and deleted in the firm database. */
  readonly toFirm: { readonly created: number; readonly updated: number; readonly deleted: number };
  readonly outcome: string;
  readonly requests: RequestTally[];
  /** Calls to the firm store and the mailbox, timed (`step-timer.ts`). */
  readonly steps: StepTally[];
  /** The process's peak memory so far, after this phase. */
  readonly peakRssMb: number;
}

export interface LiaisonBenchResult {
  readonly phases: LiaisonPhase[];
  readonly peakRssMb: number;
  /** From starting the process until Liaison's modules were loaded (not in the phases' times). */
  readonly startMs: number;
}

/** (a) first sync, (b) no-change express sync, (c) express sync after edits. */
export type Step = 'a' | 'b' | 'c';

export type ParentMessage = { type: 'start'; input: LiaisonBenchInput } | { type: 'edited' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'edit'; round: number }
  | { type: 'result'; result: LiaisonBenchResult }
  | { type: 'error'; message: string };

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    process.send!(message, undefined, {}, (e) => (e ? reject(e) : resolve()));
  });
}

function nextMessage(): Promise<ParentMessage> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as ParentMessage)));
}

function describe(r: RunReport): string {
  return r.collections
    .map(
      (c) =>
        `${c.collection} ${c.outcome}${c.reason ? ` (${c.reason})` : ''} (+${c.toFirm.created} ~${c.toFirm.updated} -${c.toFirm.deleted} to firm)`,
    )
    .join('; ');
}

/** Tells the address book's own requests from its items' and from the rest (discovery, marker). */
function classify(event: DavRequestEvent, addressBook: string): string {
  const path = new URL(event.url).pathname;
  const book = new URL(addressBook).pathname;
  const where = path === book ? 'address book' : path.startsWith(book) ? 'item' : 'other';
  return `${event.method} ${where}`;
}

async function bench(input: LiaisonBenchInput): Promise<LiaisonBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'liaison-dav-bench-'));
  const database = join(dir, 'firm.db');
  try {
    // `liaison server add bench --kind dav --url … --username … --password-env …` and
    // `liaison user add bench --server bench --mailbox ACCOUNT --contacts on`.
    const setup = await openApp(database);
    try {
      await setup.credentials.addDavServer({
        name: 'bench',
        url: input.url,
        auth: { kind: 'basic', ...input.service },
      });
      await setup.repos.users.add({
        login: 'bench',
        displayName: 'Bench User',
        server: 'bench',
        mailboxAccount: input.account,
        contactsEnabled: true,
        calendarEnabled: false,
      });
      if (input.firstOnly) {
        // An earlier run's marker says the mailbox was synced, which a new firm database
        // rightly refuses (SPEC §5): the user removes Liaison's marker calendar, so that the
        // mailbox is one never synced (as a server admin's DELETE on Cyrus would not).
        const record = (await setup.repos.servers.get('bench'))!;
        const user = (await setup.repos.users.get('bench'))!;
        const dav = await setup.davServer(record, user);
        const bare = new BareDav(input.user, 1);
        try {
          const home = (await dav.mailbox(input.account)).homes.calendar;
          if (home !== null) {
            const answer = await bare.send('DELETE', new URL(markerCollectionPath(home), input.url).href);
            if (answer.status >= 300 && answer.status !== 404)
              throw new Error(`removing the marker calendar answered ${answer.status}`);
          }
        } finally {
          await bare.close();
          await dav.close();
        }
      }
    } finally {
      await setup.close();
    }

    const phases: LiaisonPhase[] = [];
    const phase = async (name: string, step: Step, mode: SyncMode) => {
      const tallies = new Map<string, RequestTally>();
      const onRequest = (event: DavRequestEvent) => {
        const what = classify(event, input.addressBookUrl);
        if (TRACE) {
          const at = performance.now() - t0 - event.ms;
          process.stderr.write(
            `[${name}] ${at.toFixed(0).padStart(6)} ms +${String(event.ms).padStart(5)} ms ${event.status} ${what}\n`,
          );
        }
        let t = tallies.get(what);
        if (t === undefined) {
          t = { what, count: 0, ms: 0, maxMs: 0 };
          tallies.set(what, t);
        }
        t.count += 1;
        t.ms += event.ms;
        t.maxMs = Math.max(t.maxMs, event.ms);
      };
      const steps = new StepTimer(
        TRACE
          ? (step, startMs, ms) =>
              process.stderr.write(
                `[${name}] ${(startMs - t0).toFixed(0).padStart(6)} ms +${ms.toFixed(0).padStart(5)} ms ${step}\n`,
              )
          : undefined,
      );
      // What an earlier phase left on the heap is not this run's to collect.
      globalThis.gc?.();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const app = await openApp(database);
      const openMs = performance.now() - t0;
      let report: RunReport;
      try {
        const record = (await app.repos.servers.get('bench'))!;
        const user = (await app.repos.users.get('bench'))!;
        const dav = await app.davServer(record, user, { onRequest });
        try {
          const deps = app.syncDeps();
          report = await runMailboxSync(
            {
              ...deps,
              contacts: steps.wrap(deps.contacts, 'firm'),
              openMailbox: async (u) =>
                steps.wrap(dav.open(u.account), 'mailbox', (method, value) =>
                  method === 'collection' ? steps.wrap(value as object, 'collection') : value,
                ),
            },
            { users: 'all', servers: [], groups: [], scope: 'contacts' },
            // A bulk first load is expected here, not a mass change to hold.
            {
              ...DEFAULT_SETTINGS,
              mode,
              windowDays: null,
              guards: { ...DEFAULT_SETTINGS.guards, maxDeletions: 1000 },
            },
          );
        } finally {
          await dav.close();
        }
      } finally {
        await app.close();
      }
      const ms = performance.now() - t0;
      if (TRACE) process.stderr.write(`[${name}] ${ms.toFixed(0).padStart(6)} ms done\n`);
      const cpu = process.cpuUsage(cpu0);
      const contacts = report.collections[0];
      phases.push({
        name,
        step,
        ms,
        openMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        summary: describe(report),
        toFirm: contacts?.toFirm ?? { created: 0, updated: 0, deleted: 0 },
        outcome: contacts?.outcome ?? 'none',
        requests: [...tallies.values()].sort((a, b) => b.ms - a.ms),
        steps: steps.tallies(),
        peakRssMb: process.resourceUsage().maxRSS / 1024,
      });
    };

    await phase('first sync', 'a', 'complete');
    if (!input.firstOnly) {
      for (let i = 0; i < input.runs; i++) await phase('no-change express', 'b', 'express');
      for (let round = 1; round <= input.runs; round++) {
        await send({ type: 'edit', round });
        const answer = await nextMessage();
        if (answer.type !== 'edited') throw new Error(`expected "edited", got ${JSON.stringify(answer)}`);
        await phase('express after edits', 'c', 'express');
      }
    }
    return { phases, peakRssMb: process.resourceUsage().maxRSS / 1024, startMs: 0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * BENCH_TRACE=1: every request of Liaison's, with when it started and how long its headers
 * took, and every timed call, with when it started and how long until it settled.
 */
const TRACE = process.env.BENCH_TRACE === '1';

// Node has started and loaded Liaison's modules: what every `liaison` command pays first.
await send({ type: 'ready' });
const first = await nextMessage();
try {
  if (first.type !== 'start') throw new Error(`expected "start", got ${JSON.stringify(first)}`);
  const result = await bench(first.input);
  await send({ type: 'result', result });
} catch (e) {
  await send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
}
process.disconnect();
