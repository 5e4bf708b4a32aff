import { describe, expect, it } from 'vitest';
import { ContactRepo } from '../../src/db/contact-repo.js';
import { createFirmStore } from '../../src/db/firm-sync-store.js';
import { currentChangeSeq } from '../../src/db/sequence.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { contactSyncStore } from '../../src/db/sync-store.js';
import { UserRepo } from '../../src/db/user-repo.js';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import type { Fields } from '../../src/domain/fields.js';
import { asFirmContactId, asUid, type FirmContactId, type UserId } from '../../src/domain/ids.js';
import { firmFieldsOf } from '../../src/firm/firm-fields.js';
import type { FirmContactWrite } from '../../src/firm/firm-types.js';
import { firmContactKeys } from '../../src/firm/plan-up.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

function contact(uid: string, email: string, over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid(uid)),
    name: { prefix: '', given: 'Ada', additional: '', family: 'Byron', suffix: '' },
    formattedName: 'Ada Byron',
    organization: 'Engines',
    emails: [{ types: [], value: email }],
    ...over,
  };
}

function write(id: string, fields: Fields, over: Partial<FirmContactWrite> = {}): FirmContactWrite {
  const fid = asFirmContactId(id);
  return {
    op: 'create',
    id: fid,
    fields,
    provenance: {},
    keys: firmContactKeys(fid, fields),
    possibleDuplicate: false,
    candidates: [],
    ...over,
  };
}

