import { describe, expect, it } from 'vitest';
import { asUid, type Href } from '../../src/domain/ids.js';
import type { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import type { MailboxStore } from '../../src/mailbox/port.js';
import { PAIR_SLICE } from '../../src/sync/gather.js';
import { DEFAULT_GUARDS } from '../../src/sync/guards.js';
import type { SyncMode } from '../../src/sync/settings.js';
import { delegatingStore } from '../support/delegating-collection.js';
import { memorySync } from '../support/memory-sync.js';
import { type Note, noteCodec } from '../support/note-codec.js';

const ITEMS = 300;
const CHANGED = 250;
const OPEN_GUARDS = { guards: { ...DEFAULT_GUARDS, maxChangeRatio: 1 } };

/** A mailbox that records the hrefs of each read; `unreadable` is answered as not handed over. */
function watchedMailbox(server: MemoryMailboxServer, reads: Href[][], unreadable?: Href): MailboxStore {
  return delegatingStore(server.open('acct'), (c) => ({
    read(hrefs) {
      reads.push([...hrefs]);
      return (async function* () {
        for await (const got of c.read(hrefs)) {
          yield got.href === unreadable ? { href: got.href, failed: 'answered 500' } : got;
        }
      })();
    },
  }));
}

/** ITEMS notes synced, then CHANGED of them edited on the phone (their bodies). */
async function largeChange() {
  const setup = await memorySync();
  const { server, firm, sync } = setup;
  for (let i = 0; i < ITEMS; i++) {
    firm.userPut(null, { uid: asUid(`u${i}`), title: `Person ${i}`, body: 'v1', tags: [], private: false });
  }
  await sync({ settings: { mode: 'complete' } });
  const edited: Href[] = [];
  for (const [href, text] of server.items('acct', 'contacts')) {
    if (edited.length === CHANGED) break;
    const note = noteCodec.parse(text, asUid('x'));
    server.put('acct', 'contacts', href as Href, noteCodec.serialize({ ...note, body: 'v2 from the phone' }));
    edited.push(href as Href);
  }
  const notes = () => [...firm.items.values()] as Note[];
  return { ...setup, edited, notes };
}

describe('a change of more pairs than a slice', () => {
  it.each<SyncMode>(['express', 'complete'])(
    'reads and plans them a slice at a time, and syncs every one (%s)',
    async (mode) => {
      const { server, firm, sync, edited, notes } = await largeChange();
      const reads: Href[][] = [];

      const report = await sync({
        mailbox: watchedMailbox(server, reads),
        settings: { mode, ...OPEN_GUARDS },
      });

      expect(report.outcome).toBe('synced');
      expect(report.toFirm).toEqual({ created: 0, updated: CHANGED, deleted: 0 });
      expect(Math.max(...reads.map((r) => r.length))).toBeLessThanOrEqual(PAIR_SLICE);
      expect(new Set(reads.flat())).toEqual(new Set(edited));
      expect(notes().filter((n) => n.body === 'v2 from the phone')).toHaveLength(CHANGED);
      // Nothing left over: the next express run has nothing to do.
      const again = await sync({ settings: { mode: 'express' } });
      expect(again.outcome).toBe('unchanged');
      expect(firm.items.size).toBe(ITEMS);
    },
  );

  it('plans a pair changed on the firm side too with the rest, merging both edits', async () => {
    const { server, firm, sync, edited, notes } = await largeChange();
    const hrefOf = new Map([...firm.status.values()].map((s) => [s.href, s.firmId]));
    const both = edited.slice(0, 3).map((h) => hrefOf.get(h)!);
    for (const id of both) {
      const note = firm.items.get(id)!;
      firm.userPut(id, { ...note, title: `${note.title} (firm)` });
    }

    const report = await sync({
      mailbox: watchedMailbox(server, []),
      settings: { mode: 'express', ...OPEN_GUARDS },
    });

    expect(report.outcome).toBe('synced');
    for (const id of both) {
      expect(firm.items.get(id)).toMatchObject({
        title: expect.stringMatching(/ \(firm\)$/),
        body: 'v2 from the phone',
      });
      const href = [...firm.status.values()].find((s) => s.firmId === id)!.href;
      expect(noteCodec.parse(server.items('acct', 'contacts').get(href)!, asUid('x')).title).toMatch(
        / \(firm\)$/,
      );
    }
    expect(notes().filter((n) => n.body === 'v2 from the phone')).toHaveLength(CHANGED);
  });

  it('holds the whole change when it crosses the threshold, as one plan', async () => {
    const { server, firm, held, sync } = await largeChange();
    const reads: Href[][] = [];

    const report = await sync({ mailbox: watchedMailbox(server, reads), settings: { mode: 'express' } });

    expect(report.outcome).toBe('held');
    expect(report.reason).toBe(
      `${CHANGED} of ${ITEMS} existing items would be modified or deleted (more than 25%)`,
    );
    const [plan] = await held.listHeld();
    expect(JSON.parse(plan!.plan).ops).toHaveLength(CHANGED);
    expect([...firm.items.values()].every((n) => n.body === 'v1')).toBe(true);
  });

  it('reports every change of every slice in a dry run, and applies none', async () => {
    const { server, firm, sync, notes } = await largeChange();
    const token = firm.state.token;

    const report = await sync({
      mailbox: watchedMailbox(server, []),
      settings: { mode: 'express', dryRun: true, ...OPEN_GUARDS },
    });

    expect(report.toFirm).toEqual({ created: 0, updated: CHANGED, deleted: 0 });
    expect(notes().every((n) => n.body === 'v1')).toBe(true);
    expect(firm.state.token).toBe(token);
  });

  it('keeps the change list where it was when an item of a slice was not handed over', async () => {
    const { server, firm, sync, edited } = await largeChange();
    const token = firm.state.token;
    const unreadable = edited.at(-1)!;

    const report = await sync({
      mailbox: watchedMailbox(server, [], unreadable),
      settings: { mode: 'express', ...OPEN_GUARDS },
    });

    expect(report.toFirm.updated).toBe(CHANGED - 1);
    expect(report.quarantined.map((q) => q.href)).toEqual([unreadable]);
    expect(firm.state.token).toBe(token);
  });
});
