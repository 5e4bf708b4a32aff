import { describe, expect, it } from 'vitest';
import { ServerRepo } from '../../src/db/server-repo.js';
import { contactSyncStore } from '../../src/db/sync-store.js';
import { UserRepo } from '../../src/db/user-repo.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (isLiaisonError(e)) return e.kind;
    throw e;
  }
  return 'no error';
}

describe.each(DIALECTS)('servers and users (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const servers = () => new ServerRepo(database());
  const users = () => new UserRepo(database());

  it('adds, lists and gets mailbox servers', async () => {
    await servers().add({
      name: 'radicale',
      kind: 'dav',
      url: 'https://dav.example.org/',
      options: { batch: 50 },
    });
    await servers().add({ name: 'files', kind: 'vdir', url: '/srv/mail' });
    expect((await servers().list()).map((s) => s.name)).toEqual(['files', 'radicale']);
    const dav = await servers().get('radicale');
    expect(dav).toMatchObject({
      kind: 'dav',
      url: 'https://dav.example.org/',
      options: { batch: 50 },
      hasSecret: false,
    });
    expect(await servers().get('nope')).toBeNull();
  });

  it('refuses a second server with the same name', async () => {
    await servers().add({ name: 'radicale', kind: 'dav', url: 'https://a/' });
    expect(await kindOf(servers().add({ name: 'radicale', kind: 'memory', url: '' }))).toBe('AlreadyExists');
    expect(await servers().list()).toHaveLength(1);
  });

  it('adds users with sync off by default and refuses a duplicate login', async () => {
    await servers().add({ name: 'mem', kind: 'memory', url: '' });
    const ada = await users().add({ login: 'ada', server: 'mem', displayName: 'Ada L.' });
    expect(ada).toMatchObject({
      login: 'ada',
      displayName: 'Ada L.',
      server: 'mem',
      mailboxAccount: 'ada',
      serverGroup: '',
      contactsEnabled: false,
      calendarEnabled: false,
    });
    expect(ada.collections.contacts).toMatchObject({ lastSync: null, outOfSync: false, changeCounter: 0 });
    expect(await kindOf(users().add({ login: 'ada', server: 'mem' }))).toBe('AlreadyExists');
  });

  it('refuses a user on an unknown server with a Config error naming the server', async () => {
    try {
      await users().add({ login: 'bob', server: 'exchange-9' });
      expect.unreachable();
    } catch (e) {
      expect(isLiaisonError(e, 'Config')).toBe(true);
      expect((e as Error).message).toContain('exchange-9');
    }
    expect(await users().get('bob')).toBeNull();
  });

  it('sets group and enablement on many users at once and names the unknown logins', async () => {
    await servers().add({ name: 'mem', kind: 'memory', url: '' });
    for (const login of ['ada', 'bob', 'cy']) await users().add({ login, server: 'mem' });
    const result = await users().setMany(['ada', 'cy', 'zed', 'ada'], {
      serverGroup: 'paris',
      contactsEnabled: true,
    });
    expect(result).toEqual({ updated: ['ada', 'cy'], unknown: ['zed'] });
    const all = await users().list();
    expect(all.map((u) => [u.login, u.serverGroup, u.contactsEnabled, u.calendarEnabled])).toEqual([
      ['ada', 'paris', true, false],
      ['bob', '', false, false],
      ['cy', 'paris', true, false],
    ]);
    await users().setMany(['cy'], { calendarEnabled: true, contactsEnabled: false });
    expect(await users().get('cy')).toMatchObject({
      serverGroup: 'paris',
      contactsEnabled: false,
      calendarEnabled: true,
    });
  });

  it('filters users by server, group and enablement', async () => {
    await servers().add({ name: 'a', kind: 'memory', url: '' });
    await servers().add({ name: 'b', kind: 'memory', url: '' });
    await users().add({ login: 'u1', server: 'a', serverGroup: 'g1', contactsEnabled: true });
    await users().add({ login: 'u2', server: 'b', serverGroup: 'g2', calendarEnabled: true });
    await users().add({ login: 'u3', server: 'a', serverGroup: 'g2' });
    const logins = async (filter: Parameters<UserRepo['list']>[0]) =>
      (await users().list(filter)).map((u) => u.login);
    expect(await logins({ server: 'a' })).toEqual(['u1', 'u3']);
    expect(await logins({ groups: ['g2'] })).toEqual(['u2', 'u3']);
    expect(await logins({ groups: [] })).toEqual([]);
    expect(await logins({ enabled: 'calendar' })).toEqual(['u2']);
    expect(await logins({ server: 'a', groups: ['g1', 'g2'], enabled: 'contacts' })).toEqual(['u1']);
  });

  it('lists each collection state with the user', async () => {
    await servers().add({ name: 'mem', kind: 'memory', url: '' });
    const ada = await users().add({ login: 'ada', server: 'mem' });
    await contactSyncStore(database()).saveState(ada.id, 'contacts', {
      lastSync: '2030-01-01T00:00:00Z',
      outOfSync: true,
      outOfSyncReason: 'marker differs',
    });
    const listed = await users().get('ada');
    expect(listed?.collections.contacts).toMatchObject({
      lastSync: '2030-01-01T00:00:00Z',
      outOfSync: true,
      outOfSyncReason: 'marker differs',
    });
    expect(listed?.collections.calendar.lastSync).toBeNull();
  });
});
