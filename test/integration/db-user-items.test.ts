import { describe, expect, it } from 'vitest';
import { AppointmentRepo } from '../../src/db/appointment-repo.js';
import { ContactRepo } from '../../src/db/contact-repo.js';
import { JournalRepo } from '../../src/db/journal-repo.js';
import { currentChangeSeq } from '../../src/db/sequence.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { contactSyncStore } from '../../src/db/sync-store.js';
import { UserRepo } from '../../src/db/user-repo.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asFirmItemId, type UserId } from '../../src/domain/ids.js';
import { sampleAppointment, sampleContact } from '../support/sample-items.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

describe.each(DIALECTS)('user contacts and appointments (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const contacts = () => new ContactRepo(database(), () => Date.parse('2030-02-03T04:05:06Z'));
  const appointments = () => new AppointmentRepo(database());
  const journal = () => new JournalRepo(database());
  const counter = (user: UserId) => contactSyncStore(database()).changeCounter(user, 'contacts');

  async function addUser(login = 'ada'): Promise<UserId> {
    if ((await new ServerRepo(database()).get('mem')) === null) {
      await new ServerRepo(database()).add({ name: 'mem', kind: 'memory', url: '' });
    }
    return (await new UserRepo(database()).add({ login, server: 'mem' })).id;
  }

  it('adds a contact: stored whole, counted, journaled, sequenced', async () => {
    const user = await addUser();
    const contact = sampleContact('c1', { note: 'met at the fair', private: true });
    const id = await contacts().add(user, contact, { actor: 'ada' });
    const stored = await contacts().get(id);
    expect(stored).toMatchObject({
      id,
      user,
      item: contact,
      private: true,
      createdAt: '2030-02-03T04:05:06.000Z',
    });
    expect(await counter(user)).toBe(1);
    expect(stored?.changeSeq).toBe(await currentChangeSeq(database().db));
    const [line] = await journal().list({ user });
    expect(line).toMatchObject({
      actor: 'ada',
      user,
      kind: 'contacts',
      action: 'create',
      direction: 'none',
      firmId: id,
      uid: 'c1',
      before: null,
      after: { note: 'met at the fair', formattedName: 'Ada Lovelace c1' },
    });
  });

  it('fills the match columns from the contact', async () => {
    const user = await addUser();
    const id = await contacts().add(
      user,
      sampleContact('c1', {
        emails: [{ types: [], value: ' MAILTO:Ada@Example.ORG ' }],
        name: { prefix: '', given: 'Émile', additional: '', family: 'ZOLA', suffix: '' },
        organization: '  Les  Éditions ',
      }),
    );
    const row = await database()
      .db.selectFrom('user_contacts')
      .select(['email_norm', 'name_norm', 'org_norm'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ email_norm: 'ada@example.org', name_norm: 'emile zola', org_norm: 'les editions' });
  });

  it('refuses a second contact with the same UID for one user, not for another', async () => {
    const ada = await addUser('ada');
    const bob = await addUser('bob');
    await contacts().add(ada, sampleContact('same'));
    await expect(contacts().add(ada, sampleContact('same'))).rejects.toSatisfy((e) =>
      isLiaisonError(e, 'AlreadyExists'),
    );
    await contacts().add(bob, sampleContact('same'));
    expect(await contacts().list(ada)).toHaveLength(1);
    expect(await counter(ada)).toBe(1);
  });

  it('edits some fields: counted and journaled with before and after; a no-op edit writes nothing', async () => {
    const user = await addUser();
    const id = await contacts().add(user, sampleContact('c1'));
    const seqBefore = await currentChangeSeq(database().db);
    const edited = await contacts().edit(id, { title: 'Countess', note: 'mathematician' }, { actor: 'cli' });
    expect(edited).toMatchObject({
      uid: 'c1',
      title: 'Countess',
      note: 'mathematician',
      organization: 'Analytical Engines',
    });
    expect((await contacts().get(id))?.item).toEqual(edited);
    expect(await counter(user)).toBe(2);
    expect(await currentChangeSeq(database().db)).toBe(seqBefore + 1);
    const [update] = await journal().list({ user, limit: 1 });
    expect(update).toMatchObject({ action: 'update', before: { title: '' }, after: { title: 'Countess' } });

    await contacts().edit(id, { title: 'Countess' });
    expect(await counter(user)).toBe(2);
    expect(await journal().list({ user })).toHaveLength(2);
  });

  it('deletes: the row goes, the counter grows, the journal keeps the content', async () => {
    const user = await addUser();
    const id = await contacts().add(user, sampleContact('c1'));
    await contacts().delete(id);
    expect(await contacts().get(id)).toBeNull();
    expect(await contacts().list(user)).toEqual([]);
    expect(await counter(user)).toBe(2);
    const lines = await journal().list({ user, order: 'oldest-first' });
    expect(lines.map((l) => l.action)).toEqual(['create', 'delete']);
    expect(lines[1]).toMatchObject({ firmId: id, before: { formattedName: 'Ada Lovelace c1' }, after: null });
  });

  it('answers NotFound for an unknown item or user, and writes nothing', async () => {
    const user = await addUser();
    const ghost = asFirmItemId('no-such-item');
    for (const attempt of [contacts().edit(ghost, { note: 'x' }), contacts().delete(ghost)]) {
      await expect(attempt).rejects.toSatisfy((e) => isLiaisonError(e, 'NotFound'));
    }
    await expect(contacts().add('no-such-user' as UserId, sampleContact('c1'))).rejects.toSatisfy((e) =>
      isLiaisonError(e, 'NotFound'),
    );
    expect(await counter(user)).toBe(0);
    expect(await journal().list()).toEqual([]);
  });

  it('keeps contacts and appointments apart, each with its own counter', async () => {
    const user = await addUser();
    await contacts().add(user, sampleContact('x'));
    const id = await appointments().add(user, sampleAppointment('x', 9, { privacy: 'CONFIDENTIAL' }));
    expect(await appointments().list(user)).toMatchObject([
      { id, private: true, item: { summary: 'Meeting x' } },
    ]);
    expect(await contacts().list(user)).toHaveLength(1);
    const calendar = await new UserRepo(database()).get('ada');
    expect(calendar?.collections.calendar.changeCounter).toBe(1);
    expect(calendar?.collections.contacts.changeCounter).toBe(1);
    const [line] = await journal().list({ user, kind: 'calendar' });
    expect(line).toMatchObject({ action: 'create', actor: 'cli', firmId: id });
  });

  it('lists appointments that may overlap a window', async () => {
    const user = await addUser();
    const day = (d: number) => ({ value: `2030-05-${String(d).padStart(2, '0')}T10:00:00Z`, tzid: '' });
    const early = await appointments().add(
      user,
      sampleAppointment('early', 9, { start: day(1), end: day(2) }),
    );
    const inside = await appointments().add(
      user,
      sampleAppointment('inside', 9, { start: day(10), end: day(10) }),
    );
    const zoned = await appointments().add(
      user,
      sampleAppointment('zoned', 9, {
        start: { value: '2030-05-20T01:00:00', tzid: 'Europe/Paris' },
        end: { value: '2030-05-20T02:00:00', tzid: 'Europe/Paris' },
      }),
    );
    const weekly = await appointments().add(
      user,
      sampleAppointment('weekly', 9, { start: day(1), rrule: 'FREQ=WEEKLY' }),
    );
    const ids = async (from: string, to: string) =>
      (await appointments().listInWindow(user, Date.parse(from), Date.parse(to))).map((r) => r.id).sort();
    expect(await ids('2030-05-05T00:00:00Z', '2030-05-15T00:00:00Z')).toEqual([inside, weekly].sort());
    // 01:00 in Paris (summer time) is 23:00 UTC the day before.
    expect(await ids('2030-05-19T22:00:00Z', '2030-05-19T23:30:00Z')).toEqual([weekly, zoned].sort());
    expect(await ids('2030-04-01T00:00:00Z', '2030-05-01T11:00:00Z')).toEqual([early, weekly].sort());
  });
});
