/*
 * A mailbox sync and a firm sync running at the same time, in two processes, against one
 * database (SPEC §7, last point): both finish, no user is ever held by both at once, and once
 * the dust settles nothing is lost. The processes run test/support/firm-concurrency-worker.mjs,
 * which imports the compiled code from dist/: `npm test` builds it first (`npm run build` does
 * it by hand); the test refuses to run on a missing or stale build.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContactRepo } from '../../src/db/contact-repo.js';
import { createFirmStore } from '../../src/db/firm-sync-store.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { UserRepo } from '../../src/db/user-repo.js';
import type { FirmRunReport } from '../../src/firm/firm-report.js';
import type { RunReport } from '../../src/sync/report.js';
import { DIALECTS, urlOf, useTestDatabase } from '../support/test-database.js';

const ROOT = join(import.meta.dirname, '..', '..');
const WORKER = join(ROOT, 'test', 'support', 'firm-concurrency-worker.mjs');
const USERS = 4;
const PERSONS = 24;
const ROUNDS = 6;

/** Fails with what to do when dist/ lacks or predates a source file the worker runs. */
function requireFreshBuild(): void {
  const stale: string[] = [];
  const walk = (dir: string, deep = true) => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, name.name);
      if (name.isDirectory()) {
        if (deep) walk(path);
      } else if (name.name.endsWith('.ts')) {
        const built = join(ROOT, 'dist', relative(ROOT, path)).replace(/\.ts$/, '.js');
        let fresh = false;
        try {
          fresh = statSync(built).mtimeMs >= statSync(path).mtimeMs;
        } catch {
          fresh = false;
        }
        if (!fresh) stale.push(relative(ROOT, path));
      }
    }
  };
  // What the worker loads; the DAV adapter is not among it.
  for (const dir of ['db', 'firm', 'sync', 'formats', 'domain', 'mailbox/vdir']) walk(join(ROOT, 'src', dir));
  walk(join(ROOT, 'src', 'mailbox'), false);
  if (stale.length > 0) {
    throw new Error(
      `dist/ is missing or older than ${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}: run \`npm run build\` first (\`npm test\` does)`,
    );
  }
}

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function worker(mode: string, url: string, vdir: string, rounds: number, lockLog: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, mode, url, vdir, String(rounds), lockLog], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Mailbox in, firm up and down, mailbox out; each alone. */
async function settle(url: string, vdir: string, lockLog: string): Promise<void> {
  for (const mode of ['mailbox-quiet', 'firm', 'mailbox-quiet']) {
    const exit = await worker(mode, url, vdir, 1, lockLog);
    if (exit.code !== 0 || exit.stderr !== '') throw new Error(`${mode} worker failed: ${exit.stderr}`);
  }
}

function reports(exit: Exit): { kind: string; report: RunReport | FirmRunReport }[] {
  return exit.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** User i holds person k when it owns k (k mod users = i) and for every second person besides. */
const holds = (i: number, k: number) => k % USERS === i || (k + i) % 2 === 0;

function card(k: number, i: number): string {
  // Users type the same address differently; matching must not care.
  const email = i % 2 === 0 ? `person${k}@firm.example` : ` Person${k}@FIRM.example`;
  return `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:p${k}-u${i}\r\nFN:Person ${k}\r\nN:${k};Person;;;\r\nEMAIL:${email}\r\nTEL;TYPE=work:+1-0-${k}\r\nNOTE:note of u${i}\r\nEND:VCARD\r\n`;
}

interface LockEvent {
  readonly at: number;
  readonly event: string;
  readonly user: string;
  readonly holder: string;
}

/** Per user, the [acquire, release] intervals of each holder; throws on a lease never given back. */
function intervals(log: string): Map<string, { holder: string; from: number; to: number }[]> {
  const events: LockEvent[] = log
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [at, event, user, holder] = l.split(' ');
      return { at: Number(at), event: event!, user: user!, holder: holder! };
    });
  const open = new Map<string, number>();
  const out = new Map<string, { holder: string; from: number; to: number }[]>();
  for (const e of events) {
    const key = `${e.user} ${e.holder}`;
    if (e.event === 'acquire') open.set(key, e.at);
    else {
      const from = open.get(key);
      if (from === undefined) throw new Error(`release without acquire: ${key}`);
      open.delete(key);
      out.set(e.user, [...(out.get(e.user) ?? []), { holder: e.holder, from, to: e.at }]);
    }
  }
  if (open.size > 0) throw new Error(`leases never given back: ${[...open.keys()].join(', ')}`);
  return out;
}