describe.each(DIALECTS)('firm sync store (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const store = () => createFirmStore(database());

  async function addUser(login: string): Promise<UserId> {
    const servers = new ServerRepo(database());
    if ((await servers.get('mem')) === null) await servers.add({ name: 'mem', kind: 'memory', url: '' });
    return (await new UserRepo(database()).add({ login, server: 'mem' })).id;
  }

  it('writes firm contacts with their own seq each and looks them up by any address and by name', async () => {
    const two = firmFieldsOf(
      contact('x', 'ada@engines.example', {
        emails: [
          { types: [], value: 'ada@engines.example' },
          { types: [], value: 'ada@home.example' },
        ],
      }),
    );
    const seqs = await store().transaction({ firmWrites: true }, (tx) =>
      tx.writeFirmContacts([write('F1', two), write('F2', firmFieldsOf(contact('y', 'b@x.example')))]),
    );
    expect(new Set(seqs.values()).size).toBe(2);
    expect(Math.max(...seqs.values())).toBe(await currentChangeSeq(database().db));
    const byEmail = await store().firmIdsByEmail(['ada@home.example', 'nobody@x.example']);
    expect([...byEmail]).toEqual([['ada@home.example', ['F1']]]);
    const byName = await store().firmIdsByName(['ada byron|engines']);
    expect([...(byName.get('ada byron|engines') ?? [])].sort()).toEqual(['F1', 'F2']);
  });

  it('replaces the e-mail lookup rows when the addresses change, keeps them when told they did not', async () => {
    const s = store();
    await s.transaction({ firmWrites: true }, (tx) =>
      tx.writeFirmContacts([write('F1', firmFieldsOf(contact('x', 'old@x.example')))]),
    );
    await s.transaction({ firmWrites: true }, (tx) =>
      tx.writeFirmContacts([write('F1', firmFieldsOf(contact('x', 'new@x.example')), { op: 'update' })]),
    );
    expect((await s.firmIdsByEmail(['old@x.example'])).size).toBe(0);
    expect((await s.firmIdsByEmail(['new@x.example'])).get('new@x.example')).toEqual(['F1']);
    const titled = firmFieldsOf(contact('x', 'new@x.example', { title: 'Countess' }));
    await s.transaction({ firmWrites: true }, (tx) =>
      tx.writeFirmContacts([write('F1', titled, { op: 'update', emailsUnchanged: true })]),
    );
    expect((await s.firmIdsByEmail(['new@x.example'])).get('new@x.example')).toEqual(['F1']);
    expect((await s.firmContacts([asFirmContactId('F1')])).get(asFirmContactId('F1'))?.fields.title).toBe(
      'Countess',
    );
    const gone = s.transaction({ firmWrites: true }, (tx) =>
      tx.writeFirmContacts([write('F9', titled, { op: 'update' })]),
    );
    await expect(gone).rejects.toSatisfy((e) => isLiaisonError(e, 'NotFound'));
  });

  it('deleting a firm contact drops its addresses and its name from other contacts’ candidate lists', async () => {
    const s = store();
    const f = firmFieldsOf(contact('x', 'a@x.example'));
    await s.transaction({ firmWrites: true }, (tx) =>
      tx.writeFirmContacts([
        write('F1', f),
        write('F2', f),
        write('F3', f, {
          possibleDuplicate: true,
          candidates: [asFirmContactId('F1'), asFirmContactId('F2')],
        }),
        write('F4', f, { possibleDuplicate: true, candidates: [asFirmContactId('F1')] }),
      ]),
    );
    await s.transaction({ firmWrites: true }, (tx) => tx.deleteFirmContacts([asFirmContactId('F1')]));
    const left = await s.firmContacts(['F2', 'F3', 'F4'].map(asFirmContactId));
    expect(left.get(asFirmContactId('F3'))).toMatchObject({ possibleDuplicate: true, candidates: ['F2'] });
    expect(left.get(asFirmContactId('F4'))).toMatchObject({ possibleDuplicate: false, candidates: [] });
    expect((await s.firmIdsByEmail(['a@x.example'])).get('a@x.example')?.sort()).toEqual(['F2', 'F3', 'F4']);
  });

  it('raises cursors and never lowers them; finds the users with changes past their own cursor', async () => {
    const ada = await addUser('ada');
    const bob = await addUser('bob');
    const s = store();
    expect(await s.cursors([ada])).toEqual(new Map());
    await new ContactRepo(database()).add(ada, contact('a1', 'a@x.example'));
    await new ContactRepo(database()).add(bob, contact('b1', 'b@x.example'));
    const upto = await currentChangeSeq(database().db);
    expect(await s.usersWithChanges([ada, bob], upto)).toEqual(new Set([ada, bob]));
    await s.advanceCursors([ada], 'up', upto);
    await s.advanceCursors([ada], 'up', upto - 5);
    await s.advanceCursors([ada, bob], 'down', 3);
    expect(await s.cursors([ada, bob])).toEqual(
      new Map([
        [ada, { up: upto, down: 3 }],
        [bob, { up: 0, down: 3 }],
      ]),
    );
    expect(await s.usersWithChanges([ada, bob], upto)).toEqual(new Set([bob]));
  });

  it('counts changed firm contacts no further than asked', async () => {
    const s = store();
    const f = firmFieldsOf(contact('x', 'a@x.example'));
    await s.transaction({ firmWrites: true }, (tx) =>
      tx.writeFirmContacts(['F1', 'F2', 'F3', 'F4'].map((id) => write(id, f))),
    );
    const upto = await currentChangeSeq(database().db);
    expect(await s.countFirmChanges(0, upto, 100)).toBe(4);
    expect(await s.countFirmChanges(0, upto, 2)).toBe(3);
    expect((await s.firmChangesAfter(0, upto, 2)).map((c) => c.id)).toEqual(['F1', 'F2']);
  });

  it('rewrites user contacts like a CRM edit, and keeps nothing when one changed since it was read', async () => {
    const ada = await addUser('ada');
    const repo = new ContactRepo(database());
    const id1 = await repo.add(ada, contact('a1', 'a@x.example'));
    const id2 = await repo.add(ada, contact('a2', 'b@x.example'));
    const s = store();
    const [c1, c2] = await s.userContacts([id1, id2]);
    const counter = () => contactSyncStore(database()).changeCounter(ada, 'contacts');
    const before = await counter();
    const stale = { ...c2!, changeSeq: c2!.changeSeq - 1 };
    const both = [c1!, stale].map((c) => ({
      id: c.id,
      user: ada,
      read: c.contact,
      contact: { ...c.contact, title: 'Countess' },
      base: null,
      expectedSeq: c.changeSeq,
      firmContactId: null,
    }));
    await expect(s.transaction({ firmWrites: false }, (tx) => tx.writeUserContacts(both))).rejects.toSatisfy(
      (e) => isLiaisonError(e, 'PreconditionFailed'),
    );
    expect((await repo.get(id1))?.item.title).toBe('');
    expect(await counter()).toBe(before);
    await s.transaction({ firmWrites: false }, (tx) => tx.writeUserContacts(both.slice(0, 1)));
    const after = await repo.get(id1);
    expect(after?.item.title).toBe('Countess');
    expect(after?.changeSeq).toBe(await currentChangeSeq(database().db));
    expect(await counter()).toBe(before + 1);
    // Connected to something else than expected: refused too.
    const moved = { ...both[0]!, expectedSeq: after!.changeSeq, firmContactId: asFirmContactId('F1') };
    await expect(
      s.transaction({ firmWrites: false }, (tx) => tx.writeUserContacts([moved])),
    ).rejects.toSatisfy((e) => isLiaisonError(e, 'PreconditionFailed'));
  });

  it('writes a base only while the contact is still connected where it was', async () => {
    const ada = await addUser('ada');
    const id = await new ContactRepo(database()).add(ada, contact('a1', 'a@x.example'));
    const s = store();
    const f = firmFieldsOf(contact('x', 'a@x.example'));
    const F1: FirmContactId = asFirmContactId('F1');
    await s.transaction({ firmWrites: true }, async (tx) => {
      await tx.writeFirmContacts([write('F1', f), write('F2', f)]);
      await tx.writeLinks([{ userContactId: id, firmContactId: F1, base: f, detached: false }]);
    });
    const titled = { ...f, title: 'Countess' };
    await s.transaction({ firmWrites: false }, (tx) =>
      tx.writeBases([
        { userContactId: id, firmContactId: asFirmContactId('F2'), base: { ...f, title: 'Wrong' } },
        { userContactId: id, firmContactId: F1, base: titled },
      ]),
    );
    const [link] = await s.userContacts([id]);
    expect(link).toMatchObject({ firmContactId: 'F1', base: titled, detached: false });
    expect((await s.userContactsOf(F1)).map((u) => u.id)).toEqual([id]);
  });

  it('keeps reviews and resolves only held ones; finds the oldest newer journal line of a target', async () => {
    const ada = await addUser('ada');
    const id = await new ContactRepo(database()).add(ada, contact('a1', 'a@x.example'));
    const s = store();
    const [r1] = await s.transaction({ firmWrites: false }, (tx) =>
      tx.addReviews([
        {
          user: ada,
          kind: 'new-contact',
          userContactId: id,
          firmContactId: null,
          firmSeq: null,
          proposed: { title: 'x' },
          current: {},
        },
      ]),
    );
    await s.transaction({ firmWrites: false }, (tx) => tx.resolveReviews([r1!], 'rejected'));
    await s.transaction({ firmWrites: false }, (tx) => tx.resolveReviews([r1!], 'approved'));
    expect(await s.getReview(r1!)).toMatchObject({
      login: 'ada',
      state: 'rejected',
      proposed: { title: 'x' },
    });
    expect(await s.listReviews({ state: 'held' })).toEqual([]);

    const line = (action: 'connect' | 'contact-update') => ({
      action,
      direction: 'none' as const,
      user: ada,
      userContactId: id,
      firmContactId: null,
      uid: 'a1',
      before: null,
      after: null,
      note: '',
    });
    await s.transaction({ firmWrites: false }, (tx) =>
      tx.journal([line('contact-update'), line('connect'), line('contact-update')], 'test', 'run-1'),
    );
    const lines = await s.listJournal({ runId: 'run-1' });
    const [third, second, first] = lines;
    expect((await s.newerJournalLine(first!.id, { userContactId: id }, {}))?.id).toBe(second!.id);
    expect((await s.newerJournalLine(first!.id, { userContactId: id }, { except: ['connect'] }))?.id).toBe(
      third!.id,
    );
    expect(await s.newerJournalLine(third!.id, { userContactId: id }, {})).toBeNull();
    expect(await s.newerJournalLine(first!.id, { userContactId: id }, { only: ['firm-update'] })).toBeNull();
  });
});
