import { describe, expect, it } from 'vitest';
import { asUid, type Href } from '../../src/domain/ids.js';
import type { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import type { MailboxStore } from '../../src/mailbox/port.js';
import { delegatingStore } from '../support/delegating-collection.js';
import { memorySync } from '../support/memory-sync.js';
import { noteCodec } from '../support/note-codec.js';

/** A mailbox that records the hrefs of each read, and calls `onRead` as a read starts. */
function watchedMailbox(server: MemoryMailboxServer, reads: Href[][], onRead: () => void): MailboxStore {
  return delegatingStore(server.open('acct'), (c) => ({
    read(hrefs) {
      reads.push([...hrefs]);
      onRead();
      return c.read(hrefs);
    },
  }));
}

describe('express sync with a change list', () => {
  it('asks the server for the changed items before the firm side is loaded', async () => {
    const { server, firm, sync } = await memorySync();
    firm.userPut(null, { uid: asUid('u1'), title: 'Ann', body: 'v1', tags: [], private: false });
    await sync({ settings: { mode: 'complete' } });
    const [href] = [...server.items('acct', 'contacts').keys()] as [Href];
    const note = noteCodec.parse(server.items('acct', 'contacts').get(href)!, asUid('x'));
    server.put('acct', 'contacts', href, noteCodec.serialize({ ...note, body: 'v2 from the phone' }));

    // The firm side answers only once the mailbox has been asked for the item: without the
    // read ahead, the sync would wait for the firm side before reading, and never finish.
    let readStarted!: () => void;
    const asked = new Promise<void>((resolve) => {
      readStarted = resolve;
    });
    const loadChanged = firm.loadChanged.bind(firm);
    let waitedFor = 'nothing';
    firm.loadChanged = async (...args) => {
      waitedFor = await Promise.race([
        asked.then(() => 'the read'),
        new Promise<string>((resolve) => setTimeout(() => resolve('a timeout'), 2_000)),
      ]);
      return loadChanged(...args);
    };
    const reads: Href[][] = [];
    const report = await sync({
      mailbox: watchedMailbox(server, reads, () => readStarted()),
      settings: { mode: 'express' },
    });

    expect(waitedFor).toBe('the read');
    expect(reads).toEqual([[href]]);
    expect(report.toFirm.updated).toBe(1);
    expect([...firm.items.values()][0]).toMatchObject({ body: 'v2 from the phone' });
  });

  it('takes an item the change list names but the status shows unchanged for what it was', async () => {
    const { server, firm, sync } = await memorySync();
    firm.userPut(null, { uid: asUid('u1'), title: 'Ann', body: 'v1', tags: [], private: false });
    firm.userPut(null, { uid: asUid('u2'), title: 'Bob', body: 'v1', tags: [], private: false });
    await sync({ settings: { mode: 'complete' } });
    const token = firm.state.token;
    const hrefs = [...server.items('acct', 'contacts').keys()] as Href[];
    // A firm edit is written to the mailbox; then a phone edits the other item.
    const bob = [...firm.items.entries()].find(([, n]) => n.title === 'Bob')![0];
    firm.userPut(bob, { uid: asUid('u2'), title: 'Bob', body: 'v2 from the firm', tags: [], private: false });
    await sync({ settings: { mode: 'express' } });
    // Back to the token from before both: the change list names the firm's own write too.
    firm.state = { ...firm.state, token };
    const annHref = hrefs.find((h) => server.items('acct', 'contacts').get(h)!.includes('Ann'))!;
    const ann = noteCodec.parse(server.items('acct', 'contacts').get(annHref)!, asUid('x'));
    server.put('acct', 'contacts', annHref, noteCodec.serialize({ ...ann, body: 'v2 from the phone' }));

    const report = await sync({ settings: { mode: 'express' } });

    expect(report.toFirm).toEqual({ created: 0, updated: 1, deleted: 0 });
    expect(report.toMailbox).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(firm.items.get(bob)).toMatchObject({ body: 'v2 from the firm' });
  });
});
