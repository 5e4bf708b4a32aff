import { describe, expect, it } from 'vitest';
import { LockRepo } from '../../src/db/lock-repo.js';
import { openDatabase } from '../../src/db/open.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { UserRepo } from '../../src/db/user-repo.js';
import type { UserId } from '../../src/domain/ids.js';
import { DIALECTS, urlOf, useTestDatabase } from '../support/test-database.js';

describe.each(DIALECTS)('user locks (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  let now = 1_000_000;
  const locks = () => new LockRepo(database(), () => now);

  async function addUser(login = 'ada'): Promise<UserId> {
    if ((await new ServerRepo(database()).get('mem')) === null) {
      await new ServerRepo(database()).add({ name: 'mem', kind: 'memory', url: '' });
    }
    return (await new UserRepo(database()).add({ login, server: 'mem' })).id;
  }

  it('grants a free lease and refuses it to others while it runs', async () => {
    now = 1_000_000;
    const user = await addUser();
    expect(await locks().tryAcquire(user, 'mailbox-sync@w1', 60_000)).toBe(true);
    expect(await locks().holder(user)).toBe('mailbox-sync@w1');
    now += 59_999;
    expect(await locks().tryAcquire(user, 'firm-sync@w2', 60_000)).toBe(false);
    expect(await locks().holder(user)).toBe('mailbox-sync@w1');
    // The holder itself may take it again (which extends it).
    expect(await locks().tryAcquire(user, 'mailbox-sync@w1', 60_000)).toBe(true);
  });

  it('lets another holder take an expired lease, after which the old holder cannot renew', async () => {
    now = 1_000_000;
    const user = await addUser();
    expect(await locks().tryAcquire(user, 'w1', 1_000)).toBe(true);
    now += 1_000;
    expect(await locks().tryAcquire(user, 'w2', 1_000)).toBe(true);
    expect(await locks().holder(user)).toBe('w2');
    expect(await locks().renew(user, 'w1', 1_000)).toBe(false);
    expect(await locks().renew(user, 'w2', 5_000)).toBe(true);
    now += 4_999;
    expect(await locks().tryAcquire(user, 'w1', 1_000)).toBe(false);
  });

  it('frees a lease on release by its holder only', async () => {
    now = 1_000_000;
    const user = await addUser();
    await locks().tryAcquire(user, 'w1', 60_000);
    await locks().release(user, 'w2');
    expect(await locks().tryAcquire(user, 'w2', 60_000)).toBe(false);
    await locks().release(user, 'w1');
    expect(await locks().holder(user)).toBeNull();
    expect(await locks().tryAcquire(user, 'w2', 60_000)).toBe(true);
  });

  it('locks users independently', async () => {
    now = 1_000_000;
    const ada = await addUser('ada');
    const bob = await addUser('bob');
    expect(await locks().tryAcquire(ada, 'w1', 60_000)).toBe(true);
    expect(await locks().tryAcquire(bob, 'w2', 60_000)).toBe(true);
  });

  it('grants a contested lease to exactly one of several connections racing for it', async () => {
    now = 1_000_000;
    const user = await addUser();
    // Separate connections (pools, or SQLite handles on the same file) act as separate workers.
    const others = await Promise.all(Array.from({ length: 4 }, () => openDatabase(urlOf(database()))));
    try {
      const contenders = [database(), ...others].flatMap((db) => [
        new LockRepo(db, () => now),
        new LockRepo(db, () => now),
      ]);
      const results = await Promise.all(contenders.map((l, i) => l.tryAcquire(user, `worker-${i}`, 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await locks().holder(user)).toBe(`worker-${results.indexOf(true)}`);
    } finally {
      await Promise.all(others.map((db) => db.close()));
    }
  });
});
