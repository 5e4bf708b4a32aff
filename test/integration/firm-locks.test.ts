import { describe, expect, it } from 'vitest';
import { createFirmStore } from '../../src/db/firm-sync-store.js';
import { LockRepo } from '../../src/db/lock-repo.js';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { asUid, type FirmItemId, type UserId } from '../../src/domain/ids.js';
import { BUSY_REASON, firmExitCode } from '../../src/firm/firm-report.js';
import type { FirmStore, FirmTx } from '../../src/firm/ports.js';
import { EXIT } from '../../src/sync/report.js';
import { FirmWorld, firmDeps } from '../support/firm-sync-deps.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

function person(uid: string, email: string): Contact {
  return {
    ...emptyContact(asUid(uid)),
    name: { prefix: '', given: uid, additional: '', family: 'Person', suffix: '' },
    formattedName: `${uid} Person`,
    emails: [{ types: [], value: email }],
  };
}

/**
 * The real store, except that the `nth` up batch of `user` fails after all its writes, before
 * commit: what a database error in the middle of a batch looks like to the service.
 */
function failingStore(real: FirmStore, user: () => UserId, nth: number): FirmStore {
  let batches = 0;
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
      return <T>(options: { readonly firmWrites: boolean }, fn: (tx: FirmTx) => Promise<T>) =>
        target.transaction(options, async (tx) => {
          let mine = false;
          const watched: FirmTx = new Proxy(tx, {
            get(t, p, r) {
              const value = Reflect.get(t, p, r);
              if (p === 'changedUserContacts') {
                return (u: UserId, ...rest: [number, number, number]) => {
                  mine = u === user();
                  return t.changedUserContacts(u, ...rest);
                };
              }
              return typeof value === 'function' ? value.bind(t) : value;
            },
          });
          const result = await fn(watched);
          if (mine && ++batches === nth) throw new Error('injected: the database went away mid-batch');
          return result;
        });
    },
  });
}

/** The real store, except that `method` of every transaction fails whenever `when` holds for its argument. */
function failingWrite<K extends 'writeLinks' | 'writeUserContacts'>(
  real: FirmStore,
  method: K,
  when: (arg: Parameters<FirmTx[K]>[0]) => boolean,
): FirmStore {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
      return <T>(options: { readonly firmWrites: boolean }, fn: (tx: FirmTx) => Promise<T>) =>
        target.transaction(options, (tx) =>
          fn(
            new Proxy(tx, {
              get(t, p, r) {
                const value = Reflect.get(t, p, r);
                if (p !== method) return typeof value === 'function' ? value.bind(t) : value;
                return (arg: Parameters<FirmTx[K]>[0]) => {
                  if (when(arg)) throw new Error(`injected: ${method} failed`);
                  return (value as (a: typeof arg) => unknown).call(t, arg);
                };
              },
            }),
          ),
        );
    },
  });
}

