/**
 * The firm sync part of `npm run bench` (issue 4, "Scale"), on SQLite and on PostgreSQL:
 * BENCH_FIRM_USERS (1,000) users × BENCH_FIRM_CONTACTS (1,000) user contacts drawn from
 * about users × contacts / 5 distinct people, with the spelling and case variations people
 * type (upper- and lower-case names and addresses, accents dropped, stray spaces,
 * punctuation in company names), a few contacts with no e-mail address (matched on name and
 * organization, so homonyms are flagged as possible duplicates), a few with neither name
 * nor e-mail, and a few private ones.
 *
 * The parent seeds the database (one transaction of batched multi-row inserts per user,
 * through the sync store), then a child process (`firm-steps.ts`) runs the measured steps,
 * so its peak memory is firm sync's own. Targets: the initial up step under 500 MB, the
 * incremental cycle after 1,000 changed user contacts under 5 s.
 *
 * PostgreSQL is a throwaway cluster (as the tests start one); without its binaries that
 * half is skipped with the reason.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { SampleData } from '../src/demo/sample-data.js';
import type { Contact } from '../src/domain/contact.js';
import { asUid } from '../src/domain/ids.js';
import { firmMatchKeys } from '../src/firm/match-keys.js';
import { openApp } from '../src/main.js';
import { createDatabase, startPostgres } from '../test/support/postgres.js';
import type { FirmStepsMessage, FirmStepsResult } from './firm-steps.js';

const USERS = Number(process.env.BENCH_FIRM_USERS ?? 1_000);
const CONTACTS = Number(process.env.BENCH_FIRM_CONTACTS ?? 1_000);
const PEOPLE = Math.max(CONTACTS, Math.round((USERS * CONTACTS) / 5));
const UP_MEMORY_MB = 500;
const CYCLE_MS = 5_000;

type Write = (text: string) => void;

/** What the seed holds, to check the steps' counts against. */
interface Seeded {
  readonly userContacts: number;
  /** Distinct people with at least one shared (not private) copy carrying an e-mail address. */
  readonly peopleWithEmail: number;
  /** Shared copies with a name but no e-mail address: matched on name and organization. */
  readonly nameOnly: number;
  /**
   * Distinct people with e-mail who share their name and organization with another such person:
   * namesakes, never merged, so one of each pair may be flagged as a possible duplicate.
   */
  readonly namesakes: number;
  /** Copies with neither: kept, not matched. */
  readonly unmatchable: number;
  readonly private: number;
  readonly ms: number;
}

/** Letters with the accents people leave out. */
function stripAccents(s: string): string {
  return s.normalize('NFKD').replace(/\p{M}/gu, '');
}

/** The way one user typed a name. */
function typed(gen: SampleData, s: string): string {
  const r = gen.next();
  if (r < 0.08) return s.toUpperCase();
  if (r < 0.16) return s.toLowerCase();
  if (r < 0.26) return stripAccents(s);
  if (r < 0.3) return ` ${s}  `;
  return s;
}

/** The way one user typed an e-mail address. */
function typedEmail(gen: SampleData, email: string): string {
  const r = gen.next();
  if (r < 0.1) return email.toUpperCase();
  if (r < 0.2) return email.replace(/(^|\.)([a-z])/g, (_m, dot: string, c: string) => dot + c.toUpperCase());
  if (r < 0.23) return ` ${email} `;
  return email;
}

/** The way one user typed a company: "Acme Ltd", "ACME LTD.", "Acme, Ltd". */
function typedCompany(gen: SampleData, company: string): string {
  const r = gen.next();
  if (r < 0.1) return `${company.toUpperCase()}.`;
  if (r < 0.2) return company.replace(' ', ', ');
  return company;
}

/**
 * Person `p` as one user keeps them. Names of the sample data repeat every 3,600 people: a
 * middle initial makes homonyms rarer (as in a real address book), not absent.
 */
