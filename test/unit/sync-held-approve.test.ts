import { describe, expect, it } from 'vitest';
import { LiaisonError } from '../../src/domain/errors.js';
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

  it('fails, with the plan still held and nothing applied, when the marker cannot be read', async () => {
    const { server, firm, held, target, deps: depsOf, sync } = await memorySync();
    for (let i = 0; i < 12; i++) {
      firm.userPut(null, { uid: asUid(`n${i}`), title: `Note ${i}`, body: 'x', tags: [], private: false });
    }
    await sync();
    const store = server.open('acct');
    // The other collection's time, which a note written without reading would lose.
    await store.writeMarker({
      collections: { ...(await store.readMarker())?.collections, calendar: 'T-calendar' },
    });
    for (const href of server.items('acct', 'contacts').keys()) server.remove('acct', 'contacts', href);
    expect((await sync()).outcome).toBe('held');

    const unreadable = {
      ...depsOf(),
      mailbox: {
        location: store.location,
        collection: (kind: 'contacts' | 'calendar') => store.collection(kind),
        readMarker: () => Promise.reject(new LiaisonError('Unavailable', 'the server is down')),
        writeMarker: (n: Parameters<typeof store.writeMarker>[0]) => store.writeMarker(n),
        sendStarted: () => store.sendStarted(),
      },
    };
    const report = emptyReport('ann', 'contacts', false);
    await expect(resolveHeldPlan(held.plans[0]!, 'approve', target, unreadable, report)).rejects.toThrow(
      'the server is down',
    );
    expect(firm.items.size).toBe(12);
    expect(held.plans[0]!.state).toBe('held');
    expect((await store.readMarker())?.collections.calendar).toBe('T-calendar');
  });
});
