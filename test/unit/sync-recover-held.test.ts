import { describe, expect, it } from 'vitest';
import { asUid, type Href } from '../../src/domain/ids.js';
import { syncCollection } from '../../src/sync/collection-sync.js';
import { emptyReport } from '../../src/sync/report.js';
import { DEFAULT_SETTINGS } from '../../src/sync/settings.js';
import { memorySync } from '../support/memory-sync.js';
import { noteCodec } from '../support/note-codec.js';

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

describe('a recovery with two items sharing a UID', () => {
  it('keeps each item with the file it was synced with, instead of matching them crosswise', async () => {
    const { server, firm, target, deps, sync } = await memorySync();
    const note = (title: string) =>
      noteCodec.serialize({ uid: asUid('same'), title, body: '', tags: [], private: false });
    // The card first, its duplicate (another file, the same UID) later: the firm side holds
    // them in that order, the folder lists the duplicate first.
    server.put('acct', 'contacts', 'm1.vcf', note('Kept one'));
    await sync({ settings: { mode: 'complete' } });
    server.put('acct', 'contacts', 'dup-m1.vcf', note('Duplicate'));
    await sync({ settings: { mode: 'complete' } });
    expect([...firm.items.values()].map((n) => n.title).sort()).toEqual(['Duplicate', 'Kept one']);
    // Put back as it was (a restore, say), the card now comes after its duplicate in the listing.
    const kept = server.items('acct', 'contacts').get('m1.vcf' as Href)!;
    server.remove('acct', 'contacts', 'm1.vcf');
    server.put('acct', 'contacts', 'm1.vcf', kept);
    const before = new Map(server.items('acct', 'contacts'));

    const report = emptyReport('ann', 'contacts', false);
    await syncCollection(target, deps(), { ...DEFAULT_SETTINGS, mode: 'complete' }, report, true);

    expect(report.toMailbox).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(report.toFirm).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(server.items('acct', 'contacts')).toEqual(before);
    expect([...firm.items.values()].map((n) => n.title).sort()).toEqual(['Duplicate', 'Kept one']);
  });
});
