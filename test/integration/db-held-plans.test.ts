import { describe, expect, it } from 'vitest';
import { HeldPlanRepo } from '../../src/db/held-plan-repo.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { UserRepo } from '../../src/db/user-repo.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import type { UserId } from '../../src/domain/ids.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

describe.each(DIALECTS)('held plans (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const plans = () => new HeldPlanRepo(database(), () => Date.parse('2030-03-04T05:06:07Z'));

  async function addUser(login: string): Promise<UserId> {
    if ((await new ServerRepo(database()).get('mem')) === null) {
      await new ServerRepo(database()).add({ name: 'mem', kind: 'memory', url: '' });
    }
    return (await new UserRepo(database()).add({ login, server: 'mem' })).id;
  }

  it('holds a plan, then resolves it once', async () => {
    const ada = await addUser('ada');
    const plan = JSON.stringify({ deletes: 42 });
    const id = await plans().saveHeld({
      user: ada,
      login: 'ada',
      kind: 'contacts',
      reason: '42 deletions',
      plan,
    });
    expect(await plans().getHeld(id)).toEqual({
      id,
      user: ada,
      login: 'ada',
      kind: 'contacts',
      createdAt: '2030-03-04T05:06:07.000Z',
      reason: '42 deletions',
      plan,
      state: 'held',
    });
    expect(await plans().hasHeld(ada, 'contacts')).toBe(true);
    expect(await plans().hasHeld(ada, 'calendar')).toBe(false);

    await plans().resolveHeld(id, 'approved');
    expect((await plans().getHeld(id))?.state).toBe('approved');
    expect(await plans().hasHeld(ada, 'contacts')).toBe(false);
    await expect(plans().resolveHeld(id, 'rejected')).rejects.toSatisfy((e) =>
      isLiaisonError(e, 'PreconditionFailed'),
    );
    expect((await plans().getHeld(id))?.state).toBe('approved');
  });

  it('lists plans by state, oldest first', async () => {
    const ada = await addUser('ada');
    const bob = await addUser('bob');
    const first = await plans().saveHeld({
      user: ada,
      login: 'ada',
      kind: 'contacts',
      reason: 'r1',
      plan: '{}',
    });
    const second = await plans().saveHeld({
      user: bob,
      login: 'bob',
      kind: 'calendar',
      reason: 'r2',
      plan: '{}',
    });
    const third = await plans().saveHeld({
      user: ada,
      login: 'ada',
      kind: 'calendar',
      reason: 'r3',
      plan: '{}',
    });
    await plans().resolveHeld(second, 'rejected');
    expect((await plans().listHeld()).map((p) => p.id)).toEqual([first, second, third]);
    expect((await plans().listHeld({ state: 'held' })).map((p) => [p.id, p.login])).toEqual([
      [first, 'ada'],
      [third, 'ada'],
    ]);
    expect((await plans().listHeld({ state: 'rejected' })).map((p) => p.login)).toEqual(['bob']);
  });

  it('answers NotFound for an unknown plan', async () => {
    expect(await plans().getHeld('nope')).toBeNull();
    await expect(plans().resolveHeld('nope', 'approved')).rejects.toSatisfy((e) =>
      isLiaisonError(e, 'NotFound'),
    );
  });
});
