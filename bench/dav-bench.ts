/**
 * The DAV part of `npm run bench`: for each of Radicale and Cyrus, one server with one
 * address book of BENCH_CONTACTS (10,000) contacts, measured in the same run:
 *
 * - Liaison (in a child process, `dav-liaison.ts`): (a) first sync into an empty firm
 *   database, (b) no-change express sync, (c) express sync after 100 contacts changed on
 *   the server by HTTP PUT;
 * - vdirsyncer, the same three, to a filesystem storage (`vdirsyncer.ts`);
 * - the protocol floor: a bare client's initial sync-collection REPORT plus
 *   addressbook-multiget of every item, with Liaison's batch size and connection count,
 *   signed in as Liaison is (the service account). Where the user's own login differs,
 *   the floor is measured with it too and shown beside: a server may serve its admin at
 *   another cost (Cyrus: about three times the user's per multiget item).
 *
 * A single run of a sync that takes tens of milliseconds moves with whatever else the
 * machine does, so each figure is the median of several runs, taken the same way on both
 * sides: (a) BENCH_FIRST_RUNS times (3; Liaison's each in a new process, vdirsyncer's each
 * into an empty storage), (b) and (c) BENCH_RUNS times (5; each (c) after its own round of
 * edits). Every run is printed.
 *
 * A server or vdirsyncer that is not installed skips its part with the reason: benchmarks
 * are not tests.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DAV_DEFAULTS } from '../src/mailbox/dav/dav-config.js';
import { type Login, protocolFloor } from './dav-http.js';
import type { ChildMessage, LiaisonBenchResult, ParentMessage, RequestTally, Step } from './dav-liaison.js';
import { type BenchPeer, startCyrusPeer, startRadicalePeer } from './dav-peers.js';
import type { StepTally } from './step-timer.js';
import { benchVdirsyncer, findVdirsyncer, type VdirsyncerPhase } from './vdirsyncer.js';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 10_000);
/**
 * Contacts changed on the server before each (c): 100, or a tenth of a smaller address
 * book, so that the mass-change guard (25%) does not hold the change in a quick run.
 */
const EDITS = Math.min(100, Math.floor(CONTACTS / 10));
/** Protocol floor runs; the fastest counts. */
const FLOOR_RUNS = 3;
/** Runs of (a), and of each of (b) and (c), on each side; the median counts. */
const FIRST_RUNS = Math.max(1, Number(process.env.BENCH_FIRST_RUNS ?? 3));
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const STEPS = ['a', 'b', 'c'] as const;

type Write = (text: string) => void;

/** Runs Liaison's phases in a child process; `edit` runs when it asks for a round of changes. */
export async function benchLiaison(
  peer: BenchPeer,
  edit: (round: number) => Promise<void>,
  runs: { readonly runs: number; readonly firstOnly: boolean },
): Promise<LiaisonBenchResult> {
  const forked = performance.now();
  const child = fork(fileURLToPath(new URL('./dav-liaison.js', import.meta.url)), [], {
    // A key for the credentials the child stores encrypted in its throwaway database.
    env: { ...process.env, LIAISON_SECRET_KEY: randomBytes(32).toString('hex') },
    // For profiling, e.g. BENCH_LIAISON_NODE_OPTIONS='--cpu-prof --cpu-prof-dir=/tmp/prof'.
    execArgv: [
      '--expose-gc',
      ...(process.env.BENCH_LIAISON_NODE_OPTIONS ?? '').split(' ').filter((a) => a !== ''),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const post = (m: ParentMessage) => child.send(m);
  let startMs = 0;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (e: unknown) => {
      if (settled) return;
      settled = true;
      child.kill('SIGKILL');
      reject(e instanceof Error ? e : new Error(String(e)));
    };
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') {
        startMs = performance.now() - forked;
        post({
          type: 'start',
          input: {
            url: peer.url,
            service: peer.service,
            user: peer.user,
            account: peer.account,
            addressBookUrl: peer.addressBookUrl,
            ...runs,
          },
        });
      } else if (m.type === 'edit') {
        edit(m.round).then(() => post({ type: 'edited' }), fail);
      } else if (m.type === 'result') {
        settled = true;
        resolve({ ...m.result, startMs });
      } else if (m.type === 'error') {
        fail(new Error(`Liaison's benchmark process failed: ${m.message}`));
      }
    });
    child.once('error', fail);
    child.once('exit', (code, signal) =>
      fail(new Error(`Liaison's benchmark process exited (${code ?? signal})`)),
    );
  });
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

