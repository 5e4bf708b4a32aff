/**
 * The peer of the DAV benchmark: vdirsyncer (Debian's package) syncing the user's address
 * book to a filesystem storage, with its config in a temporary folder. Each `sync` is timed
 * with a monotonic clock; its peak memory comes from `/usr/bin/time -f %M` where there is
 * one, else from polling VmHWM in /proc/PID/status.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { findProgram } from '../test/support/dav-servers/server-process.js';
import type { Login } from './dav-http.js';

export interface VdirsyncerPhase {
  readonly name: string;
  readonly step: 'a' | 'b' | 'c';
  readonly ms: number;
  readonly peakMb: number | null;
  readonly summary: string;
}

/** vdirsyncer's path, or an error naming the Debian package. */
export function findVdirsyncer(): string {
  return findProgram('vdirsyncer', 'vdirsyncer', 'LIAISON_VDIRSYNCER_BIN');
}

const TIME = '/usr/bin/time';

/** TOML basic string. */
function toml(text: string): string {
  return JSON.stringify(text);
}

interface Finished {
  readonly ms: number;
  readonly peakMb: number | null;
  readonly output: string;
}

/** Runs vdirsyncer with `args`, timing it and measuring its peak memory. */
async function run(program: string, args: readonly string[], dir: string, input = ''): Promise<Finished> {
  const memFile = join(dir, 'peak-kb');
  rmSync(memFile, { force: true });
  const useTime = existsSync(TIME);
  const [file, argv] = useTime ? [TIME, ['-f', '%M', '-o', memFile, program, ...args]] : [program, [...args]];
  const t0 = performance.now();
  const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stdin.end(input);
  let polledKb = 0;
  const poll = useTime
    ? undefined
    : setInterval(() => {
        try {
          const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
          const kb = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0);
          polledKb = Math.max(polledKb, kb);
        } catch {
          // exited
        }
      }, 10);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  const ms = performance.now() - t0;
  if (poll) clearInterval(poll);
  if (code !== 0) {
    throw new Error(`vdirsyncer ${args.join(' ')} exited with ${code}:\n${output.slice(-2_000)}`);
  }
  let peakKb: number | null = polledKb > 0 ? polledKb : null;
  if (useTime) {
    const lines = readFileSync(memFile, 'utf8').trim().split('\n');
    const kb = Number(lines[lines.length - 1]);
    peakKb = Number.isFinite(kb) && kb > 0 ? kb : null;
  }
  return { ms, peakMb: peakKb === null ? null : peakKb / 1024, output };
}

/** How many items one `sync` copied each way, from vdirsyncer's own lines. */
function copied(output: string): string {
  const count = (re: RegExp) => output.match(re)?.length ?? 0;
  const uploaded = count(/Copying \(uploading\) item/g);
  const updated = count(/Copying \(updating\) item/g);
  const deleted = count(/Deleting item/g);
  return `${uploaded} new, ${updated} updated, ${deleted} deleted`;
}

/**
 * vdirsyncer's syncs of the address book at `url` (discovered from there) to a filesystem
 * storage: (a) the first, after `discover`, `runs.first` times, each into an empty storage
 * with no status; (b) one with no change, `runs.rest` times; (c) one after `edit` changed
 * contacts on the server, `runs.rest` times, each after its own round of edits.
 */
export async function benchVdirsyncer(
  url: string,
  login: Login,
  edit: (round: number) => Promise<void>,
  runs: { readonly first: number; readonly rest: number },
): Promise<VdirsyncerPhase[]> {
  const program = findVdirsyncer();
  const dir = mkdtempSync(join(tmpdir(), 'liaison-vdirsyncer-'));
  try {
    const local = join(dir, 'contacts');
    mkdirSync(local);
    mkdirSync(join(dir, 'status'));
    const config = join(dir, 'config');
    writeFileSync(
      config,
      [
        '[general]',
        `status_path = ${toml(join(dir, 'status'))}`,
        '',
        '[pair bench]',
        'a = "bench_remote"',
        'b = "bench_local"',
        'collections = ["from a"]',
        'conflict_resolution = "a wins"',
        '',
        '[storage bench_remote]',
        'type = "carddav"',
        `url = ${toml(url)}`,
        `username = ${toml(login.username)}`,
        `password = ${toml(login.password)}`,
        '',
        '[storage bench_local]',
        'type = "filesystem"',
        `path = ${toml(local)}`,
        'fileext = ".vcf"',
        '',
      ].join('\n'),
    );
    const phases: VdirsyncerPhase[] = [];
    const sync = async (name: string, step: VdirsyncerPhase['step']) => {
      const r = await run(program, ['-c', config, 'sync'], dir);
      let summary = copied(r.output);
      if (step === 'a') {
        const files = readdirSync(local, { recursive: true }).filter((f) => String(f).endsWith('.vcf'));
        summary += `; ${files.length} files on disk`;
      }
      phases.push({ name, step, ms: r.ms, peakMb: r.peakMb, summary });
    };
    for (let i = 0; i < runs.first; i++) {
      // Each first sync starts from nothing: no local items, no status.
      for (const sub of [local, join(dir, 'status')]) {
        rmSync(sub, { recursive: true, force: true });
        mkdirSync(sub);
      }
      // discover asks before creating the local collection: yes.
      await run(program, ['-c', config, 'discover'], dir, 'y\ny\ny\n');
      await sync('first sync', 'a');
    }
    for (let i = 0; i < runs.rest; i++) await sync('no-change sync', 'b');
    for (let round = 1; round <= runs.rest; round++) {
      await edit(round);
      await sync('sync after edits', 'c');
    }
    return phases;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