function userContact(gen: SampleData, p: number, uid: string): Contact {
  const base = gen.contact(p, 'person');
  const initial = String.fromCharCode(65 + (Math.floor(p / 3600) % 26));
  const given = typed(gen, base.name.given);
  const family = typed(gen, base.name.family);
  const r = gen.next();
  const unmatchable = r < 0.002;
  const nameOnly = !unmatchable && r < 0.02;
  return {
    ...base,
    uid: asUid(uid),
    name: unmatchable
      ? { prefix: '', given: '', additional: '', family: '', suffix: '' }
      : { ...base.name, given, additional: initial, family },
    formattedName: unmatchable ? '' : `${given} ${initial}. ${family}`,
    organization: unmatchable ? '' : typedCompany(gen, base.organization),
    emails:
      unmatchable || nameOnly ? [] : base.emails.map((e) => ({ ...e, value: typedEmail(gen, e.value) })),
    private: gen.next() < 0.01,
  };
}

/** Users and their contacts, one transaction of batched inserts per user. */
async function seed(url: string): Promise<Seeded> {
  const t0 = performance.now();
  const gen = new SampleData(4);
  const app = await openApp(url);
  try {
    await app.repos.servers.add({ name: 'files', kind: 'vdir', url: join(tmpdir(), 'liaison-firm-bench') });
    const withEmail = new Set<number>();
    const peopleOfName = new Map<string, Set<number>>();
    let nameOnly = 0;
    let unmatchable = 0;
    let privateCount = 0;
    for (let u = 0; u < USERS; u++) {
      const user = await app.repos.users.add({
        login: `user${String(u).padStart(4, '0')}`,
        server: 'files',
        contactsEnabled: true,
      });
      const drawn = new Set<number>();
      const batch = [];
      while (drawn.size < CONTACTS) {
        const p = Math.floor(gen.next() * PEOPLE);
        if (drawn.has(p)) continue;
        drawn.add(p);
        const item = userContact(gen, p, `u${u}-p${p}`);
        if (item.private) privateCount += 1;
        else if (item.emails.length > 0) {
          withEmail.add(p);
          const key = firmMatchKeys(item).name;
          const people = peopleOfName.get(key);
          if (people === undefined) peopleOfName.set(key, new Set([p]));
          else people.add(p);
        } else if (item.formattedName !== '') nameOnly += 1;
        else unmatchable += 1;
        batch.push({ firm: { op: 'create' as const, item }, journal: [] });
      }
      await app.repos.contactSync.commit(user.id, 'contacts', 'bench-seed', batch);
    }
    return {
      userContacts: USERS * CONTACTS,
      peopleWithEmail: withEmail.size,
      nameOnly,
      namesakes: [...peopleOfName.values()].reduce((n, people) => n + (people.size > 1 ? people.size : 0), 0),
      unmatchable,
      private: privateCount,
      ms: performance.now() - t0,
    };
  } finally {
    await app.close();
  }
}

/** Runs the measured steps in a child process on the seeded database. */
function measure(url: string): Promise<FirmStepsResult> {
  const child = fork(fileURLToPath(new URL('./firm-steps.js', import.meta.url)), [url], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    child.on('message', (m: FirmStepsMessage) => {
      settled = true;
      if (m.type === 'result') resolve(m.result);
      else reject(new Error(`firm sync's benchmark process failed: ${m.message}`));
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (!settled) reject(new Error(`firm sync's benchmark process exited (${code ?? signal})`));
    });
  });
}