function mb(value: number | null): string {
  return value === null ? 'n/a' : `${value.toFixed(0)} MB`;
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

function requestLine(tallies: readonly RequestTally[]): string {
  return tallies
    .map((t) => `${t.what} ×${t.count} (${ms(t.ms)} to headers${t.count > 1 ? `, max ${ms(t.maxMs)}` : ''})`)
    .join('; ');
}

function stepLine(steps: readonly StepTally[]): string {
  return steps
    .filter((s) => s.ms >= 1)
    .map((s) => `${s.step}${s.count > 1 ? ` ×${s.count}` : ''} ${ms(s.ms)}`)
    .join('; ');
}

type Floor = { ms: number; listMs: number; items: number };

/** The median of `values` (the mean of the middle two for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Each step's median time, and every run's, in order. */
function byStep(phases: readonly { readonly step: Step; readonly ms: number }[]) {
  return Object.fromEntries(
    STEPS.map((step) => {
      const times = phases.filter((p) => p.step === step).map((p) => p.ms);
      return [step, { median: times.length > 0 ? median(times) : Number.NaN, times }];
    }),
  ) as Record<Step, { median: number; times: number[] }>;
}

function printServer(
  write: Write,
  floors: { readonly service: Floor; readonly user: Floor | null },
  liaison: LiaisonBenchResult,
  vdir: VdirsyncerPhase[] | null,
): void {
  const floor = floors.service;
  const labels: Record<Step, string> = {
    a: '(a) first sync',
    b: '(b) no-change sync',
    c: `(c) sync after ${EDITS} changed on the server`,
  };
  const ours = byStep(liaison.phases);
  const theirs = vdir === null ? null : byStep(vdir);
  write(
    `  median of the runs                            ${'Liaison'.padStart(10)} ${'vdirsyncer'.padStart(12)}\n`,
  );
  for (const step of STEPS) {
    const v = theirs?.[step];
    write(
      `  ${labels[step].padEnd(44)} ${ms(ours[step].median).padStart(10)} ${(v ? ms(v.median) : '-').padStart(12)}\n`,
    );
  }
  const vdirPeak = vdir === null ? 0 : Math.max(...vdir.map((v) => v.peakMb ?? 0));
  write(
    `  ${'peak memory (RSS)'.padEnd(44)} ${mb(liaison.peakRssMb).padStart(10)} ${mb(vdirPeak > 0 ? vdirPeak : null).padStart(12)}\n`,
  );
  const runs = (times: readonly number[]) =>
    times.map((t) => Math.round(t).toLocaleString('en-US')).join(', ');
  for (const step of STEPS) {
    write(
      `  runs of ${step} (ms): Liaison ${runs(ours[step].times)}${theirs ? `; vdirsyncer ${runs(theirs[step].times)}` : ''}\n`,
    );
  }
  write(
    `  protocol floor (initial sync-collection + addressbook-multiget ×${DAV_DEFAULTS.multigetBatch}, ${DAV_DEFAULTS.maxConnections} at a time; best of ${FLOOR_RUNS}), signed in as Liaison (the service account): ${ms(floor.ms)} (REPORT ${ms(floor.listMs)}, ${floor.items} vCards)\n`,
  );
  if (floors.user !== null) {
    write(
      `  the same floor signed in as the user (as vdirsyncer is): ${ms(floors.user.ms)} (REPORT ${ms(floors.user.listMs)}, ${floors.user.items} vCards)\n`,
    );
  }
  write('  Liaison:\n');
  for (const p of liaison.phases) {
    write(
      `    ${p.name}: ${p.summary}; opening the database ${ms(p.openMs)}; CPU ${ms(p.cpuMs)} of ${ms(p.ms)}; peak so far ${mb(p.peakRssMb)}\n` +
        `      requests: ${requestLine(p.requests)}\n` +
        `      calls (until settled; a read includes parsing what it yields): ${stepLine(p.steps)}\n`,
    );
  }
  write(
    `    not in the times above: starting Node and loading Liaison takes ${ms(liaison.startMs)} per run (vdirsyncer's times include its Python start)\n`,
  );
  if (vdir !== null) {
    write('  vdirsyncer:\n');
    for (const v of vdir) write(`    ${v.name}: ${v.summary}; ${ms(v.ms)}; peak ${mb(v.peakMb)}\n`);
  }

  const [a, b, c] = STEPS.map((step) => ours[step].median) as [number, number, number];
  const ratio = (label: string, value: number, target: string, ok: boolean) =>
    write(
      `  ${label.padEnd(44)} ${`${value.toFixed(value < 10 ? 2 : 1)}×`.padStart(8)}  (target ${target})  ${verdict(ok)}\n`,
    );
  if (theirs !== null) {
    const [va, vb, vc] = STEPS.map((step) => theirs[step].median) as [number, number, number];
    ratio('(b) vdirsyncer / Liaison', vb / b, '≥ 20×', vb / b >= 20);
    ratio('(c) vdirsyncer / Liaison', vc / c, '≥ 15×', vc / c >= 15);
    ratio('(a) vdirsyncer / Liaison', va / a, '≥ 5×', va / a >= 5);
  }
  ratio('(a) Liaison / protocol floor', a / floor.ms, '≤ 2×', a / floor.ms <= 2);
  if (floors.user !== null) {
    const value = a / floors.user.ms;
    write(
      `  ${'(a) Liaison / floor as the user'.padEnd(44)} ${`${value.toFixed(2)}×`.padStart(8)}  (for comparison)\n`,
    );
  }
  write(
    `  ${'Liaison peak memory'.padEnd(44)} ${mb(liaison.peakRssMb).padStart(8)}  (target < 200 MB)  ${verdict(liaison.peakRssMb < 200)}\n`,
  );
  const expected: Record<Step, { created: number; updated: number }> = {
    a: { created: CONTACTS, updated: 0 },
    b: { created: 0, updated: 0 },
    c: { created: 0, updated: EDITS },
  };
  for (const p of liaison.phases) {
    const e = expected[p.step];
    if (p.toFirm.created !== e.created || p.toFirm.updated !== e.updated || p.toFirm.deleted !== 0) {
      write(
        `  WARNING: Liaison's ${p.name} carried +${p.toFirm.created} ~${p.toFirm.updated} -${p.toFirm.deleted} to the firm, expected +${e.created} ~${e.updated} -0\n`,
      );
    }
  }
}

async function benchServer(
  write: Write,
  name: string,
  start: (contacts: number) => Promise<BenchPeer>,
): Promise<void> {
  write(
    `\nCardDAV sync against ${name} (${CONTACTS.toLocaleString('en-US')} contacts in one address book)\n`,
  );
  let peer: BenchPeer;
  try {
    peer = await start(CONTACTS);
  } catch (e) {
    write(`  skipped: ${e instanceof Error ? e.message.split('\n')[0] : e}\n`);
    return;
  }
  try {
    await measure(write, peer);
  } catch (e) {
    write(`  failed: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
  } finally {
    await peer.stop();
  }
}

/** Floor, Liaison and vdirsyncer against one filled server, printed. */
async function measure(write: Write, peer: BenchPeer): Promise<void> {
  write(`  address book filled: ${peer.loaded}\n`);
  // Other work on the machine skews every figure: say how busy it was.
  const load = () => loadavg()[0]!.toFixed(1);
  write(`  load average at start: ${load()} (${cpus().length} CPUs)\n`);
  const bestFloor = async (login: Login): Promise<Floor> => {
    let best: Floor = { ms: Number.POSITIVE_INFINITY, listMs: 0, items: 0 };
    for (let i = 0; i < FLOOR_RUNS; i++) {
      const f = await protocolFloor(
        peer.addressBookUrl,
        login,
        DAV_DEFAULTS.multigetBatch,
        DAV_DEFAULTS.maxConnections,
      );
      if (f.ms < best.ms) best = f;
    }
    return best;
  };
  const floors = {
    service: await bestFloor(peer.service),
    user: peer.user.username === peer.service.username ? null : await bestFloor(peer.user),
  };
  let liaison = await benchLiaison(peer, (round) => peer.edit(round, EDITS), {
    runs: RUNS,
    firstOnly: false,
  });
  for (let i = 1; i < FIRST_RUNS; i++) {
    const more = await benchLiaison(peer, () => Promise.reject(new Error('no edits')), {
      runs: 0,
      firstOnly: true,
    });
    liaison = {
      ...liaison,
      phases: [...liaison.phases, ...more.phases],
      peakRssMb: Math.max(liaison.peakRssMb, more.peakRssMb),
    };
  }
  let vdir: VdirsyncerPhase[] | string;
  try {
    findVdirsyncer();
    try {
      // Rounds of edits after Liaison's, so that each round's text is new.
      vdir = await benchVdirsyncer(peer.vdirsyncerUrl, peer.user, (round) => peer.edit(RUNS + round, EDITS), {
        first: FIRST_RUNS,
        rest: RUNS,
      });
    } catch (e) {
      vdir = `vdirsyncer failed: ${e instanceof Error ? e.message.split('\n').slice(0, 12).join('\n    ') : e}`;
    }
  } catch (e) {
    vdir = `vdirsyncer skipped: ${e instanceof Error ? e.message : e}`;
  }
  if (typeof vdir === 'string') write(`  ${vdir}\n`);
  printServer(write, floors, liaison, typeof vdir === 'string' ? null : vdir);
  write(`  load average at end: ${load()}\n`);
}

const SERVERS: readonly { key: string; name: string; start: (contacts: number) => Promise<BenchPeer> }[] = [
  { key: 'radicale', name: 'Radicale', start: startRadicalePeer },
  { key: 'cyrus', name: 'Cyrus IMAP', start: startCyrusPeer },
];

/** The DAV part of the benchmark, printed as it goes; env BENCH_DAV_SERVERS (e.g. `cyrus`) picks servers. */
export async function benchDav(write: Write): Promise<void> {
  const wanted = (process.env.BENCH_DAV_SERVERS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  for (const server of SERVERS) {
    if (wanted.length > 0 && !wanted.includes(server.key)) continue;
    await benchServer(write, server.name, server.start);
  }
}
