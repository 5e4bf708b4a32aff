import { describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
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
