import { describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import { memorySync } from '../support/memory-sync.js';

describe('items found on both sides', () => {
  it('are reported paired when a run repairs what a crash left unrecorded, not as unchanged', async () => {
    const { server, firm, sync } = await memorySync();
    await sync({ settings: { mode: 'complete' } });
    for (let i = 0; i < 3; i++) {
      firm.userPut(null, { uid: asUid(`n${i}`), title: `Note ${i}`, body: '', tags: [], private: false });
    }
    // The items reach the mailbox, then the process dies before their pairs are recorded.
    firm.failCommitAt = 1;
    const crashed = await sync({ settings: { mode: 'express' } }).catch((e: unknown) => e);
    expect(crashed).toBeInstanceOf(Error);
    expect(server.items('acct', 'contacts').size).toBe(3);
    firm.failCommitAt = null;

    const rerun = await sync({ settings: { mode: 'express' } });

    expect(rerun.outcome).toBe('synced');
    expect(rerun.paired).toBe(3);
    expect(rerun.toMailbox).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(server.items('acct', 'contacts').size).toBe(3);
    expect((await sync({ settings: { mode: 'express' } })).outcome).toBe('unchanged');
  });
});