describe.each(DIALECTS)('mailbox sync and firm sync in two processes (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'liaison-firm-concurrent-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('both finish, never hold one user at once, and lose nothing', { timeout: 180_000 }, async () => {
    requireFreshBuild();
    const db = database();
    const url = urlOf(db);
    const vdir = join(dir, dialect, 'mailboxes');
    const lockLog = join(dir, `${dialect}-locks.log`);
    writeFileSync(lockLog, '');
    await new ServerRepo(db).add({ name: 'files', kind: 'vdir', url: vdir });
    for (let i = 0; i < USERS; i++) {
      await new UserRepo(db).add({ login: `u${i}`, server: 'files', contactsEnabled: true });
      mkdirSync(join(vdir, `u${i}`, 'contacts'), { recursive: true });
      mkdirSync(join(vdir, `u${i}`, 'calendar'), { recursive: true });
      for (let k = 0; k < PERSONS; k++) {
        if (holds(i, k)) writeFileSync(join(vdir, `u${i}`, 'contacts', `p${k}-u${i}.vcf`), card(k, i));
      }
    }

    // A steady state first: every contact in, connected, and back out. (A person's number changed
    // before every copy is connected would be united with the other copies' old numbers: that is
    // what connecting does to set fields, not what this test is about.)
    await settle(url, vdir, lockLog);

    const [mailbox, firm] = await Promise.all([
      worker('mailbox', url, vdir, ROUNDS, lockLog),
      worker('firm', url, vdir, ROUNDS + 2, lockLog),
    ]);
    expect(mailbox.stderr).toBe('');
    expect(firm.stderr).toBe('');
    expect([mailbox.code, firm.code]).toEqual([0, 0]);

    // No user was ever held by both processes at once.
    const held = intervals(readFileSync(lockLog, 'utf8'));
    for (const [user, list] of held) {
      for (const a of list) {
        for (const b of list) {
          if (a.holder !== b.holder && a.from < b.to && b.from < a.to) {
            throw new Error(`user ${user} held by ${a.holder} and ${b.holder} at once`);
          }
        }
      }
    }
    // And the two really ran side by side.
    const all = [...held.values()].flat();
    const span = (prefix: string) => {
      const mine = all.filter((x) => x.holder.startsWith(prefix));
      return { from: Math.min(...mine.map((x) => x.from)), to: Math.max(...mine.map((x) => x.to)) };
    };
    const m = span('mailbox-sync');
    const f = span('firm-sync');
    expect(m.from < f.to && f.from < m.to).toBe(true);

    // Every run finished; busy users were skipped, none failed.
    const concurrentReports = [...reports(mailbox), ...reports(firm)];
    expect(concurrentReports).toHaveLength(ROUNDS + ROUNDS + 2);
    for (const { kind, report } of concurrentReports) {
      const outcomes =
        kind === 'firm'
          ? (report as FirmRunReport).users.map((u) => [u.outcome, u.reason])
          : (report as RunReport).collections.map((c) => [c.outcome, c.reason]);
      expect(outcomes.filter(([o]) => o === 'failed')).toEqual([]);
    }

    await settle(url, vdir, lockLog);

    // Nothing lost: one firm contact per person and per new contact, every contact connected,
    // every holder of a person shows its owner's last phone number, in the database and mailbox.
    const store = createFirmStore(db);
    const firmContacts = await store.searchFirmContacts(null, 10_000);
    expect(firmContacts).toHaveLength(PERSONS + USERS * ROUNDS);
    const repo = new ContactRepo(db);
    const users = await new UserRepo(db).list();
    for (const [i, user] of users.entries()) {
      const contacts = await repo.list(user.id);
      const expectedCount = [...Array(PERSONS).keys()].filter((k) => holds(i, k)).length + ROUNDS;
      expect(contacts).toHaveLength(expectedCount);
      const links = await store.userContacts(contacts.map((c) => c.id));
      expect(links.filter((l) => l.firmContactId === null)).toEqual([]);
      for (const c of contacts) {
        const k = /^p(\d+)-/.exec(c.item.uid)?.[1];
        if (k === undefined) continue;
        expect([c.item.uid, c.item.phones.map((p) => p.value)]).toEqual([c.item.uid, [`+1-${ROUNDS}-${k}`]]);
        expect(c.item.note).toBe(`note of u${i}`);
      }
      const files = readdirSync(join(vdir, user.login, 'contacts')).filter((n) => n.endsWith('.vcf'));
      expect(files).toHaveLength(expectedCount);
      for (const file of files) {
        const text = readFileSync(join(vdir, user.login, 'contacts', file), 'utf8');
        const k = /^UID:p(\d+)-/m.exec(text)?.[1];
        if (k !== undefined) expect(text).toContain(`+1-${ROUNDS}-${k}`);
      }
    }
  });
});
