import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/cli/report-text.js';
import { emptyReport } from '../../src/sync/report.js';

describe('the text of a run report', () => {
  it('says how many items changed on both sides and were merged', () => {
    const contacts = { ...emptyReport('ann', 'contacts', false), outcome: 'synced' as const, conflicts: 2 };
    contacts.toFirm.updated = 2;
    const text = renderReport({
      runId: 'r1',
      mode: 'express',
      startedAt: '2026-11-26T10:00:00.000Z',
      finishedAt: '2026-11-26T10:00:01.000Z',
      collections: [contacts],
    });
    expect(text).toContain(
      'ann contacts: synced — to mailbox +0 ~0 -0, to firm +0 ~2 -0, 2 changed on both sides, merged',
    );
  });
});
