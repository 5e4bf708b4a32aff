/**
 * One side of test/integration/firm-concurrent.test.ts, run as a process of its own against the
 * shared firm database. It imports the compiled code from dist/ (`npm test` builds it first):
 * Node 20 cannot run the TypeScript sources directly.
 *
 *   node firm-concurrency-worker.mjs MODE DB_URL VDIR_ROOT ROUNDS LOCK_LOG
 *
 * MODE `firm` runs firm sync (both steps) ROUNDS times. MODE `mailbox` runs mailbox sync of
 * contacts ROUNDS times; before each round it edits every user's vdir mailbox the way a user's
 * client would: the phone number of each person the user "owns" (see the test) and one new
 * contact. MODE `mailbox-quiet` syncs without editing. Every lease taken and given back is
 * appended to LOCK_LOG with a wall-clock time in milliseconds (fractional), so that the test can
 * check that no user was ever held by both processes at once. Each run's report is printed as
 * one JSON line.
 */
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const [mode, dbUrl, vdirRoot, roundsText, lockLog] = process.argv.slice(2);
const rounds = Number(roundsText);
const dist = new URL('../../dist/src/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);

const { openDatabase } = await load('db/open.js');
const { LockRepo } = await load('db/lock-repo.js');
const { RunRepo } = await load('db/run-repo.js');
const { UserRepo } = await load('db/user-repo.js');
const { HeldPlanRepo } = await load('db/held-plan-repo.js');
const { contactSyncStore, appointmentSyncStore } = await load('db/sync-store.js');
const { createFirmStore } = await load('db/firm-sync-store.js');
const { FirmUserRepo } = await load('db/firm-user-repo.js');
const { newId } = await load('db/new-id.js');
const { VdirMailboxServer } = await load('mailbox/vdir/vdir-mailbox-server.js');
const { runMailboxSync } = await load('sync/run-sync.js');
const { DEFAULT_SETTINGS } = await load('sync/settings.js');
const { runFirmSync } = await load('firm/run-firm-sync.js');

const database = await openDatabase(dbUrl, { poolSize: 4 });
const lockRepo = new LockRepo(database);
const runRepo = new RunRepo(database);
const now = () => (performance.timeOrigin + performance.now()).toFixed(3);
const log = (event, user, holder) => appendFileSync(lockLog, `${now()} ${event} ${user} ${holder}\n`);

const locks = {
  async tryAcquire(user, holder, ms) {
    const ok = await lockRepo.tryAcquire(user, holder, ms);
    if (ok) log('acquire', user, holder);
    return ok;
  },
  async renew(user, holder, ms) {
    await lockRepo.renew(user, holder, ms);
  },
  async release(user, holder) {
    log('release', user, holder);
    await lockRepo.release(user, holder);
  },
};
const runs = {
  start: (kind, settings) => runRepo.start(kind, settings),
  finish: (id, status, report) => runRepo.finish(id, status, report),
};
const pause = () => new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 15)));

/** The test's edits of a user's mailbox in one round: owned persons' phones, one new contact. */
function editMailbox(login, index, userCount, round) {
  const dir = join(vdirRoot, login, 'contacts');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.vcf'))) {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const uid = /^UID:p(\d+)-/m.exec(text);
    if (uid === null || Number(uid[1]) % userCount !== index) continue;
    // The person's number changes: every TEL line goes, the new one comes.
    const tel = `TEL;TYPE=work:+1-${round}-${uid[1]}`;
    const next = text.replace(/^TEL[;:].*\r?\n/gm, '').replace('END:VCARD', `${tel}\r\nEND:VCARD`);
    writeFileSync(path, next);
  }
  const uid = `new-${round}-${login}`;
  writeFileSync(
    join(dir, `${uid}.vcf`),
    `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:New ${round} ${login}\r\nN:${login};New ${round};;;\r\nEMAIL:${uid}@new.example\r\nEND:VCARD\r\n`,
  );
}

async function mailboxRounds(edit) {
  const users = await new UserRepo(database).list();
  const server = new VdirMailboxServer(vdirRoot, { fsync: false });
  const deps = {
    listUsers: async () =>
      users.map((u) => ({
        id: u.id,
        login: u.login,
        server: u.server,
        account: u.mailboxAccount,
        group: u.serverGroup === '' ? null : u.serverGroup,
        contacts: u.contactsEnabled,
        calendar: u.calendarEnabled,
      })),
    openMailbox: async (user) => server.open(user.account),
    contacts: contactSyncStore(database),
    calendar: appointmentSyncStore(database),
    held: new HeldPlanRepo(database),
    locks,
    runs,
    outcomes: { note: (user, kind, failure) => runRepo.noteCollectionOutcome(user, kind, failure) },
    now: () => new Date(),
    holder: `mailbox-sync:${process.pid}`,
  };
  const settings = {
    ...DEFAULT_SETTINGS,
    mode: 'complete',
    // The test's rounds change many items at once; the mass-change guard is not under test.
    guards: { maxDeletions: 1e9, maxChangeRatio: 1, minChangesForRatio: 1e9 },
  };
  for (let round = 1; round <= rounds; round++) {
    if (edit) for (const [i, u] of users.entries()) editMailbox(u.login, i, users.length, round);
    const report = await runMailboxSync(
      deps,
      { users: 'all', servers: [], groups: [], scope: 'contacts' },
      settings,
    );
    process.stdout.write(`${JSON.stringify({ kind: 'mailbox', report })}\n`);
    await pause();
  }
}

async function firmRounds() {
  const deps = {
    store: createFirmStore(database),
    users: new FirmUserRepo(database),
    locks,
    runs,
    now: () => new Date(),
    holder: `firm-sync:${process.pid}`,
    newId,
    batchSize: 7,
  };
  for (let round = 1; round <= rounds; round++) {
    const report = await runFirmSync(deps, { step: 'both', groups: [], dryRun: false });
    process.stdout.write(`${JSON.stringify({ kind: 'firm', report })}\n`);
    await pause();
  }
}

try {
  if (mode === 'firm') await firmRounds();
  else await mailboxRounds(mode === 'mailbox');
} finally {
  await database.close();
}