describe.each(DIALECTS)('firm sync and the per-user leases (%s)', (dialect) => {
  const database = useTestDatabase(dialect);

  it('skips a user another sync holds, without waiting, and takes them on the next run', async () => {
    const w = new FirmWorld(database());
    const a = await w.add('alice', person('a', 'p@x.example'));
    const b = await w.add('bob', person('b', 'p@x.example'));
    const bob = w.users.get('bob')!;
    const locks = new LockRepo(database());
    const hold = () => locks.tryAcquire(bob, 'mailbox-sync@elsewhere', 60_000);
    const free = () => locks.release(bob, 'mailbox-sync@elsewhere');
    const bobs = (r: Awaited<ReturnType<typeof w.run>>) =>
      r.users.filter((u) => u.user === 'bob').map((u) => [u.step, u.outcome, u.reason]);

    expect(await hold()).toBe(true);
    const started = Date.now();
    const report = await w.run();
    expect(Date.now() - started).toBeLessThan(10_000);
    // Up has work and is skipped; down has nothing for Bob yet, so it needs no lease.
    expect(bobs(report)).toEqual([
      ['up', 'skipped', BUSY_REASON],
      ['down', 'unchanged', null],
    ]);
    expect(firmExitCode(report)).toBe(EXIT.skipped);
    expect(await w.linkOf(a)).not.toBeNull();
    expect(await w.linkOf(b)).toBeNull();
    // Still held by the other sync, untouched by firm sync.
    expect(await locks.holder(bob)).toBe('mailbox-sync@elsewhere');
    await free();
    const next = await w.run();
    expect(firmExitCode(next)).toBe(EXIT.ok);
    expect(await w.linkOf(b)).toBe(await w.linkOf(a));
    // The down step wrote Bob's contact; the next up step reads that write once, as no change.
    expect((await w.run()).totals.firmUpdated).toBe(0);

    // A firm change for Bob while he is busy: held back, then brought down next run.
    await w.edit(a, { title: 'Partner' });
    await hold();
    const busyDown = await w.run();
    expect(bobs(busyDown)).toEqual([
      ['up', 'unchanged', null],
      ['down', 'skipped', BUSY_REASON],
    ]);
    expect((await w.contact(b)).title).toBe('');
    await free();
    await w.run();
    expect((await w.contact(b)).title).toBe('Partner');
  });

  it('takes over the expired lease of a crashed holder', async () => {
    const w = new FirmWorld(database());
    const b = await w.add('bob', person('b', 'b@x.example'));
    const bob = w.users.get('bob')!;
    const stale = new LockRepo(database(), () => Date.now() - 120_000);
    expect(await stale.tryAcquire(bob, 'dead-process', 90_000)).toBe(true);
    const report = await w.run('up');
    expect(report.users[0]).toMatchObject({ outcome: 'synced' });
    expect(await w.linkOf(b)).not.toBeNull();
    expect(await new LockRepo(database()).holder(bob)).toBeNull();
  });

  it('users taken together: one user’s database error fails that user only, in either step', async () => {
    const base = new FirmWorld(database());
    const ids = new Map<string, FirmItemId>();
    for (const login of ['alice', 'bob', 'carol', 'dave']) {
      ids.set(login, await base.add(login, person(`${login}-p`, 'p@x.example')));
    }
    const real = createFirmStore(database());
    const bobs = ids.get('bob')!;
    const up = new FirmWorld(
      database(),
      firmDeps(database(), {
        store: failingWrite(real, 'writeLinks', (links) => links.some((l) => l.userContactId === bobs)),
      }),
    );
    const first = await up.run('up');
    expect(first.users.map((u) => [u.user, u.outcome])).toEqual([
      ['alice', 'synced'],
      ['bob', 'failed'],
      ['carol', 'synced'],
      ['dave', 'synced'],
    ]);
    expect(first.users[1]?.reason).toContain('injected');
    expect(first.totals).toMatchObject({ firmCreated: 1, connected: 2 });
    const firm = await base.linkOf(ids.get('alice')!);
    expect(await base.linkOf(ids.get('carol')!)).toBe(firm);
    expect(await base.linkOf(bobs)).toBeNull();
    // Bob's part left nothing behind, and the next run takes it.
    expect((await real.cursors([base.users.get('bob')!])).get(base.users.get('bob')!)?.up ?? 0).toBe(0);
    expect((await base.run('up')).users.map((u) => u.outcome)).toEqual([
      'unchanged',
      'synced',
      'unchanged',
      'unchanged',
    ]);
    expect(await base.linkOf(bobs)).toBe(firm);

    // The down step: Alice's title goes to the others; Carol's copy cannot be written.
    await base.edit(ids.get('alice')!, { title: 'Partner' });
    await base.run('up');
    const carols = ids.get('carol')!;
    const down = new FirmWorld(
      database(),
      firmDeps(database(), {
        store: failingWrite(real, 'writeUserContacts', (writes) => writes.some((w) => w.id === carols)),
      }),
    );
    const report = await down.run('down');
    expect(report.users.map((u) => [u.user, u.outcome])).toEqual([
      ['alice', 'unchanged'],
      ['bob', 'synced'],
      ['carol', 'failed'],
      ['dave', 'synced'],
    ]);
    expect(firmExitCode(report)).toBe(EXIT.failed);
    expect((await base.contact(bobs)).title).toBe('Partner');
    expect((await base.contact(ids.get('dave')!)).title).toBe('Partner');
    expect((await base.contact(carols)).title).toBe('');
    await base.run('down');
    expect((await base.contact(carols)).title).toBe('Partner');
  });

  it('users taken together: one held by another sync is skipped, the others are taken', async () => {
    const w = new FirmWorld(database());
    const ids = new Map<string, FirmItemId>();
    for (const login of ['alice', 'bob', 'carol']) {
      ids.set(login, await w.add(login, person(`${login}-p`, 'p@x.example')));
    }
    await w.run();
    await w.edit(ids.get('alice')!, { title: 'Partner' });
    await w.run('up');
    const locks = new LockRepo(database());
    const bob = w.users.get('bob')!;
    expect(await locks.tryAcquire(bob, 'mailbox-sync@elsewhere', 60_000)).toBe(true);
    const report = await w.run('down');
    expect(report.users.map((u) => [u.user, u.outcome, u.reason])).toEqual([
      ['alice', 'unchanged', null],
      ['bob', 'skipped', BUSY_REASON],
      ['carol', 'synced', null],
    ]);
    expect(await locks.holder(bob)).toBe('mailbox-sync@elsewhere');
    expect(await locks.holder(w.users.get('carol')!)).toBeNull();
    await locks.release(bob, 'mailbox-sync@elsewhere');
    await w.run('down');
    expect((await w.contact(ids.get('bob')!)).title).toBe('Partner');
  });

  it('a database error in a user’s batch rolls back that batch; the next user is synced', async () => {
    const base = new FirmWorld(database());
    for (const uid of ['a1', 'a2', 'a3']) await base.add('alice', person(uid, `${uid}@x.example`));
    const bobContact = await base.add('bob', person('b1', 'b1@x.example'));
    const alice = base.users.get('alice')!;
    const real = createFirmStore(database());
    const deps = firmDeps(database(), { store: failingStore(real, () => alice, 2), batchSize: 2 });
    const w = new FirmWorld(database(), deps);
    const report = await w.run('up');
    const aliceReport = report.users.find((u) => u.user === 'alice');
    expect(aliceReport).toMatchObject({ outcome: 'failed', counts: { firmCreated: 2 } });
    expect(aliceReport?.reason).toContain('injected');
    expect(report.users.find((u) => u.user === 'bob')).toMatchObject({ outcome: 'synced' });
    expect(firmExitCode(report)).toBe(EXIT.failed);
    // The first batch (two contacts) stands; the failed one left nothing behind.
    const contacts = await base.contacts.list(alice);
    const links = await Promise.all(contacts.map((c) => base.linkOf(c.id)));
    expect(links.filter((l) => l !== null)).toHaveLength(2);
    expect(await real.searchFirmContacts(null, 10)).toHaveLength(3);
    expect((await real.cursors([alice])).get(alice)?.up).toBe(contacts[1]!.changeSeq);
    expect(await base.linkOf(bobContact)).not.toBeNull();
    // The next run takes the rest.
    const next = await base.run('up');
    expect(next.users.find((u) => u.user === 'alice')).toMatchObject({
      outcome: 'synced',
      counts: { firmCreated: 1 },
    });
    expect(await real.searchFirmContacts(null, 10)).toHaveLength(4);
  });
});
