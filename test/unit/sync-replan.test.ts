import { describe, expect, it } from 'vitest';
import { asUid, type Etag, type Href } from '../../src/domain/ids.js';
import type { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import type { MailboxStore } from '../../src/mailbox/port.js';
import { delegatingStore } from '../support/delegating-collection.js';
import { memorySync } from '../support/memory-sync.js';
import { noteCodec } from '../support/note-codec.js';

/** A mailbox where someone edits an item just before Liaison's write of it reaches the server. */
function racingMailbox(server: MemoryMailboxServer, edit: (href: Href) => void): MailboxStore {
  let raced = false;
  return delegatingStore(server.open('acct'), (c) => ({
    async update(href: Href, text: string, ifMatch: Etag) {
      if (!raced) {
        raced = true;
        edit(href);
      }
      return c.update(href, text, ifMatch);
    },
  }));
}

describe('an item edited in the mailbox between planning and writing', () => {
  it('is re-read and merged in the same run: no lost update, no blind retry', async () => {
    const { server, firm, sync: syncWith } = await memorySync();
    const id = firm.userPut(null, { uid: asUid('u1'), title: 'Ann', body: 'v1', tags: [], private: false });
    const sync = (mailbox: MailboxStore) => syncWith({ mailbox });
    await sync(server.open('acct'));
    const [href] = [...server.items('acct', 'contacts').keys()] as [Href];

    // The firm changes the body; meanwhile a phone adds a tag to the same item.
    firm.userPut(id, { uid: asUid('u1'), title: 'Ann', body: 'v2 from the firm', tags: [], private: false });
    const mailbox = racingMailbox(server, (h) => {
      const n = noteCodec.parse(server.items('acct', 'contacts').get(h)!, asUid('x'));
      server.put('acct', 'contacts', h, noteCodec.serialize({ ...n, tags: ['from-phone'] }));
    });
    const report = await sync(mailbox);

    expect(report.deferred).toBe(0);
    const inMailbox = noteCodec.parse(server.items('acct', 'contacts').get(href)!, asUid('x'));
    expect(inMailbox).toMatchObject({ body: 'v2 from the firm', tags: ['from-phone'] });
    expect(firm.items.get(id)).toMatchObject({ body: 'v2 from the firm', tags: ['from-phone'] });
  });
});
