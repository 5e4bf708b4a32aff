import { describe, expect, it } from 'vitest';
import { LockRepo } from '../../src/db/lock-repo.js';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid, type FirmContactId } from '../../src/domain/ids.js';
import {
  deleteFirmContact,
  getFirmContact,
  listFirmContacts,
  mergeFirmContacts,
} from '../../src/firm/firm-contacts-service.js';
import { approveReview, listReviews, rejectReview } from '../../src/firm/reviews-service.js';
import { setPreferences } from '../../src/firm/set-preferences.js';
import { FirmWorld, phone } from '../support/firm-sync-deps.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

function person(uid: string, given: string, email: string, over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid(uid)),
    name: { prefix: '', given, additional: '', family: 'Smith', suffix: '' },
    formattedName: `${given} Smith`,
    organization: 'Acme',
    emails: email === '' ? [] : [{ types: ['work'], value: email }],
    ...over,
  };
}

const kindOf = (e: unknown) => (isLiaisonError(e) ? e.kind : String(e));

describe.each(DIALECTS)('firm sync preferences and reviews (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const world = () => new FirmWorld(database());

  it('sets preferences for several users at once; an unknown login changes nothing', async () => {
    const w = world();
    await w.user('alice');
    await w.user('bob');
    await expect(setPreferences(w.deps, ['alice', 'nobody'], { updates: 'review' })).rejects.toSatisfy(
      (e) => kindOf(e) === 'Usage',
    );
    expect((await w.deps.users.byLogins(['alice'])).found[0]?.preferences.updates).toBe('auto');
    await expect(setPreferences(w.deps, ['alice'], {})).rejects.toSatisfy((e) => kindOf(e) === 'Usage');
    await expect(setPreferences(w.deps, ['alice'], { updates: 'sometimes' as never })).rejects.toSatisfy(
      (e) => kindOf(e) === 'Usage',
    );
    expect(await setPreferences(w.deps, ['alice', 'bob'], { updates: 'review', newContacts: 'ask' })).toEqual(
      ['alice', 'bob'],
    );
    const { found } = await w.deps.users.byLogins(['alice', 'bob']);
    expect(found.map((u) => u.preferences)).toEqual([
      { updates: 'review', newContacts: 'ask' },
      { updates: 'review', newContacts: 'ask' },
    ]);
  });

  it('new contacts: private stays in the list; ask holds a review, approved → taken up', async () => {
    const w = world();
    await w.user('alice');
    await w.user('bob');
    await setPreferences(w.deps, ['alice'], { newContacts: 'private' });
    await setPreferences(w.deps, ['bob'], { newContacts: 'ask' });
    const a = await w.add('alice', person('a1', 'Tom', 'tom@acme.example'));
    const b = await w.add('bob', person('b1', 'Tom', 'tom@acme.example'));
    const report = await w.run('up');
    expect(report.totals).toMatchObject({ keptPrivate: 1, reviewsHeld: 1, firmCreated: 0 });
    expect(await w.linkOf(a)).toBeNull();
    const [held] = await listReviews(w.deps);
    expect(held).toMatchObject({ kind: 'new-contact', login: 'bob', userContactId: b, state: 'held' });
    // Asked once: a second run holds nothing more.
    expect((await w.run('up')).totals.reviewsHeld).toBe(0);
    const decision = await approveReview(w.deps, held!.id);
    expect(decision.upOutcome).toBe('created');
    expect(await w.linkOf(b)).not.toBeNull();
    expect(await listReviews(w.deps)).toEqual([]);
    await expect(approveReview(w.deps, held!.id)).rejects.toSatisfy(
      (e) => kindOf(e) === 'PreconditionFailed',
    );
    await expect(approveReview(w.deps, 'no-such-review')).rejects.toSatisfy((e) => kindOf(e) === 'Usage');
  });

  it('ask, rejected: the contact stays in the list and is not asked again after an edit', async () => {
    const w = world();
    await w.user('bob');
    await setPreferences(w.deps, ['bob'], { newContacts: 'ask' });
    const b = await w.add('bob', person('b1', 'Tom', 'tom@acme.example'));
    await w.run('up');
    const [held] = await listReviews(w.deps);
    await rejectReview(w.deps, held!.id);
    await w.edit(b, { title: 'Partner' });
    const report = await w.run('up');
    expect(report.totals.reviewsHeld).toBe(0);
    expect(await w.linkOf(b)).toBeNull();
    expect(await listReviews(w.deps, { state: 'all' })).toEqual([
      expect.objectContaining({ state: 'rejected' }),
    ]);
  });

  it('updates: review holds them; approve applies (the user’s own edit stays); reject is final for that version', async () => {
    const w = world();
    const a = await w.add(
      'alice',
      person('a1', 'Tom', 'tom@acme.example', { title: 'Associate', phones: [phone('1')] }),
    );
    const b = await w.add(
      'bob',
      person('b1', 'Tom', 'tom@acme.example', { title: 'Associate', phones: [phone('1')] }),
    );
    await w.run();
    await setPreferences(w.deps, ['bob'], { updates: 'review' });

    await w.edit(a, { title: 'Partner', phones: [phone('2')] });
    await w.run();
    expect((await w.contact(b)).title).toBe('Associate');
    const [held] = await listReviews(w.deps);
    expect(held).toMatchObject({ kind: 'update', proposed: { title: 'Partner', phones: [phone('2')] } });
    await w.edit(b, { phones: [phone('3')] });
    // Not while a sync holds Bob: the administrator is told to try again.
    const locks = new LockRepo(database());
    await locks.tryAcquire(w.users.get('bob')!, 'mailbox-sync@elsewhere', 60_000);
    await expect(approveReview(w.deps, held!.id)).rejects.toSatisfy((e) => kindOf(e) === 'Busy');
    await locks.release(w.users.get('bob')!, 'mailbox-sync@elsewhere');
    const decision = await approveReview(w.deps, held!.id);
    expect(decision).toMatchObject({ applied: ['title'], kept: ['phones'] });
    expect(await w.contact(b)).toMatchObject({ title: 'Partner', phones: [phone('3')] });

    // Bob's phone goes up (both replacements of 1 are kept: 2 and 3); Alice's next change
    // supersedes that proposal, is rejected, and is never proposed again.
    await w.run();
    await w.edit(a, { title: 'Counsel' });
    await w.run();
    const [second, ...more] = await listReviews(w.deps);
    expect(more).toEqual([]);
    expect(second?.proposed).toEqual({ title: 'Counsel', phones: [phone('2'), phone('3')] });
    await rejectReview(w.deps, second!.id);
    await w.run();
    await w.run('down');
    expect(await listReviews(w.deps)).toEqual([]);
    expect(await w.contact(b)).toMatchObject({ title: 'Partner', phones: [phone('3')] });
    expect((await listReviews(w.deps, { state: 'all' })).map((r) => r.state).sort()).toEqual([
      'approved',
      'rejected',
      'superseded',
    ]);
  });
});

