import { describe, expect, it } from 'vitest';
import { asUid, type Href } from '../../src/domain/ids.js';
import { EXIT, exitCodeOf } from '../../src/sync/report.js';
import { memorySync } from '../support/memory-sync.js';
import { noteCodec } from '../support/note-codec.js';

/** Three contacts synced both ways; returns the harness and the contacts' hrefs. */
async function threeSynced() {
  const harness = await memorySync();
  for (const title of ['Ann', 'Bob', 'Cy']) {
    harness.firm.userPut(null, {
      uid: asUid(title.toLowerCase()),
      title,
      body: '',
      tags: [],
      private: false,
    });
  }
  await harness.sync({ settings: { mode: 'complete' } });
  const hrefs = [...harness.server.items('acct', 'contacts').keys()] as Href[];
  expect(hrefs).toHaveLength(3);
  return { ...harness, hrefs };
}

describe('a mailbox that no longer knows the last sync token', () => {
  it('holds the deletions its full listing shows, however few: the collection may be a restored copy', async () => {
    const { server, firm, held, sync, hrefs } = await threeSynced();
    // As after restoring the address book alone from a backup older than the last sync:
    // an item synced since is missing, and the server has forgotten the tokens it gave.
    server.remove('acct', 'contacts', hrefs[0]!);
    server.invalidateTokens('acct', 'contacts');

    const report = await sync({ settings: { mode: 'express' } });

    expect(report.heldPlanId).not.toBeNull();
    expect(report.reason).toContain('no longer knew the last sync token');
    expect(report.reason).toContain('1 item synced before is missing');
    expect(exitCodeOf([report])).toBe(EXIT.skipped);
    expect(firm.items.size).toBe(3);
    const [plan] = await held.listHeld();
    expect(plan?.id).toBe(report.heldPlanId);
  });

  it('applies the other changes at once: only the deletions wait, so neither decision loses an edit', async () => {
    const { server, firm, held, sync, hrefs } = await threeSynced();
    server.remove('acct', 'contacts', hrefs[0]!);
    const bob = noteCodec.parse(server.items('acct', 'contacts').get(hrefs[1]!)!, asUid('x'));
    server.put(
      'acct',
      'contacts',
      hrefs[1]!,
      noteCodec.serialize({ ...bob, body: 'edited after the restore' }),
    );
    server.invalidateTokens('acct', 'contacts');

    const report = await sync({ settings: { mode: 'express' } });

    expect(report.toFirm).toEqual({ created: 0, updated: 1, deleted: 0 });
    expect([...firm.items.values()].find((n) => n.uid === bob.uid)?.body).toBe('edited after the restore');
    const [plan] = await held.listHeld();
    expect(JSON.parse(plan!.plan).ops.map((o: { type: string }) => o.type)).toEqual(['delete-in-firm']);
  });

  it('lets the same deletion through when the token is still known, or in a complete sync', async () => {
    const first = await threeSynced();
    first.server.remove('acct', 'contacts', first.hrefs[0]!);
    expect((await first.sync({ settings: { mode: 'express' } })).toFirm.deleted).toBe(1);

    const second = await threeSynced();
    second.server.remove('acct', 'contacts', second.hrefs[0]!);
    second.server.invalidateTokens('acct', 'contacts');
    expect((await second.sync({ settings: { mode: 'complete' } })).toFirm.deleted).toBe(1);
  });

  it('applies what else it finds: creations and edits are not held', async () => {
    const { server, firm, sync, hrefs } = await threeSynced();
    server.put(
      'acct',
      'contacts',
      'dee.vcf',
      server.items('acct', 'contacts').get(hrefs[0]!)!.replace(/ann/gi, 'Dee'),
    );
    server.invalidateTokens('acct', 'contacts');

    const report = await sync({ settings: { mode: 'express' } });

    expect(report.outcome).toBe('synced');
    expect(report.toFirm.created).toBe(1);
    expect(firm.items.size).toBe(4);
  });
});
