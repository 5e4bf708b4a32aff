import { describe, expect, it } from 'vitest';
import { contactSyncStore } from '../../src/db/sync-store.js';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid } from '../../src/domain/ids.js';
import { firmExitCode } from '../../src/firm/firm-report.js';
import { listJournal } from '../../src/firm/journal-service.js';
import { runFirmSync } from '../../src/firm/run-firm-sync.js';
import { parseVCard } from '../../src/formats/vcard.js';
import { FirmWorld, phone } from '../support/firm-sync-deps.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

function tom(uid: string, over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid(uid)),
    name: { prefix: '', given: 'Tom', additional: '', family: 'Smith', suffix: '' },
    formattedName: 'Tom Smith',
    organization: 'Acme',
    emails: [{ types: ['work'], value: 'tom@acme.example' }],
    ...over,
  };
}

describe.each(DIALECTS)('firm sync (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const world = () => new FirmWorld(database());

  it('connects two users’ contacts of one person (e-mail in another case) to one firm contact', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1', { title: 'Partner' }));
    const b = await w.add(
      'bob',
      tom('b1', { emails: [{ types: [], value: ' TOM@Acme.Example' }], note: 'golf' }),
    );
    const report = await w.run();
    expect(firmExitCode(report)).toBe(0);
    expect(report.totals).toMatchObject({ firmCreated: 1, connected: 1, userContactsUpdated: 1 });
    const firmId = await w.linkOf(a);
    expect(firmId).not.toBeNull();
    expect(await w.linkOf(b)).toBe(firmId);
    // Bob received Alice's title; his note is his own.
    expect(await w.contact(b)).toMatchObject({ title: 'Partner', note: 'golf' });
    const listed = await w.deps.store.searchFirmContacts(null, 10);
    expect(listed).toEqual([
      expect.objectContaining({ id: firmId, connected: 2, formattedName: 'Tom Smith' }),
    ]);
  });

  it('takes changes up field by field: Alice’s phone and Bob’s title both reach everyone', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1', { phones: [phone('111')], title: 'Associate' }));
    const b = await w.add(
      'bob',
      tom('b1', { phones: [phone('111')], title: 'Associate', note: 'Bob’s note' }),
    );
    await w.run();
    await w.edit(a, { phones: [phone('222')] });
    await w.edit(b, { title: 'Partner' });
    const report = await w.run();
    expect(report.totals.firmUpdated).toBe(2);
    for (const id of [a, b]) {
      expect(await w.contact(id)).toMatchObject({ phones: [phone('222')], title: 'Partner' });
    }
    expect((await w.contact(b)).note).toBe('Bob’s note');
    const firm = (await w.deps.store.firmContacts([(await w.linkOf(a)) as never])).values().next().value;
    expect(firm?.provenance.phones).toMatchObject({ user: 'alice', run: report.runId });
    expect(firm?.provenance.title).toMatchObject({ user: 'bob', run: report.runId });
  });

  it('brings down only changed fields, keeps a user’s pending edit, and counts as a CRM edit', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1', { phones: [phone('111')], title: 'Associate' }));
    const b = await w.add('bob', tom('b1', { phones: [phone('111')], title: 'Associate' }));
    await w.run();
    await w.edit(a, { phones: [phone('222')], title: 'Partner' });
    await w.run('up');
    // Bob edits the title before the down step: his value stays, and goes up next.
    await w.edit(b, { title: 'Counsel' });
    const bob = w.users.get('bob')!;
    const sync = contactSyncStore(database());
    const counterBefore = await sync.changeCounter(bob, 'contacts');
    const seqBefore = (await w.contacts.get(b))!.changeSeq;
    const down = await w.run('down');
    expect(down.users.find((u) => u.user === 'bob')?.counts.userContactsUpdated).toBe(1);
    expect(await w.contact(b)).toMatchObject({ phones: [phone('222')], title: 'Counsel' });
    // Mailbox sync's express mode sees the write; firm sync's up step sees a new change_seq.
    expect(await sync.changeCounter(bob, 'contacts')).toBe(counterBefore + 1);
    expect((await w.contacts.get(b))!.changeSeq).toBeGreaterThan(seqBefore);
    const up = await w.run('up');
    const bobUp = up.users.find((u) => u.user === 'bob');
    // Only the title is Bob's change; the phone he received is not taken up again.
    const lines = (await w.deps.store.listJournal({ runId: up.runId })).filter(
      (l) => l.action === 'firm-update',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ before: { title: 'Partner' }, after: { title: 'Counsel' } });
    expect(bobUp?.counts.firmUpdated).toBe(1);
    await w.run('down');
    expect(await w.contact(a)).toMatchObject({ title: 'Counsel', phones: [phone('222')] });
  });

  it('a down write is not echoed: the next up step changes no firm contact', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1'));
    await w.add('bob', tom('b1'));
    await w.run();
    await w.edit(a, { title: 'Partner' });
    await w.run();
    const again = await w.run();
    expect(again.totals).toMatchObject({
      firmUpdated: 0,
      firmCreated: 0,
      userContactsUpdated: 0,
      connected: 0,
    });
    expect(await w.deps.store.listJournal({ runId: again.runId })).toEqual([]);
  });

  it('never takes a private contact up, whether flagged in the CRM or CLASS:PRIVATE from a mailbox', async () => {
    const w = world();
    const bob = await w.user('bob');
    await w.add('alice', tom('a1', { private: true }));
    const vcard =
      'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:m1\r\nFN:Tom Smith\r\nEMAIL:tom@acme.example\r\nCLASS:PRIVATE\r\nEND:VCARD\r\n';
    const parsed = parseVCard(vcard, asUid('m1'));
    expect(parsed.private).toBe(true);
    await contactSyncStore(database()).commit(bob, 'contacts', 'mailbox-run', [
      { firm: { op: 'create', item: parsed }, journal: [] },
    ]);
    const report = await w.run();
    expect(report.totals).toMatchObject({ firmCreated: 0, keptPrivate: 2 });
    expect(await w.deps.store.searchFirmContacts(null, 10)).toEqual([]);
  });

  it('a connected contact made private is disconnected; its later edits stay with the user', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1'));
    const b = await w.add('bob', tom('b1'));
    await w.run();
    const firmId = await w.linkOf(a);
    await w.edit(a, { private: true, title: 'Secret' });
    const report = await w.run();
    expect(report.totals.disconnected).toBe(1);
    expect(await w.linkOf(a)).toBeNull();
    expect(await w.linkOf(b)).toBe(firmId);
    expect((await w.contact(b)).title).toBe('');
  });

  it('keeps a contact with no name and no e-mail, unmatched, and names it in the report', async () => {
    const w = world();
    const nameless = { ...emptyContact(asUid('n1')), organization: '', phones: [phone('555')] };
    const id = await w.add('alice', nameless);
    const report = await w.run('up');
    const alice = report.users.find((u) => u.user === 'alice');
    expect(alice).toMatchObject({ outcome: 'synced', counts: { notMatched: 1, firmCreated: 0 } });
    expect(alice?.notMatched).toEqual([{ id, uid: 'n1' }]);
    expect(firmExitCode(report)).toBe(0);
    expect(await w.linkOf(id)).toBeNull();
    expect(await w.contacts.get(id)).not.toBeNull();
  });

  it('flags a new firm contact as a possible duplicate when several match, naming them', async () => {
    const w = world();
    await w.add('alice', tom('a1', { emails: [{ types: [], value: 'tom@acme.example' }] }));
    await w.add(
      'bob',
      tom('b1', { emails: [{ types: [], value: 'tom@home.example' }], organization: 'Home' }),
    );
    await w.run('up');
    const first = await w.deps.store.searchFirmContacts(null, 10);
    expect(first).toHaveLength(2);
    const both = tom('c1', {
      emails: [
        { types: [], value: 'tom@acme.example' },
        { types: [], value: 'tom@home.example' },
      ],
    });
    const c = await w.add('carol', both);
    const report = await w.run('up');
    expect(report.totals).toMatchObject({ flaggedDuplicates: 1, firmCreated: 1 });
    const flagged = (await w.deps.store.firmContacts([(await w.linkOf(c)) as never])).values().next().value;
    expect(flagged?.possibleDuplicate).toBe(true);
    expect([...(flagged?.candidates ?? [])].sort()).toEqual(first.map((f) => f.id).sort());
  });

  it('matches on name and organization when no address is shared', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1', { emails: [] }));
    const b = await w.add(
      'bob',
      tom('b1', {
        emails: [],
        name: { prefix: '', given: 'TOM', additional: '', family: 'smith', suffix: '' },
        organization: 'ACME',
      }),
    );
    await w.run('up');
    expect(await w.linkOf(b)).toBe(await w.linkOf(a));
  });

  it('a dry run plans and reports without writing', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1'));
    const report = await w.run('both', { dryRun: true });
    expect(report).toMatchObject({ dryRun: true, totals: { firmCreated: 1 } });
    expect(await w.linkOf(a)).toBeNull();
    expect(await w.deps.store.searchFirmContacts(null, 10)).toEqual([]);
    expect((await w.run('up')).totals.firmCreated).toBe(1);
  });

  it('a dry run of a first up step reports what the real run does: copies matched across users', async () => {
    const w = world();
    // Four users know Tom (by e-mail, or by name only), one pair shares an e-mail address
    // across an addition, and Ann is a namesake of nobody; one of them has more contacts than
    // a group takes, so that both ways through the step are planned.
    await w.add('alice', tom('a1'));
    await w.add('bob', tom('b1', { emails: [{ types: [], value: 'TOM@acme.example' }] }));
    await w.add('carol', tom('c1', { emails: [] }));
    for (let i = 0; i < 12; i++) {
      await w.add('dave', { ...tom(`d${i}`), emails: [{ types: [], value: `p${i}@x.example` }] });
    }
    await w.add('dave', tom('d-tom', { phones: [phone('777')] }));
    await w.add('erin', tom('e1', { emails: [{ types: [], value: 'p3@x.example' }] }));
    const dry = await w.run('up', { dryRun: true });
    expect(await w.deps.store.searchFirmContacts(null, 100)).toEqual([]);
    const real = await w.run('up');
    const countsOf = (r: typeof real) => r.users.map((u) => [u.user, u.outcome, u.counts]);
    expect(countsOf(dry)).toEqual(countsOf(real));
    expect(dry.totals).toEqual(real.totals);
    expect(real.totals).toMatchObject({ firmCreated: 13, connected: 4 });
  });

  it('the next up step does not read back what the down step wrote, unless a user edit waits', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1'));
    const b = await w.add('bob', tom('b1'));
    await w.run();
    const bob = w.users.get('bob')!;
    const upCursor = async () => (await w.deps.store.cursors([bob])).get(bob)!.up;
    const seqOf = async (id: typeof b) => (await w.deps.store.userContacts([id]))[0]!.changeSeq;

    await w.edit(a, { title: 'Partner' });
    await w.run('up');
    await w.run('down');
    expect((await w.contact(b)).title).toBe('Partner');
    // Bob had nothing waiting: his up cursor moved past the down step's write of his contact.
    expect(await upCursor()).toBeGreaterThanOrEqual(await seqOf(b));

    // Bob edits his copy's phone before the down step brings Alice's next change: his edit
    // waits for the up step, so the cursor stays, and the edit goes up next run.
    await w.edit(a, { title: 'Senior Partner' });
    await w.run('up');
    await w.edit(b, { phones: [phone('999')] });
    await w.run('down');
    expect(await w.contact(b)).toMatchObject({ title: 'Senior Partner', phones: [phone('999')] });
    expect(await upCursor()).toBeLessThan(await seqOf(b));
    const next = await w.run();
    expect(next.users.find((u) => u.user === 'bob' && u.step === 'up')?.counts.firmUpdated).toBe(1);
    expect(await w.contact(a)).toMatchObject({ phones: [phone('999')] });
  });

  it('says unchanged for a user whose changes come to nothing, as mailbox sync does', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1'));
    await w.add('bob', tom('b1'));
    await w.run();
    // Alice saves her contact unchanged in a field firm sync does not share: nothing goes up.
    await w.edit(a, { note: 'met at the conference' });
    const report = await w.run('up');
    expect(report.users.map((u) => [u.user, u.outcome])).toEqual([
      ['alice', 'unchanged'],
      ['bob', 'unchanged'],
    ]);
  });

  it('journals why a contact was connected: e-mail, name and organization, created, possible duplicate', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1'));
    const b = await w.add('bob', tom('b1', { emails: [{ types: [], value: ' Tom@ACME.example' }] }));
    const c = await w.add('carol', tom('c1', { emails: [] }));
    // A namesake: same name and organization, another address.
    const d = await w.add('dave', tom('d1', { emails: [{ types: [], value: 'thomas@elsewhere.example' }] }));
    const report = await w.run('up');
    const lines = await listJournal(w.deps, { runId: report.runId });
    const connect = (id: string) => lines.find((l) => l.action === 'connect' && l.userContactId === id);
    expect(connect(a)).toMatchObject({ reason: 'created', note: 'no match: new firm contact' });
    expect(connect(b)).toMatchObject({ reason: 'email', note: 'matched by e-mail address tom@acme.example' });
    expect(connect(c)).toMatchObject({
      reason: 'name-organization',
      note: 'matched by name "tom smith" and organization "acme"',
    });
    expect(connect(d)?.reason).toBe('possible-duplicate');
    expect(connect(d)?.note).toContain('no shared e-mail address');
    expect(lines.filter((l) => l.action !== 'connect').every((l) => l.reason === null)).toBe(true);
  });

  it('limits a run to server groups, at most five', async () => {
    const w = world();
    await w.user('alice', 'london');
    await w.user('bob', 'paris');
    await w.add('alice', tom('a1'));
    await w.add('bob', tom('b1'));
    const report = await w.run('up', { groups: ['london'] });
    expect(report.users.map((u) => u.user)).toEqual(['alice']);
    const six = runFirmSync(w.deps, { step: 'up', groups: ['a', 'b', 'c', 'd', 'e', 'f'], dryRun: false });
    await expect(six).rejects.toSatisfy((e) => isLiaisonError(e, 'Usage'));
  });

  it('deleting a user contact (CRM or mailbox sync) disconnects it; the firm contact stays', async () => {
    const w = world();
    const a = await w.add('alice', tom('a1'));
    const b = await w.add('bob', tom('b1'));
    await w.run();
    const firmId = (await w.linkOf(a))!;
    await w.contacts.delete(a);
    await contactSyncStore(database()).commit(w.users.get('bob')!, 'contacts', 'mailbox-run', [
      { firm: { op: 'delete', id: b }, status: { op: 'remove', firmId: b }, journal: [] },
    ]);
    expect(await w.deps.store.userContactsOf(firmId as never)).toEqual([]);
    expect((await w.deps.store.firmContacts([firmId as never])).size).toBe(1);
    const report = await w.run();
    expect(report.users.every((u) => u.outcome !== 'failed')).toBe(true);
  });
});