function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`;
}

function verdict(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

function print(write: Write, seeded: Seeded, r: FirmStepsResult): void {
  for (const s of r.steps) {
    const t = s.totals;
    write(
      `  ${s.name.padEnd(58)} ${ms(s.ms).padStart(11)}   peak ${s.peakRssMb.toFixed(0)} MB   load ${s.load.toFixed(1)}\n` +
        `    firm +${t.firmCreated} ~${t.firmUpdated}, connected ${t.connected}, flagged ${t.flaggedDuplicates}, ` +
        `user contacts updated ${t.userContactsUpdated}, reviews ${t.reviewsHeld}, not matched ${t.notMatched}, ` +
        `kept private ${t.keptPrivate}${s.failed > 0 ? `, FAILED users ${s.failed}` : ''}\n`,
    );
  }
  write(
    `  (changing ${r.changed} user contacts of ${r.changedUsers} users took ${ms(r.editMs)}, not measured)\n`,
  );
  const [up, , , cycle] = r.steps;
  write(
    `  ${'initial up step peak memory (RSS)'.padEnd(58)} ${`${up!.peakRssMb.toFixed(0)} MB`.padStart(11)}   (target < ${UP_MEMORY_MB} MB)  ${verdict(up!.peakRssMb < UP_MEMORY_MB)}\n`,
  );
  write(
    `  ${'incremental cycle (up + down)'.padEnd(58)} ${ms(cycle!.ms).padStart(11)}   (target < ${ms(CYCLE_MS)})  ${verdict(cycle!.ms < CYCLE_MS)}\n`,
  );

  // The seed's counts against what the steps did.
  const checks: [string, boolean][] = [];
  const t = up!.totals;
  checks.push([
    `user contacts in the database ${r.userContacts} = seeded ${seeded.userContacts}`,
    r.userContacts === seeded.userContacts,
  ]);
  checks.push([
    `firm contacts in the database ${r.firmContacts} = created by the up step ${t.firmCreated}`,
    r.firmContacts === t.firmCreated,
  ]);
  checks.push([
    `firm contacts ${t.firmCreated} within distinct people with e-mail ${seeded.peopleWithEmail} .. + name-only copies ${seeded.peopleWithEmail + seeded.nameOnly}`,
    t.firmCreated >= seeded.peopleWithEmail && t.firmCreated <= seeded.peopleWithEmail + seeded.nameOnly,
  ]);
  checks.push([
    `not matched ${t.notMatched} = seeded without name or e-mail ${seeded.unmatchable}`,
    t.notMatched === seeded.unmatchable,
  ]);
  checks.push([
    `kept private ${t.keptPrivate} = seeded private ${seeded.private}`,
    t.keptPrivate === seeded.private,
  ]);
  checks.push([
    `flagged duplicates ${t.flaggedDuplicates} ≤ name-only copies ${seeded.nameOnly} + namesakes ${seeded.namesakes}`,
    t.flaggedDuplicates <= seeded.nameOnly + seeded.namesakes,
  ]);
  checks.push([`no failed user in any step`, r.steps.every((s) => s.failed === 0)]);
  for (const [what, ok] of checks) write(`  check: ${what}  ${ok ? 'ok' : 'WRONG'}\n`);
}

async function benchDialect(write: Write, name: string, url: string): Promise<void> {
  const seeded = await seed(url);
  write(
    `  seeded ${seeded.userContacts.toLocaleString('en-US')} user contacts in ${ms(seeded.ms)}: ` +
      `${seeded.peopleWithEmail.toLocaleString('en-US')} distinct people with e-mail (${seeded.namesakes.toLocaleString('en-US')} of them namesakes), ${seeded.nameOnly} name-only, ` +
      `${seeded.unmatchable} without name or e-mail, ${seeded.private} private\n`,
  );
  write(`  load average before the steps: ${loadavg()[0]!.toFixed(1)} (${cpus().length} CPUs)\n`);
  try {
    print(write, seeded, await measure(url));
  } catch (e) {
    write(`  ${name} failed: ${e instanceof Error ? e.message : e}\n`);
  }
}

/** The firm sync part of the benchmark, printed as it goes. */
export async function benchFirm(write: Write): Promise<void> {
  const size = `${USERS.toLocaleString('en-US')} users × ${CONTACTS.toLocaleString('en-US')} contacts, ${PEOPLE.toLocaleString('en-US')} people`;
  write(`\nFirm sync, SQLite (${size})\n`);
  const dir = mkdtempSync(join(tmpdir(), 'liaison-firm-bench-'));
  try {
    await benchDialect(write, 'SQLite', join(dir, 'firm.db'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  write(`\nFirm sync, PostgreSQL (${size})\n`);
  let cluster: Awaited<ReturnType<typeof startPostgres>>;
  try {
    cluster = await startPostgres();
  } catch (e) {
    write(`  skipped: ${e instanceof Error ? e.message.split('\n')[0] : e}\n`);
    return;
  }
  try {
    const database = await createDatabase(cluster.url, 'liaison_bench');
    try {
      await benchDialect(write, 'PostgreSQL', database.url);
    } finally {
      await database.drop();
    }
  } finally {
    await cluster.stop();
  }
}
