import { describe, expect, it } from 'vitest';
import { contactSyncStore } from '../../src/db/sync-store.js';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid, type FirmContactId } from '../../src/domain/ids.js';
import { deleteFirmContact, getFirmContact } from '../../src/firm/firm-contacts-service.js';
import { listJournal, undoJournal } from '../../src/firm/journal-service.js';
import { FirmWorld, phone } from '../support/firm-sync-deps.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

function tom(uid: string, over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid(uid)),
    name: { prefix: '', given: 'Tom', additional: '', family: 'Smith', suffix: '' },
    formattedName: 'Tom Smith',
    organization: 'Acme',
    title: 'Associate',
    emails: [{ types: ['work'], value: 'tom@acme.example' }],
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<{ kind: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isLiaisonError(e)) return { kind: e.kind, message: e.message };
    throw e;
  }
  throw new Error('expected a failure');
}

describe.each(DIALECTS)('firm sync journal (%s)', (dialect) => {
  const database = useTestDatabase(dialect);

  async function connected() {
    const w = new FirmWorld(database());
    const a = await w.add('alice', tom('a1'));
    const b = await w.add('bob', tom('b1'));
    await w.run();
    return { w, a, b, firm: (await w.linkOf(a)) as FirmContactId };
  }

  it('journals every change with run, user contact and firm contact, listed by user, firm contact, run', async () => {
    const { w, a, b, firm } = await connected();
    await w.edit(a, { title: 'Partner' });
    const report = await w.run();
    const lines = await listJournal(w.deps, { runId: report.runId });
    expect(lines.map((l) => [l.action, l.actor, l.userContactId, l.firmContactId])).toEqual([
      ['contact-update', 'firm-sync', b, firm],
      ['firm-update', 'firm-sync', a, firm],
    ]);
    expect(lines[1]).toMatchObject({
      before: { title: 'Associate' },
      after: { title: 'Partner' },
      direction: 'up',
    });
    const byFirm = await listJournal(w.deps, { firmContactId: firm });
    expect(byFirm.map((l) => l.action)).toEqual([
      'contact-update',
      'firm-update',
      'connect',
      'connect',
      'firm-create',
    ]);
    const bobs = await listJournal(w.deps, { user: 'bob' });
    // Bob's own CRM edit (the add) is listed with firm sync's lines.
    expect(bobs.map((l) => l.action)).toEqual(['contact-update', 'connect', 'create']);
    await expect(listJournal(w.deps, { user: 'nobody' })).rejects.toSatisfy((e) =>
      isLiaisonError(e, 'Usage'),
    );
  });

  it('undoes a firm contact update; the next down step carries the undo to everyone', async () => {
    const { w, a, b, firm } = await connected();
    await w.edit(a, { title: 'Partner' });
    const report = await w.run();
    expect((await w.contact(b)).title).toBe('Partner');
    const [update] = (await listJournal(w.deps, { runId: report.runId })).filter(
      (l) => l.action === 'firm-update',
    );
    await undoJournal(w.deps, update!.id);
    const restored = await getFirmContact(w.deps, firm);
    expect(restored.contact.title).toBe('Associate');
    expect(restored.firmContact.provenance.title).toMatchObject({ user: null });
    const [undoLine] = await listJournal(w.deps, { firmContactId: firm, limit: 1 });
    expect(undoLine).toMatchObject({ action: 'firm-update', actor: 'cli', note: `undo of ${update!.id}` });
    await w.run('down');
    expect((await w.contact(a)).title).toBe('Associate');
    expect((await w.contact(b)).title).toBe('Associate');
  });

  it('refuses to undo when the target changed since, naming the newer entry', async () => {
    const { w, a, b } = await connected();
    await w.edit(a, { title: 'Partner' });
    const first = await w.run();
    await w.edit(b, { title: 'Counsel' });
    const second = await w.run();
    const pick = async (runId: string) =>
      (await listJournal(w.deps, { runId })).find((l) => l.action === 'firm-update')!;
    const older = await pick(first.runId);
    const newer = await pick(second.runId);
    const refused = await failure(undoJournal(w.deps, older.id));
    expect(refused.kind).toBe('PreconditionFailed');
    expect(refused.message).toContain(newer.id);
    // Newest first works, then the older one.
    await undoJournal(w.deps, newer.id);
    await expect(undoJournal(w.deps, older.id)).rejects.toSatisfy((e) =>
      isLiaisonError(e, 'PreconditionFailed'),
    );
  });

  it('undoes a down write on a user contact; a later edit of that contact blocks it', async () => {
    const { w, a, b } = await connected();
    await w.edit(a, { title: 'Partner' });
    const report = await w.run();
    const [down] = (await listJournal(w.deps, { runId: report.runId })).filter(
      (l) => l.action === 'contact-update',
    );
    await undoJournal(w.deps, down!.id);
    expect((await w.contact(b)).title).toBe('Associate');
    // Not taken up as Bob's change: the base went back with the value.
    const next = await w.run('up');
    expect(next.totals.firmUpdated).toBe(0);

    await w.edit(a, { title: 'Counsel' });
    const again = await w.run();
    const [down2] = (await listJournal(w.deps, { runId: again.runId })).filter(
      (l) => l.action === 'contact-update',
    );
    await w.edit(b, { note: 'edited by Bob since' });
    const refused = await failure(undoJournal(w.deps, down2!.id));
    expect(refused.kind).toBe('PreconditionFailed');
  });

  it('refuses an undo whose target is gone, and one of a change firm sync did not make', async () => {
    const { w, b } = await connected();
    const [connect] = (await listJournal(w.deps, { user: 'bob' })).filter((l) => l.action === 'connect');
    await contactSyncStore(database()).commit(w.users.get('bob')!, 'contacts', 'mailbox-run', [
      { firm: { op: 'delete', id: b }, journal: [] },
    ]);
    expect((await failure(undoJournal(w.deps, connect!.id))).kind).toBe('NotFound');
    const [crmAdd] = (await listJournal(w.deps, { user: 'alice' })).filter((l) => l.action === 'create');
    expect((await failure(undoJournal(w.deps, crmAdd!.id))).kind).toBe('Usage');
    expect((await failure(undoJournal(w.deps, 'no-such-entry'))).kind).toBe('Usage');
  });

  it('undoes a deletion: the firm contact comes back with the connections the deletion cut', async () => {
    const { w, a, b, firm } = await connected();
    await deleteFirmContact(w.deps, firm);
    const lines = await listJournal(w.deps, { firmContactId: firm, limit: 3 });
    expect(lines.map((l) => [l.action, l.reason])).toEqual([
      ['firm-delete', null],
      ['disconnect', 'firm-delete'],
      ['disconnect', 'firm-delete'],
    ]);
    const undone = await undoJournal(w.deps, lines[0]!.id);
    expect(undone).toMatchObject({ pendingUp: [] });
    expect([...undone.reconnected].sort()).toEqual([a, b].sort());
    expect((await getFirmContact(w.deps, firm)).contact.title).toBe('Associate');
    expect(await w.linkOf(a)).toBe(firm);
    expect(await w.linkOf(b)).toBe(firm);
    const relinks = (await listJournal(w.deps, { firmContactId: firm, limit: 3 })).filter(
      (l) => l.action === 'connect',
    );
    expect(relinks.map((l) => [l.reason, l.note])).toEqual([
      ['undo', `undo of ${lines[0]!.id}`],
      ['undo', `undo of ${lines[0]!.id}`],
    ]);
    // The deletion's disconnections are undone with it: one by one there is nothing left to undo.
    expect((await failure(undoJournal(w.deps, lines[1]!.id))).kind).toBe('PreconditionFailed');
    await w.edit(a, { title: 'Partner' });
    await w.run();
    expect((await w.contact(b)).title).toBe('Partner');
  });

  it('undoing a deletion takes up the edits made to the copies meanwhile, field by field', async () => {
    const { w, a, b, firm } = await connected();
    await deleteFirmContact(w.deps, firm);
    const [deletion] = await listJournal(w.deps, { firmContactId: firm, limit: 1 });
    // While the firm contact is gone, Alice edits her copy and a run passes it by (detached).
    await w.edit(a, { title: 'Partner', phones: [phone('555')] });
    const passed = await w.run();
    expect(passed.totals).toMatchObject({ firmCreated: 0, keptPrivate: 0, detached: 1 });
    const undone = await undoJournal(w.deps, deletion!.id);
    expect(undone.pendingUp).toEqual([a]);
    // The next cycle takes Alice's edit to the firm contact, then to Bob's copy.
    const next = await w.run();
    expect(next.totals).toMatchObject({ firmCreated: 0, firmUpdated: 1, userContactsUpdated: 1 });
    const restored = await getFirmContact(w.deps, firm);
    expect(restored.contact).toMatchObject({ title: 'Partner', phones: [phone('555')] });
    expect(restored.firmContact.provenance.title).toMatchObject({ user: 'alice', run: next.runId });
    expect(await w.contact(b)).toMatchObject({ title: 'Partner', phones: [phone('555')] });
    expect(await w.contact(a)).toMatchObject({ title: 'Partner', phones: [phone('555')] });
  });

  it('undoing a deletion leaves out a copy deleted or made private since', async () => {
    const { w, a, b, firm } = await connected();
    const c = await w.add('carol', tom('c1'));
    await w.run();
    expect(await w.linkOf(c)).toBe(firm);
    await deleteFirmContact(w.deps, firm);
    const [deletion] = await listJournal(w.deps, { firmContactId: firm, limit: 1 });
    await w.contacts.delete(b);
    await w.edit(c, { private: true });
    const undone = await undoJournal(w.deps, deletion!.id);
    expect(undone.reconnected).toEqual([a]);
    expect(await w.linkOf(a)).toBe(firm);
    expect(await w.linkOf(c)).toBeNull();
  });
});
