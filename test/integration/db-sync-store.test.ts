import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ContactRepo } from '../../src/db/contact-repo.js';
import { JournalRepo } from '../../src/db/journal-repo.js';
import { QuarantineRepo } from '../../src/db/quarantine-repo.js';
import { RunRepo } from '../../src/db/run-repo.js';
import { currentChangeSeq } from '../../src/db/sequence.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { appointmentSyncStore, contactSyncStore } from '../../src/db/sync-store.js';
import { UserRepo } from '../../src/db/user-repo.js';
import type { Contact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asEtag, asHref, asSyncToken, type FirmItemId, type UserId } from '../../src/domain/ids.js';
import type { ItemCommit, JournalEntry, StatusEntry } from '../../src/sync/ports.js';
import { sampleAppointment, sampleContact } from '../support/sample-items.js';
import { DIALECTS, urlOf, useTestDatabase } from '../support/test-database.js';

function line(action: JournalEntry['action'], over: Partial<JournalEntry> = {}): JournalEntry {
  return {
    action,
    direction: 'to-firm',
    firmId: null,
    href: null,
    uid: null,
    before: null,
    after: null,
    note: '',
    ...over,
  };
}

function status(
  href: string,
  over: Partial<StatusEntry> = {},
): Omit<StatusEntry, 'firmId'> & { firmId?: FirmItemId } {
  return {
    href: asHref(href),
    firmHash: `f-${href}`,
    firmRevision: null,
    mailboxEtag: asEtag(`"e-${href}"`),
    mailboxHash: `m-${href}`,
    base: { note: href },
    ...over,
  };
}

function created(uid: string): ItemCommit<Contact> {
  return {
    firm: { op: 'create', item: sampleContact(uid) },
    status: { op: 'put', entry: status(`${uid}.vcf`) },
    journal: [line('create', { uid: sampleContact(uid).uid, href: asHref(`${uid}.vcf`) })],
  };
}

