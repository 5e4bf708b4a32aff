import { describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import { syncCollection } from '../../src/sync/collection-sync.js';
import { emptyReport } from '../../src/sync/report.js';
import { DEFAULT_SETTINGS } from '../../src/sync/settings.js';
import { memorySync } from '../support/memory-sync.js';

describe('a recovery of a collection with a held plan', () => {
  it('supersedes the plan, which can then be neither approved nor block the next sync', async () => {
    const { server, firm, held, target, deps, sync } = await memorySync();
    for (let i = 0; i < 12; i++) {
      firm.userPut(null, { uid: asUid(`n${i}`), title: `Note ${i}`, body: '', tags: [], private: false });
    }
    await sync({ settings: { mode: 'complete' } });
    for (const href of [...server.items('acct', 'contacts').keys()]) server.remove('acct', 'contacts', href);
    expect((await sync({ settings: { mode: 'complete' } })).outcome).toBe('held');
    expect(await held.hasHeld(target.user, 'contacts')).toBe(true);

    const report = emptyReport('ann', 'contacts', false);
    await syncCollection(target, deps(), { ...DEFAULT_SETTINGS, mode: 'complete' }, report, true);

    expect(report.outcome).not.toBe('failed');
    expect(await held.hasHeld(target.user, 'contacts')).toBe(false);
    expect((await held.listHeld()).map((p) => p.state)).toEqual(['superseded']);
    expect(firm.items.size).toBe(12);
    expect(server.items('acct', 'contacts').size).toBe(12);
    expect((await sync({ settings: { mode: 'express' } })).outcome).toBe('unchanged');
  });
});
