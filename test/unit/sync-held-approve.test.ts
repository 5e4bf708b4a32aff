import { describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import { resolveHeldPlan } from '../../src/sync/held.js';
import { emptyReport } from '../../src/sync/report.js';
import { memorySync } from '../support/memory-sync.js';

describe('approving a held mass deletion', () => {
  it('leaves alone the items put back in the mailbox while the plan was held', async () => {
    const { server, firm, held, target, deps: depsOf, sync } = await memorySync();
    const deps = depsOf();
    for (let i = 0; i < 12; i++) {
      firm.userPut(null, { uid: asUid(`n${i}`), title: `Note ${i}`, body: 'x', tags: [], private: false });
    }
    await sync();
    const texts = new Map(server.items('acct', 'contacts'));
    for (const href of texts.keys()) server.remove('acct', 'contacts', href);
    const hold = await sync();
    expect(hold.outcome).toBe('held');

    // One comes back at its old place, edited, before the administrator approves.
    const [backHref, backText] = [...texts][0]!;
    server.put('acct', 'contacts', backHref, backText.replace('Note 0', 'Note 0 (kept)'));
    const report = emptyReport('ann', 'contacts', false);
    await resolveHeldPlan(held.plans[0]!, 'approve', target, deps, report);
    expect(report.toFirm.deleted).toBe(11);
    expect(report.deferred).toBe(1);
    expect([...firm.items.values()].map((n) => n.title)).toEqual(['Note 0']);
    // The next sync takes up the edit: the same firm item, no new one.
    const [id] = [...firm.items.keys()];
    const next = await sync();
    expect(next.toFirm).toEqual({ created: 0, updated: 1, deleted: 0 });
    expect([...firm.items]).toEqual([[id, expect.objectContaining({ title: 'Note 0 (kept)' })]]);
  });
});