describe.each(DIALECTS)('firm contact administration (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const world = () => new FirmWorld(database());

  it('lists and searches firm contacts (accents, case, e-mail), shows one with its connections', async () => {
    const w = world();
    const a = await w.add('alice', person('a1', 'Émile', 'emile@zola.example'));
    await w.add('bob', person('b1', 'Emile', 'EMILE@zola.example'));
    await w.add('bob', person('b2', 'Ada', 'ada@acme.example'));
    await w.run();
    expect((await listFirmContacts(w.deps)).length).toBe(2);
    const found = await listFirmContacts(w.deps, { search: 'EMILE' });
    expect(found.map((f) => f.connected)).toEqual([2]);
    expect((await listFirmContacts(w.deps, { search: 'ada@ACME' })).map((f) => f.formattedName)).toEqual([
      'Ada Smith',
    ]);
    const detail = await getFirmContact(w.deps, found[0]!.id);
    expect(detail.connected.map((c) => c.login).sort()).toEqual(['alice', 'bob']);
    expect(detail.contact.formattedName).toBe('Émile Smith');
    expect(detail.firmContact.provenance.formattedName?.user).toBe('alice');
    expect(await w.linkOf(a)).toBe(found[0]!.id);
    await expect(getFirmContact(w.deps, 'nope')).rejects.toSatisfy((e) => kindOf(e) === 'Usage');
  });

  it('deleting a firm contact disconnects its user contacts, which keep their copies and stay out', async () => {
    const w = world();
    const a = await w.add('alice', person('a1', 'Tom', 'tom@acme.example', { title: 'Partner' }));
    const b = await w.add('bob', person('b1', 'Tom', 'tom@acme.example'));
    await w.run();
    const firmId = (await w.linkOf(a))!;
    expect(await deleteFirmContact(w.deps, firmId)).toEqual({ deleted: firmId, disconnected: 2 });
    expect(await w.linkOf(a)).toBeNull();
    expect((await w.contact(b)).title).toBe('Partner');
    await w.edit(b, { title: 'Counsel' });
    const report = await w.run();
    expect(report.totals).toMatchObject({ firmCreated: 0, keptPrivate: 0, detached: 1 });
    expect(await listFirmContacts(w.deps)).toEqual([]);
    await expect(deleteFirmContact(w.deps, firmId)).rejects.toSatisfy((e) => kindOf(e) === 'Usage');
  });

  it('merges OTHER into KEEP: fields merged (KEEP wins), OTHER’s contacts reconnected and updated', async () => {
    const w = world();
    const a = await w.add('alice', person('a1', 'Tom', 'tom@acme.example', { title: 'Partner' }));
    const b = await w.add(
      'bob',
      person('b1', 'Thomas', 'thomas@home.example', {
        title: 'Associate',
        phones: [phone('9')],
        organization: 'Home',
      }),
    );
    await w.run();
    const keep = (await w.linkOf(a))!;
    const other = (await w.linkOf(b))!;
    expect(keep).not.toBe(other);
    const merged = await mergeFirmContacts(w.deps, keep, other);
    expect(merged).toMatchObject({ kept: keep, removed: other, reconnected: 1 });
    expect(merged.fieldsChanged).toEqual(expect.arrayContaining(['emails', 'phones']));
    expect(await w.linkOf(b)).toBe(keep);
    const kept = await getFirmContact(w.deps, keep);
    expect(kept.contact.title).toBe('Partner');
    expect(kept.contact.emails.map((e) => e.value).sort()).toEqual([
      'thomas@home.example',
      'tom@acme.example',
    ]);
    await w.run('down');
    // Bob's contact now holds KEEP's values where KEEP differs, and Alice gets the united fields.
    expect(await w.contact(b)).toMatchObject({ title: 'Partner', organization: 'Acme' });
    expect((await w.contact(a)).phones).toEqual([phone('9')]);
    const lines = await w.deps.store.listJournal({ firmContactId: other as FirmContactId });
    expect(lines.map((l) => l.action)).toContain('firm-delete');
    await expect(mergeFirmContacts(w.deps, keep, keep)).rejects.toSatisfy((e) => kindOf(e) === 'Usage');
    await expect(mergeFirmContacts(w.deps, keep, other)).rejects.toSatisfy((e) => kindOf(e) === 'Usage');
  });
});
