import { describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import type { MailboxStore } from '../../src/mailbox/port.js';
import { delegatingStore } from '../support/delegating-collection.js';
import { memorySync } from '../support/memory-sync.js';

const note = (uid: string, title: string) => ({ uid: asUid(uid), title, body: '', tags: [], private: false });

describe('the marker write of a run that applies a plan', () => {
  it('goes out before the plan is written; a run that then fails leaves a note the next run accepts', async () => {
    const { server, firm, sync } = await memorySync();
    await sync({ settings: { mode: 'complete' } });
    const store = server.open('acct');
    const before = (await store.readMarker())?.collections.contacts;
    expect(before).toBeDefined();

    firm.userPut(null, note('n1', 'Note 1'));
    firm.failCommitAt = firm.commits + 1;
    const failed = await sync({ settings: { mode: 'express' } }).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(Error);
    firm.failCommitAt = null;
    // The note moved on, the database only noted the time as pending: not a restore.
    const pending = firm.state.pendingSync;
    const written = (await store.readMarker())?.collections.contacts;
    expect(written).not.toBe(before);
    expect(written).toBe(pending);

    const rerun = await sync({ settings: { mode: 'express' } });
    expect(rerun.outcome).toBe('synced');
    // The failed run's item reached the mailbox; the rerun pairs it instead of writing it twice.
    expect(rerun.toMailbox.created + rerun.paired).toBe(1);
    expect(server.items('acct', 'contacts').size).toBe(1);
    const { state } = firm;
    expect(state.outOfSync).toBe(false);
    expect(state.lastSync).toBe((await store.readMarker())?.collections.contacts);
    expect(state.pendingSync).toBeNull();
  });

  it('is not made by a run that finds nothing to apply', async () => {
    const { server, sync } = await memorySync();
    await sync({ settings: { mode: 'complete' } });
    const store = server.open('acct');
    const before = (await store.readMarker())?.collections.contacts;
    expect((await sync({ settings: { mode: 'complete' } })).outcome).toBe('unchanged');
    expect((await store.readMarker())?.collections.contacts).toBe(before);
  });

  it('a dry run that finds the marker out of step reports it and marks nothing', async () => {
    const { server, firm, sync } = await memorySync();
    firm.userPut(null, note('n1', 'Note 1'));
    await sync({ settings: { mode: 'complete' } });
    const store = server.open('acct');
    // The mailbox restored from an older copy: its note is older than the database's time.
    await store.writeMarker({ collections: { contacts: '2001-01-01T00:00:00.000Z' } });
    firm.userPut(null, note('n2', 'Note 2'));

    const dry = await sync({ settings: { mode: 'express', dryRun: true } });
    expect(dry.outcome).toBe('skipped');
    expect(dry.reason).toMatch(/^out of sync: /);
    expect(firm.state.outOfSync).toBe(false);

    const real = await sync({ settings: { mode: 'express' } });
    expect(real.outcome).toBe('skipped');
    expect(firm.state.outOfSync).toBe(true);
  });
});

describe('upkeep of the firm database while the marker write is answered', () => {
  /** `store` with its marker writes held until `release` is called. */
  function slowMarker(store: MailboxStore) {
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: MailboxStore = {
      ...delegatingStore(store, () => ({})),
      async writeMarker(n) {
        await gate;
        await store.writeMarker(n);
      },
    };
    return { slow, release };
  }

  it('is done once the plan is written and the write is still under way', async () => {
    const { server, firm, sync } = await memorySync();
    await sync({ settings: { mode: 'complete' } });
    firm.userPut(null, note('n1', 'Note 1'));
    const { slow, release } = slowMarker(server.open('acct'));
    const commits = firm.commits;
    let finished = false;
    const running = sync({ mailbox: slow }).finally(() => {
      finished = true;
    });
    for (let turn = 0; turn < 100 && firm.tidied === 0; turn++) await new Promise((r) => setImmediate(r));
    // Done while the run waits on the marker, its plan already committed.
    expect(firm.tidied).toBe(1);
    expect(firm.commits).toBeGreaterThan(commits);
    expect(finished).toBe(false);
    release();
    expect((await running).outcome).toBe('synced');
    expect(firm.tidied).toBe(1);
  });

  it('is left to closing when the write has already been answered', async () => {
    const { firm, sync } = await memorySync();
    await sync({ settings: { mode: 'complete' } });
    firm.userPut(null, note('n1', 'Note 1'));
    const before = firm.tidied;
    expect((await sync()).outcome).toBe('synced');
    expect(firm.tidied).toBe(before);
  });
});
