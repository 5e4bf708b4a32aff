import { describe, expect, it } from 'vitest';
import { DiscoveryRepo } from '../../src/db/discovery-repo.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import type { DiscoveredMailbox } from '../../src/mailbox/dav/discovery-cache.js';
import { discoveryBasis, StoredDiscoveryCache } from '../../src/mailbox/dav/stored-discovery-cache.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

const DEFAULTS = { addressbook: null, calendar: null };
const BASIS = discoveryBasis('https://dav.example/', DEFAULTS);

const mailbox = (account: string, syncCollection = true): DiscoveredMailbox => ({
  account,
  principal: `/${account}/`,
  homes: { contacts: `/${account}/`, calendar: `/${account}/` },
  collections: {
    contacts: { href: `/${account}/contacts/`, displayName: 'Contacts', syncCollection, multiget: true },
    calendar: null,
  },
  autoSchedule: false,
});

describe.each(DIALECTS)('stored DAV discovery (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  let now = Date.parse('2026-11-26T08:00:00Z');

  async function server(name: string): Promise<string> {
    return (await new ServerRepo(database()).add({ name, kind: 'dav', url: 'https://dav.example/' })).id;
  }
  const cacheFor = (serverId: string, basis = BASIS) => {
    const repo = new DiscoveryRepo(database(), () => now);
    return new StoredDiscoveryCache(
      {
        get: (a) => repo.get(serverId, a),
        put: (a, u, d) => repo.put(serverId, a, u, d),
        delete: (a) => repo.delete(serverId, a),
      },
      basis,
      () => now,
    );
  };

  it('keeps what discovery found for the next process, per server and account, replacing it when rediscovered', async () => {
    const one = await server('one');
    const two = await server('two');
    await cacheFor(one).set('ada', mailbox('ada'));
    await cacheFor(two).set('ada', mailbox('ada', false));
    expect(await cacheFor(one).get('ada')).toEqual(mailbox('ada'));
    expect((await cacheFor(two).get('ada'))?.collections.contacts?.syncCollection).toBe(false);
    expect(await cacheFor(one).get('bob')).toBeUndefined();
    await cacheFor(one).set('ada', mailbox('ada', false));
    expect((await cacheFor(one).get('ada'))?.collections.contacts?.syncCollection).toBe(false);
  });

  it('forgets on request, after a day, and when the server moved or names other collections', async () => {
    const id = await server('three');
    await cacheFor(id).set('ada', mailbox('ada'));
    await cacheFor(id).set('bob', mailbox('bob'));
    await cacheFor(id).delete('bob');
    expect(await cacheFor(id).get('bob')).toBeUndefined();
    expect(
      await cacheFor(id, discoveryBasis('https://elsewhere.example/', DEFAULTS)).get('ada'),
    ).toBeUndefined();
    expect(
      await cacheFor(id, discoveryBasis('https://dav.example/', { addressbook: 'crm', calendar: null })).get(
        'ada',
      ),
    ).toBeUndefined();
    now += 23 * 3_600_000;
    expect(await cacheFor(id).get('ada')).toBeDefined();
    now += 2 * 3_600_000;
    expect(await cacheFor(id).get('ada')).toBeUndefined();
  });

  it('ignores a stored entry of another shape (written by another version) and goes with the server', async () => {
    const id = await server('four');
    const repo = new DiscoveryRepo(database(), () => now);
    await repo.put(id, 'ada', BASIS, { account: 'ada', collections: [] });
    expect(await cacheFor(id).get('ada')).toBeUndefined();
  });
});
