import { describe, expect, it, vi } from 'vitest';
import { asHref, asUid } from '../../src/domain/ids.js';
import { memorySync } from '../support/memory-sync.js';
import { noteCodec } from '../support/note-codec.js';

const ITEMS = 500;

describe('a first sync into an empty firm database', () => {
  it('loads every item and lets the event loop turn between chunks', async () => {
    const { server, firm, sync } = await memorySync();
    for (let i = 0; i < ITEMS; i++) {
      const note = { uid: asUid(`n${i}`), title: `Note ${i}`, body: '', tags: [], private: false };
      server.put('acct', 'contacts', asHref(`n${i}.vcf`), noteCodec.serialize(note));
    }
    // Counts the turns taken while the sync runs: timers (the user's lease) run only then.
    let turns = 0;
    let running = true;
    const tick = () => {
      if (!running) return;
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
    const report = await sync({ settings: { mode: 'complete' } });
    running = false;

    expect(report.toFirm.created).toBe(ITEMS);
    expect(firm.items.size).toBe(ITEMS);
    // A turn at least after every chunk of 50 or 100 items.
    expect(turns).toBeGreaterThanOrEqual(ITEMS / 100);
  });

  it('commits the plans of several chunks in one transaction', async () => {
    const { server, firm, sync } = await memorySync();
    const count = 520;
    for (let i = 0; i < count; i++) {
      const note = { uid: asUid(`n${i}`), title: `Note ${i}`, body: '', tags: [], private: false };
      server.put('acct', 'contacts', asHref(`n${i}.vcf`), noteCodec.serialize(note));
    }
    const commit = vi.spyOn(firm, 'commit');
    const report = await sync({ settings: { mode: 'complete' } });

    expect(report.toFirm.created).toBe(count);
    expect(firm.items.size).toBe(count);
    // Chunks of 50 are parsed and planned; every 250 planned creations are committed.
    expect(commit.mock.calls.map((call) => call[3].length)).toEqual([250, 250, 20]);
  });
});
