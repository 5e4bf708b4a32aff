import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SampleData } from '../src/demo/sample-data.js';
import { appointmentCodec } from '../src/formats/appointment-codec.js';
import { contactCodec } from '../src/formats/contact-codec.js';
import { openApp } from '../src/main.js';
import type { RunReport } from '../src/sync/report.js';
import { runMailboxSync } from '../src/sync/run-sync.js';
import { DEFAULT_SETTINGS, type SyncMode } from '../src/sync/settings.js';

export interface PhaseResult {
  readonly name: string;
  readonly ms: number;
  readonly summary: string;
}

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 10_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5_000);

/** Writes a vdir mailbox of realistic contacts and events straight to disk, as a phone would have. */
export function buildMailbox(account: string): void {
  const gen = new SampleData(42);
  const now = new Date();
  mkdirSync(join(account, 'contacts'), { recursive: true });
  mkdirSync(join(account, 'calendar'), { recursive: true });
  for (let n = 0; n < CONTACTS; n++) {
    const c = gen.contact(n, 'bench');
    writeFileSync(join(account, 'contacts', `${c.uid}.vcf`), contactCodec.serialize(c));
  }
  for (let n = 0; n < EVENTS; n++) {
    const e = gen.appointment(n, 'bench-evt', now);
    writeFileSync(join(account, 'calendar', `${e.uid}.ics`), appointmentCodec.serialize(e));
  }
}

/** 100 edits and 10 deletions in the mailbox, made the way a client makes them. */
function editMailbox(account: string): void {
  const dir = join(account, 'contacts');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.vcf'))
    .sort();
  for (const f of files.slice(0, 100)) {
    const text = readFileSync(join(dir, f), 'utf8').replace(
      'END:VCARD',
      'NOTE:edited on a phone\r\nEND:VCARD',
    );
    writeFileSync(join(dir, f), text);
  }
  for (const f of files.slice(100, 110)) unlinkSync(join(dir, f));
}

function describe(r: RunReport): string {
  return r.collections
    .map(
      (c) =>
        `${c.collection} ${c.outcome} (+${c.toFirm.created} ~${c.toFirm.updated} -${c.toFirm.deleted} to firm)`,
    )
    .join('; ');
}

/**
 * The mailbox sync benchmark on the embedded default: SQLite + one vdir mailbox of
 * 10,000 contacts and 5,000 events. Reports first complete sync, no-change express,
 * express after 110 changes, and the process's peak memory.
 */
export async function benchVdir(): Promise<{ phases: PhaseResult[]; peakRssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'liaison-bench-'));
  try {
    const account = join(dir, 'mailboxes', 'bench');
    // Built in a child process, so the peak memory reported is the sync's alone.
    execFileSync(process.execPath, [fileURLToPath(new URL('./build-mailbox.js', import.meta.url)), account], {
      stdio: 'inherit',
    });
    const app = await openApp(join(dir, 'firm.db'));
    try {
      const server = await app.repos.servers.add({
        name: 'files',
        kind: 'vdir',
        url: join(dir, 'mailboxes'),
      });
      await app.repos.users.add({
        login: 'bench',
        displayName: 'Bench User',
        server: server.name,
        mailboxAccount: 'bench',
        contactsEnabled: true,
        calendarEnabled: true,
      });
      const phases: PhaseResult[] = [];
      const phase = async (name: string, mode: SyncMode) => {
        const t0 = performance.now();
        const report = await runMailboxSync(
          app.syncDeps(),
          { users: 'all', servers: [], groups: [], scope: 'both' },
          // A bulk first load is expected here, not a mass change to hold.
          {
            ...DEFAULT_SETTINGS,
            mode,
            windowDays: null,
            guards: { ...DEFAULT_SETTINGS.guards, maxDeletions: 1000 },
          },
        );
        phases.push({ name, ms: performance.now() - t0, summary: describe(report) });
      };
      await phase('first complete sync', 'complete');
      await phase('no-change express sync', 'express');
      editMailbox(account);
      await phase('express after 100 edits + 10 deletions', 'express');
      return { phases, peakRssMb: process.resourceUsage().maxRSS / 1024 };
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