describe.each(DIALECTS)('firm sync store (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const store = () => contactSyncStore(database());

  async function addUser(): Promise<UserId> {
    await new ServerRepo(database()).add({ name: 'mem', kind: 'memory', url: '' });
    return (await new UserRepo(database()).add({ login: 'ada', server: 'mem' })).id;
  }

  it('loads for an express sync only the pairs that can have changed, and what the guards count', async () => {
    const user = await addUser();
    const ids = await store().commit(user, 'contacts', 'run-1', ['a', 'b', 'c', 'd', 'e'].map(created));
    const [a, b, c, d] = ids as [FirmItemId, FirmItemId, FirmItemId, FirmItemId];
    const none = await store().loadChanged(user, 'contacts', [], true);
    expect(none).toEqual({ status: [], items: [], statusCount: 5, itemCount: 5, missingEtags: false });

    const contacts = new ContactRepo(database());
    await contacts.edit(b, { title: 'Edited in the CRM' }); // written since it was synced
    await contacts.delete(c); // deleted since
    const extra = await contacts.add(user, sampleContact('new-in-crm')); // no pair yet
    const named = [asHref('a.vcf'), asHref('d.vcf')];
    const delta = await store().loadChanged(user, 'contacts', [...named, asHref('x.vcf')], true);
    expect(delta.status.map((s) => s.firmId).sort()).toEqual([a, b, c, d].sort());
    expect(delta.items.map((i) => i.id).sort()).toEqual([a, b, d, extra].sort());
    expect(delta.items.find((i) => i.id === b)?.item.title).toBe('Edited in the CRM');
    expect(delta).toMatchObject({ statusCount: 5, itemCount: 5, missingEtags: false });

    // Told the counter has not moved: only the named pairs; unpaired items only when an href
    // is new (a new mailbox item may match one).
    const quiet = await store().loadChanged(user, 'contacts', named, false);
    expect(quiet.status.map((s) => s.firmId).sort()).toEqual([a, d].sort());
    expect(quiet.items.map((i) => i.id).sort()).toEqual([a, d].sort());
    const withNew = await store().loadChanged(user, 'contacts', [...named, asHref('x.vcf')], false);
    expect(withNew.items.map((i) => i.id).sort()).toEqual([a, d, extra].sort());

    await store().commit(user, 'contacts', 'run-2', [
      { status: { op: 'put', entry: status('e.vcf', { firmId: ids[4]!, mailboxEtag: null }) }, journal: [] },
    ]);
    expect((await store().loadChanged(user, 'contacts', [], true)).missingEtags).toBe(true);
  });

  it('tells which hrefs are paired, and loads a slice of pairs with their firm items', async () => {
    const user = await addUser();
    const ids = await store().commit(user, 'contacts', 'run-1', ['a', 'b', 'c'].map(created));
    const [a, b, c] = ids as [FirmItemId, FirmItemId, FirmItemId];
    const hrefs = [asHref('a.vcf'), asHref('c.vcf'), asHref('new.vcf')];
    await store().commit(user, 'contacts', 'run-2', [
      { status: { op: 'put', entry: status('c.vcf', { firmId: c, mailboxEtag: null }) }, journal: [] },
    ]);

    expect(await store().statusEtags(user, 'contacts', hrefs)).toEqual(
      new Map([
        [asHref('a.vcf'), asEtag('"e-a.vcf"')],
        [asHref('c.vcf'), null],
      ]),
    );
    expect(await store().statusEtags(user, 'contacts')).toEqual(
      new Map([
        [asHref('a.vcf'), asEtag('"e-a.vcf"')],
        [asHref('b.vcf'), asEtag('"e-b.vcf"')],
        [asHref('c.vcf'), null],
      ]),
    );
    await new ContactRepo(database()).edit(a, { title: 'Edited in the CRM' });
    const pairs = await store().loadPairs(user, 'contacts', hrefs);
    expect(pairs.status.map((s) => [s.href, s.firmId]).sort()).toEqual([
      [asHref('a.vcf'), a],
      [asHref('c.vcf'), c],
    ]);
    expect(pairs.status.find((s) => s.firmId === a)?.base).toEqual({ note: 'a.vcf' });
    expect(pairs.items.map((i) => i.id).sort()).toEqual([a, c].sort());
    expect(pairs.items.find((i) => i.id === a)?.item.title).toBe('Edited in the CRM');
    expect(pairs.items.some((i) => i.id === b)).toBe(false);
  });

  it('commits creates with their status and journal, and returns the new ids in order', async () => {
    const user = await addUser();
    const ids = await store().commit(user, 'contacts', 'run-1', [created('a'), created('b')]);
    expect(ids).toHaveLength(2);
    const items = await store().listItems(user, 'contacts');
    expect(items.map((i) => [i.id, i.item.uid]).sort()).toEqual(
      [
        [ids[0], 'a'],
        [ids[1], 'b'],
      ].sort(),
    );
    expect(items.find((i) => i.id === ids[0])?.item).toEqual(sampleContact('a'));
    const statuses = await store().loadStatus(user, 'contacts');
    // The store records the revision the create gave the row.
    const revisionOfA = items.find((i) => i.id === ids[0])?.revision ?? null;
    expect(revisionOfA).not.toBeNull();
    expect(statuses.find((s) => s.firmId === ids[0])).toEqual({
      ...status('a.vcf'),
      firmId: ids[0],
      firmRevision: revisionOfA,
    });
    const lines = await new JournalRepo(database()).list({ runId: 'run-1', order: 'oldest-first' });
    expect(lines).toMatchObject([
      {
        actor: 'mailbox-sync',
        user,
        kind: 'contacts',
        action: 'create',
        firmId: ids[0],
        href: 'a.vcf',
        uid: 'a',
      },
      { firmId: ids[1], href: 'b.vcf' },
    ]);
  });

  it('updates and deletes items, replaces and removes status rows', async () => {
    const user = await addUser();
    const [a, b] = (await store().commit(user, 'contacts', 'r1', [created('a'), created('b')])) as [
      FirmItemId,
      FirmItemId,
    ];
    const ids = await store().commit(user, 'contacts', 'r2', [
      {
        firm: { op: 'update', id: a, item: sampleContact('a', { note: 'from the mailbox' }) },
        status: { op: 'put', entry: status('a2.vcf', { firmId: a, mailboxEtag: null }) },
        journal: [line('update')],
      },
      {
        firm: { op: 'delete', id: b },
        status: { op: 'remove', firmId: b },
        journal: [line('delete', { firmId: b })],
      },
      // A commit with a journal line only concerns the firm id it names.
      { journal: [line('quarantine', { firmId: a, note: 'bad vCard' })] },
    ]);
    expect(ids).toEqual([a, b, a]);
    const after = await store().listItems(user, 'contacts');
    expect(after.map((i) => i.item.note)).toEqual(['from the mailbox']);
    expect(await store().loadStatus(user, 'contacts')).toEqual([
      { ...status('a2.vcf', { mailboxEtag: null }), firmId: a, firmRevision: after[0]?.revision },
    ]);
  });

  it('keeps the UID, e-mail and href columns of an update current, changed or not', async () => {
    const user = await addUser();
    const [a, b] = (await store().commit(user, 'contacts', 'r1', [created('a'), created('b')])) as [
      FirmItemId,
      FirmItemId,
    ];
    await store().commit(user, 'contacts', 'r2', [
      // Same UID, e-mail and href: only the note and the etag change.
      {
        firm: { op: 'update', id: a, item: sampleContact('a', { note: 'edited' }) },
        status: { op: 'put', entry: status('a.vcf', { firmId: a, mailboxEtag: asEtag('"e2"') }) },
        journal: [line('update')],
      },
      // A client rewrote the UID and the address.
      {
        firm: {
          op: 'update',
          id: b,
          item: sampleContact('b-new', { emails: [{ types: [], value: 'New.B@Example.org' }] }),
        },
        status: { op: 'put', entry: status('b.vcf', { firmId: b }) },
        journal: [line('update')],
      },
    ]);
    const rows = await database()
      .db.selectFrom('user_contacts')
      .select(['id', 'uid', 'email_norm'])
      .orderBy('uid')
      .execute();
    expect(rows).toEqual([
      { id: a, uid: 'a', email_norm: 'ada.a@example.org' },
      { id: b, uid: 'b-new', email_norm: 'new.b@example.org' },
    ]);
    expect((await store().listItems(user, 'contacts')).map((i) => i.item.note).sort()).toEqual([
      '',
      'edited',
    ]);
    const byFirm = new Map((await store().loadStatus(user, 'contacts')).map((s) => [s.firmId, s]));
    expect(byFirm.get(a)).toMatchObject({ href: 'a.vcf', mailboxEtag: '"e2"' });
    expect(byFirm.get(b)).toMatchObject({ href: 'b.vcf' });
  });

  it('does not bump the change counter, but advances the global change sequence', async () => {
    const user = await addUser();
    await new ContactRepo(database()).add(user, sampleContact('by-hand'));
    const seq = await currentChangeSeq(database().db);
    expect(await store().changeCounter(user, 'contacts')).toBe(1);
    const [a] = (await store().commit(user, 'contacts', 'r1', [created('a'), created('b')])) as [FirmItemId];
    await store().commit(user, 'contacts', 'r2', [
      { firm: { op: 'update', id: a, item: sampleContact('a', { note: 'n' }) }, journal: [] },
    ]);
    expect(await store().changeCounter(user, 'contacts')).toBe(1);
    expect(await currentChangeSeq(database().db)).toBe(seq + 3);
    const seqs = await database().db.selectFrom('user_contacts').select(['uid', 'change_seq']).execute();
    expect(Object.fromEntries(seqs.map((r) => [r.uid, Number(r.change_seq)]))).toEqual({
      'by-hand': seq,
      a: seq + 3,
      b: seq + 2,
    });
  });

  it('keeps nothing of a batch when one write fails, journal and change sequence included', async () => {
    const user = await addUser();
    const [a] = (await store().commit(user, 'contacts', 'r1', [created('a')])) as [FirmItemId];
    const seq = await currentChangeSeq(database().db);
    const failing = store().commit(user, 'contacts', 'r2', [
      {
        firm: { op: 'update', id: a, item: sampleContact('a', { note: 'lost' }) },
        journal: [line('update')],
      },
      created('b'),
      { firm: { op: 'update', id: 'gone' as FirmItemId, item: sampleContact('gone') }, journal: [] },
    ]);
    await expect(failing).rejects.toSatisfy((e) => isLiaisonError(e, 'NotFound'));
    expect((await store().listItems(user, 'contacts')).map((i) => [i.item.uid, i.item.note])).toEqual([
      ['a', ''],
    ]);
    expect((await store().loadStatus(user, 'contacts')).map((s) => s.href)).toEqual(['a.vcf']);
    expect(await new JournalRepo(database()).list({ runId: 'r2' })).toEqual([]);
    expect(await currentChangeSeq(database().db)).toBe(seq);
  });

  it('lets a status put take its href over from another item (re-created after a clash)', async () => {
    const user = await addUser();
    const [a] = (await store().commit(user, 'contacts', 'r1', [created('a')])) as [FirmItemId];
    const [c] = await store().commit(user, 'contacts', 'r2', [
      {
        firm: { op: 'create', item: sampleContact('c') },
        status: { op: 'put', entry: status('a.vcf') },
        journal: [],
      },
    ]);
    const statuses = await store().loadStatus(user, 'contacts');
    expect(statuses.map((s) => [s.firmId, s.href])).toEqual([[c, 'a.vcf']]);
    expect(statuses.some((s) => s.firmId === a)).toBe(false);
  });

  it('keeps nothing of a batch whose update names a vanished item', async () => {
    const user = await addUser();
    const failing = store().commit(user, 'contacts', 'r1', [
      created('a'),
      { firm: { op: 'update', id: 'gone' as FirmItemId, item: sampleContact('gone') }, journal: [] },
    ]);
    await expect(failing).rejects.toSatisfy((e) => isLiaisonError(e, 'NotFound'));
    expect(await store().listItems(user, 'contacts')).toEqual([]);
    expect(await store().loadStatus(user, 'contacts')).toEqual([]);
  });

  it('hands an href from one item to another within a batch', async () => {
    const user = await addUser();
    const [a] = (await store().commit(user, 'contacts', 'r1', [created('a')])) as [FirmItemId];
    const [b] = await store().commit(user, 'contacts', 'r2', [
      {
        firm: { op: 'create', item: sampleContact('b') },
        status: { op: 'put', entry: status('a.vcf') },
        journal: [],
      },
      { firm: { op: 'delete', id: a }, status: { op: 'remove', firmId: a }, journal: [] },
    ]);
    expect(await store().loadStatus(user, 'contacts')).toEqual([
      { ...status('a.vcf'), firmId: b, firmRevision: expect.any(String) },
    ]);
  });

  it('tidies: what the write-ahead log holds is copied into the database file', async () => {
    const user = await addUser();
    const names = Array.from({ length: 60 }, (_, i) => `t${i}`);
    if (dialect !== 'sqlite') {
      // PostgreSQL has no upkeep of this kind: tidying is nothing, and harmless.
      await store().commit(user, 'contacts', 'run-1', names.map(created));
      await store().tidy();
      expect(await store().listItems(user, 'contacts')).toHaveLength(60);
      return;
    }
    const file = urlOf(database());
    const before = statSync(file).size;
    await store().commit(user, 'contacts', 'run-1', names.map(created));
    // Written to the log only: the database file has not grown yet.
    expect(statSync(file).size).toBe(before);
    await store().tidy();
    expect(statSync(file).size).toBeGreaterThan(before);
    expect(await store().listItems(user, 'contacts')).toHaveLength(60);
  });

  it('saves and loads the collection state, creating it on demand', async () => {
    const user = await addUser();
    expect(await store().loadState(user, 'contacts')).toEqual({
      lastSync: null,
      pendingSync: null,
      outOfSync: false,
      outOfSyncReason: null,
      probe: null,
      token: null,
      firmCounter: 0,
      lastChanges: null,
      lastFailed: false,
    });
    await store().saveState(user, 'contacts', {
      pendingSync: '2030-01-01T10:00:00Z',
      token: asSyncToken('t1'),
      lastChanges: 12,
    });
    await store().saveState(user, 'contacts', {
      lastSync: '2030-01-01T10:00:00Z',
      pendingSync: null,
      firmCounter: 7,
    });
    await store().saveState(user, 'contacts', {});
    expect(await store().loadState(user, 'contacts')).toEqual({
      lastSync: '2030-01-01T10:00:00Z',
      pendingSync: null,
      outOfSync: false,
      outOfSyncReason: null,
      probe: null,
      token: 't1',
      firmCounter: 7,
      lastChanges: 12,
      lastFailed: false,
    });
    // A failed run is noted beside the state (by the run), and read with it until a run syncs.
    const runs = new RunRepo(database());
    await runs.noteCollectionOutcome(user, 'contacts', 'the server took too long');
    expect(await store().loadState(user, 'contacts')).toMatchObject({ lastFailed: true, token: 't1' });
    await runs.noteCollectionOutcome(user, 'contacts', null);
    expect(await store().loadState(user, 'contacts')).toMatchObject({ lastFailed: false });
    expect((await store().loadState(user, 'contacts')).firmCounter).not.toBe(
      await store().changeCounter(user, 'contacts'),
    );
    expect(await appointmentSyncStore(database()).loadState(user, 'calendar')).toMatchObject({ token: null });
  });

  it('serves appointments through the calendar store, and refuses the wrong kind', async () => {
    const user = await addUser();
    const calendar = appointmentSyncStore(database());
    const [id] = await calendar.commit(user, 'calendar', 'r1', [
      {
        firm: { op: 'create', item: sampleAppointment('m1') },
        status: { op: 'put', entry: status('m1.ics') },
        journal: [],
      },
    ]);
    expect(await calendar.listItems(user, 'calendar')).toEqual([
      { id, item: sampleAppointment('m1'), revision: expect.any(String) },
    ]);
    expect(await store().listItems(user, 'contacts')).toEqual([]);
    expect(await store().loadStatus(user, 'contacts')).toEqual([]);
    const row = await database()
      .db.selectFrom('user_appointments')
      .select(['start_utc', 'end_utc'])
      .executeTakeFirst();
    expect(row).toEqual({
      start_utc: Date.parse('2030-05-06T09:00:00Z'),
      end_utc: Date.parse('2030-05-06T10:00:00Z'),
    });
    await expect(calendar.listItems(user, 'contacts')).rejects.toSatisfy((e) => isLiaisonError(e, 'Usage'));
  });

  it('keeps items that cannot be synced listed until a run looks at them and finds them fine', async () => {
    const user = await addUser();
    const repo = new QuarantineRepo(database());
    const hrefs = () => repo.list([user]).then((l) => l.map((q) => `${q.href}: ${q.reason}`));
    const q = (href: string, reason: string) => ({ href: asHref(href), reason });
    await store().recordQuarantine(user, 'contacts', null, [q('a.vcf', 'bad'), q('b.vcf', 'bad')]);
    const since = (await repo.list([user]))[0]!.since;
    // A change list that names b (now fine) and c (now broken); a is not looked at.
    await store().recordQuarantine(
      user,
      'contacts',
      [asHref('b.vcf'), asHref('c.vcf')],
      [q('c.vcf', 'worse')],
    );
    expect(await hrefs()).toEqual(['a.vcf: bad', 'c.vcf: worse']);
    // Found again: the reason is updated, the time it was first found kept.
    await store().recordQuarantine(user, 'contacts', [asHref('a.vcf')], [q('a.vcf', 'still bad')]);
    expect((await repo.list([user])).find((x) => x.href === 'a.vcf')).toMatchObject({
      reason: 'still bad',
      since,
    });
    // A full listing looks at everything.
    await store().recordQuarantine(user, 'contacts', null, []);
    expect(await hrefs()).toEqual([]);
    expect(await repo.list([])).toEqual([]);
  });
});
