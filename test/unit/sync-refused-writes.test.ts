import { describe, expect, it } from 'vitest';
import { LiaisonError } from '../../src/domain/errors.js';
import { asUid, type Href } from '../../src/domain/ids.js';
import type { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import type { MailboxStore } from '../../src/mailbox/port.js';
import { delegatingStore } from '../support/delegating-collection.js';
import { memorySync } from '../support/memory-sync.js';
import type { Note } from '../support/note-codec.js';

/*
 * A mailbox that will not change or delete an item (as a DAV adapter refuses a meeting its
 * server schedules): the firm database keeps the mailbox's version, and nothing is lost.
 */

const REFUSED = 'a meeting the server schedules: change it in the mail client';

function refusingMailbox(server: MemoryMailboxServer): MailboxStore {
  const refuse = async (): Promise<never> => {
    throw new LiaisonError('Unsupported', REFUSED);
  };
  return delegatingStore(server.open('acct'), () => ({ update: refuse, delete: refuse }));
}

describe('a mailbox that refuses to change or delete an item', () => {
  const note = (body: string): Note => ({
    uid: asUid('u1'),
    title: 'Board meeting',
    body,
    tags: [],
    private: false,
  });

  async function setup() {
    const { server, firm, sync: syncWith } = await memorySync();
    const sync = (mailbox: MailboxStore) => syncWith({ mailbox });
    const id = firm.userPut(null, note('as agreed'));
    await sync(server.open('acct'));
    const [href] = [...server.items('acct', 'contacts').keys()] as [Href];
    return { server, firm, sync, id, href };
  }

  it('keeps the mailbox version of a firm edit it will not take, and says so', async () => {
    const { server, firm, sync, id, href } = await setup();
    firm.userPut(id, note('moved by the firm'));
    const report = await sync(refusingMailbox(server));
    expect(report.outcome).toBe('synced');
    expect(report.notWritten).toEqual([{ href, reason: `kept as in the mailbox: ${REFUSED}` }]);
    expect(report.toMailbox.updated).toBe(0);
    expect(report.toFirm.updated).toBe(1);
    expect(firm.items.get(id)?.body).toBe('as agreed');
    // The firm's lost value is in the journal, and the pair is level: nothing to do next time.
    expect(firm.journal.at(-1)).toMatchObject({ action: 'update', direction: 'to-firm', note: REFUSED });
    expect((firm.journal.at(-1)?.before as { body?: string } | null)?.body).toBe('moved by the firm');
    const again = await sync(refusingMailbox(server));
    expect(again.notWritten).toEqual([]);
    expect(again.toFirm).toEqual({ created: 0, updated: 0, deleted: 0 });
  });

  it('brings back into the firm database an item it will not delete', async () => {
    const { server, firm, sync, id, href } = await setup();
    firm.userDelete(id);
    const report = await sync(refusingMailbox(server));
    expect(report.notWritten).toEqual([{ href, reason: `put back as in the mailbox: ${REFUSED}` }]);
    expect(report.toMailbox.deleted).toBe(0);
    expect(report.toFirm.created).toBe(1);
    expect([...firm.items.values()].map((n) => n.body)).toEqual(['as agreed']);
    expect(server.items('acct', 'contacts').size).toBe(1);
    const again = await sync(refusingMailbox(server));
    expect(again.toFirm).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(again.toMailbox).toEqual({ created: 0, updated: 0, deleted: 0 });
  });
});

describe('a mailbox that holds the UID of a new item in another collection', () => {
  it('does not write it, says which item holds the UID, and does not defer it run after run', async () => {
    const { server, firm, sync } = await memorySync();
    firm.userPut(null, { uid: asUid('taken'), title: 'Board meeting', body: '', tags: [], private: false });
    // As Cyrus answers a UID it holds in another calendar of the user (no-uid-conflict).
    const elsewhere = 'other-calendar/board.ics';
    const mailbox = delegatingStore(server.open('acct'), () => ({
      create: async (): Promise<never> => {
        throw new LiaisonError('AlreadyExists', 'PUT answered 403: another item already has this UID', {
          context: { href: elsewhere },
        });
      },
    }));

    const report = await sync({ mailbox });

    expect(report.deferred).toBe(0);
    expect(report.notWritten).toEqual([
      {
        href: elsewhere,
        reason: expect.stringContaining(
          `the UID taken is used by ${elsewhere}, outside the synced address book`,
        ),
      },
    ]);
    expect(server.items('acct', 'contacts').size).toBe(0);
    expect(firm.items.size).toBe(1);
  });
});
