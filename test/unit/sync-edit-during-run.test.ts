import { describe, expect, it } from 'vitest';
import { asUid, type Href } from '../../src/domain/ids.js';
import { delegatingStore } from '../support/delegating-collection.js';
import { memorySync } from '../support/memory-sync.js';
import { noteCodec } from '../support/note-codec.js';

const note = (uid: string, title: string, body = '') => ({
  uid: asUid(uid),
  title,
  body,
  tags: [],
  private: false,
});

describe('a firm edit made while a run writes', () => {
  it('is merged with the mailbox change the run was bringing in, within express runs', async () => {
    const { server, firm, deps, sync } = await memorySync();
    const id = firm.userPut(null, note('b4', 'Base'));
    await sync({ settings: { mode: 'complete' } });
    const [href] = [...server.items('acct', 'contacts').keys()] as [Href];

    // The mailbox changes the title; a new firm item gives the run a mailbox write to make.
    server.put('acct', 'contacts', href, noteCodec.serialize(note('b4', 'From the mailbox')));
    firm.userPut(null, note('holder', 'Holder'));
    // While the run writes that item, someone edits b4's body in the firm database.
    let edited = false;
    const racing = delegatingStore(deps().mailbox, (inner) => ({
      create: async (uid, text) => {
        if (!edited) {
          edited = true;
          firm.userPut(id, { ...(firm.items.get(id) ?? note('b4', '')), body: 'Edited in the firm' });
        }
        return inner.create(uid, text);
      },
    }));
    await sync({ mailbox: racing, settings: { mode: 'express' } });
    await sync({ settings: { mode: 'express' } });

    expect(edited).toBe(true);
    expect(firm.items.get(id)).toMatchObject({ title: 'From the mailbox', body: 'Edited in the firm' });
    const stored = noteCodec.parse(server.items('acct', 'contacts').get(href) ?? '', asUid('x'));
    expect(stored).toMatchObject({ title: 'From the mailbox', body: 'Edited in the firm' });
    expect((await sync({ settings: { mode: 'express' } })).outcome).toBe('unchanged');
  });
});

describe('an item a client replaced at its href under another UID', () => {
  it('keeps the mailbox UID, which the firm item takes, while a firm edit still reaches the mailbox', async () => {
    const { server, firm, sync } = await memorySync();
    const id = firm.userPut(null, note('x-1', 'Before', 'Old body'));
    await sync({ settings: { mode: 'complete' } });
    const [href] = [...server.items('acct', 'contacts').keys()] as [Href];

    firm.userPut(id, note('x-1', 'Edited in the firm', 'Old body'));
    server.remove('acct', 'contacts', href);
    server.put('acct', 'contacts', href, noteCodec.serialize(note('x-2', 'Before', 'New body')));
    const run = await sync({ settings: { mode: 'express' } });

    expect(run.outcome).toBe('synced');
    expect(firm.items.get(id)).toMatchObject({ uid: 'x-2', title: 'Edited in the firm', body: 'New body' });
    const stored = noteCodec.parse(server.items('acct', 'contacts').get(href) ?? '', asUid('fallback'));
    expect(stored).toMatchObject({ uid: 'x-2', title: 'Edited in the firm', body: 'New body' });
    expect((await sync({ settings: { mode: 'express' } })).outcome).toBe('unchanged');
  });
});
