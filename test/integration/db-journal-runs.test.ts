import { describe, expect, it } from 'vitest';
import { JournalRepo } from '../../src/db/journal-repo.js';
import { RunRepo } from '../../src/db/run-repo.js';
import { asFirmItemId, asHref, type UserId } from '../../src/domain/ids.js';
import { DIALECTS, useTestDatabase } from '../support/test-database.js';

describe.each(DIALECTS)('journal and runs (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  let now = Date.parse('2030-06-01T00:00:00Z');
  const clock = () => now;

  it('appends journal lines and filters them by user, kind and run', async () => {
    const journal = new JournalRepo(database(), clock);
    const base = {
      direction: 'to-mailbox',
      href: null,
      uid: null,
      before: null,
      after: null,
      note: '',
    } as const;
    await journal.append([
      {
        ...base,
        actor: 'sync',
        runId: 'r1',
        user: 'u1' as UserId,
        kind: 'contacts',
        action: 'create',
        firmId: null,
      },
      {
        ...base,
        actor: 'sync',
        runId: 'r1',
        user: 'u1' as UserId,
        kind: 'calendar',
        action: 'conflict',
        firmId: asFirmItemId('f1'),
        href: asHref('m.ics'),
        before: { summary: 'old' },
        after: { summary: 'new' },
        note: 'mailbox value lost: "older"',
      },
      { ...base, actor: 'cli', user: 'u2' as UserId, kind: 'contacts', action: 'delete', firmId: null },
    ]);
    expect((await journal.list()).map((l) => l.action)).toEqual(['delete', 'conflict', 'create']);
    expect((await journal.list({ order: 'oldest-first', limit: 2 })).map((l) => l.action)).toEqual([
      'create',
      'conflict',
    ]);
    expect((await journal.list({ user: 'u1' as UserId, kind: 'calendar' }))[0]).toMatchObject({
      at: '2030-06-01T00:00:00.000Z',
      runId: 'r1',
      firmId: 'f1',
      href: 'm.ics',
      before: { summary: 'old' },
      after: { summary: 'new' },
      note: 'mailbox value lost: "older"',
    });
    expect(await journal.list({ runId: 'r1' })).toHaveLength(2);
    expect(await journal.list({ runId: 'r9' })).toEqual([]);
  });

  it('records a run from start to finish with its settings and report', async () => {
    const runs = new RunRepo(database(), clock);
    now = Date.parse('2030-06-01T00:00:00Z');
    const id = await runs.start('mailbox-sync', { mode: 'express' }, 'every-15-minutes');
    expect(await runs.get(id)).toEqual({
      id,
      kind: 'mailbox-sync',
      process: 'every-15-minutes',
      startedAt: '2030-06-01T00:00:00.000Z',
      finishedAt: null,
      status: 'running',
      settings: { mode: 'express' },
      report: null,
    });
    now += 90_000;
    await runs.finish(id, 'partial', { users: [{ login: 'ada', skipped: 'busy' }] });
    expect(await runs.get(id)).toMatchObject({
      finishedAt: '2030-06-01T00:01:30.000Z',
      status: 'partial',
      report: { users: [{ login: 'ada', skipped: 'busy' }] },
    });
    const other = await runs.start('firm-sync');
    expect((await runs.list()).map((r) => r.id)).toEqual([other, id]);
    expect((await runs.list({ process: 'every-15-minutes' })).map((r) => r.id)).toEqual([id]);
    await expect(runs.finish('nope', 'ok', {})).rejects.toThrow(/nope/);
  });
});
