import { describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import { MAX_ITEM_CHARS } from '../../src/sync/gather.js';
import { memorySync } from '../support/memory-sync.js';
import { type Note, noteCodec } from '../support/note-codec.js';

describe('an item too large to read', () => {
  it('is quarantined with its size and place, the rest is synced, and nothing is deleted for it', async () => {
    const { server, firm, sync: syncWith } = await memorySync();
    const note = (uid: string, body: string): Note => ({
      uid: asUid(uid),
      title: uid,
      body,
      tags: [],
      private: false,
    });
    const sync = (mode: 'express' | 'complete') => syncWith({ settings: { mode } });
    server.put('acct', 'contacts', 'small.vcf', noteCodec.serialize(note('small', 'short')));
    server.put('acct', 'contacts', 'big.vcf', noteCodec.serialize(note('big', 'x'.repeat(200))));
    expect((await sync('complete')).toFirm.created).toBe(2);

    // The item grows past the limit on the server: it is reported, and its firm copy stays.
    server.put('acct', 'contacts', 'big.vcf', noteCodec.serialize(note('big', 'x'.repeat(MAX_ITEM_CHARS))));
    for (const mode of ['express', 'complete'] as const) {
      const report = await sync(mode);
      expect(report.quarantined).toHaveLength(1);
      expect(report.quarantined[0]?.href).toBe('big.vcf');
      expect(report.quarantined[0]?.reason).toMatch(
        /user ann, contacts, .*big\.vcf: the item is 8\.0 million characters long/,
      );
      expect(report.toFirm).toEqual({ created: 0, updated: 0, deleted: 0 });
      expect(report.toMailbox).toEqual({ created: 0, updated: 0, deleted: 0 });
      // Nothing else to do: the run is "unchanged", the quarantined item reported with it.
      expect(report.outcome).toBe('unchanged');
    }
    expect([...firm.items.values()].map((n) => n.title).sort()).toEqual(['big', 'small']);
    expect([...firm.items.values()].find((n) => n.title === 'big')?.body).toBe('x'.repeat(200));
  });
});
