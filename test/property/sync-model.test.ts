import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asUid, asUserId, type FirmItemId, type Href } from '../../src/domain/ids.js';
import { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import { syncCollection } from '../../src/sync/collection-sync.js';
import { resolveHeldPlan } from '../../src/sync/held.js';
import { emptyReport } from '../../src/sync/report.js';
import { DEFAULT_SETTINGS, type SyncMode, type SyncSettings } from '../../src/sync/settings.js';
import { MemoryFirmStore, MemoryHeldStore } from '../support/memory-firm-store.js';
import { type Note, noteCodec } from '../support/note-codec.js';

/*
 * Model-based property test of mailbox sync (DESIGN §4): random histories of edits on
 * both sides, syncs in both modes, crashes injected at any step of execution, flaky and
 * missing etags, expired tokens. Items are identified by a unique title that edits never
 * change, so the invariants can name them.
 */

type Action =
  | { t: 'firm-create'; tags: string[] }
  | { t: 'firm-edit'; pick: number; body: string; tag: string }
  | { t: 'firm-delete'; pick: number }
  | { t: 'mail-create'; tags: string[] }
  | { t: 'mail-edit'; pick: number; body: string; tag: string }
  | { t: 'mail-delete'; pick: number }
  | { t: 'sync'; mode: SyncMode; crash: { at: number; where: 'mailbox' | 'mailbox-after' | 'commit' } | null }
  | { t: 'flaky'; on: boolean }
  | { t: 'missing-etags'; on: boolean }
  | { t: 'expire-tokens' };

const word = fc.constantFrom('a', 'b', 'c', 'd');
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    arbitrary: fc.record({ t: fc.constant('firm-create' as const), tags: fc.array(word, { maxLength: 2 }) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ t: fc.constant('firm-edit' as const), pick: fc.nat(), body: word, tag: word }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('firm-delete' as const), pick: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({ t: fc.constant('mail-create' as const), tags: fc.array(word, { maxLength: 2 }) }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ t: fc.constant('mail-edit' as const), pick: fc.nat(), body: word, tag: word }),
    weight: 3,
  },
  { arbitrary: fc.record({ t: fc.constant('mail-delete' as const), pick: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      t: fc.constant('sync' as const),
      mode: fc.constantFrom<SyncMode>('express', 'complete'),
      crash: fc.option(
        fc.record({
          at: fc.integer({ min: 1, max: 6 }),
          where: fc.constantFrom('mailbox', 'mailbox-after', 'commit'),
        }),
        { freq: 2 },
      ),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ t: fc.constant('flaky' as const), on: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ t: fc.constant('missing-etags' as const), on: fc.boolean() }), weight: 1 },
  { arbitrary: fc.constant({ t: 'expire-tokens' as const }), weight: 1 },
);

const USER = asUserId('u1');
const ACCOUNT = 'acct';
const SETTINGS = (mode: SyncMode): SyncSettings => ({
  ...DEFAULT_SETTINGS,
  mode,
  // The guards are tested on their own; here every plan is applied.
  guards: { maxDeletions: 1e9, maxChangeRatio: 1e9, minChangesForRatio: 1e9 },
  windowDays: null,
});

class World {
  readonly server = new MemoryMailboxServer();
  readonly firm = new MemoryFirmStore<Note>();
  readonly held = new MemoryHeldStore();
  /** Titles a user deleted on some side: these may legitimately be gone. */
  readonly deleted = new Set<string>();
  private serial = 0;
  private clock = Date.UTC(2026, 0, 1);

  async init() {
    await this.server.ensureMailbox(ACCOUNT);
  }
  nextTitle() {
    return `n${++this.serial}`;
  }
  mailItems(): [Href, Note][] {
    return [...this.server.items(ACCOUNT, 'contacts')].map(([h, text]) => [
      h,
      noteCodec.parse(text, asUid('x')),
    ]);
  }
  firmItems(): [FirmItemId, Note][] {
    return [...this.firm.items];
  }

  async apply(a: Action): Promise<void> {
    switch (a.t) {
      case 'firm-create': {
        const title = this.nextTitle();
        this.firm.userPut(null, {
          uid: asUid(`uid-${title}`),
          title,
          body: '',
          tags: a.tags,
          private: false,
        });
        return;
      }
      case 'firm-edit': {
        const items = this.firmItems();
        if (items.length === 0) return;
        const [id, n] = items[a.pick % items.length]!;
        this.firm.userPut(id, { ...n, body: a.body, tags: [...new Set([...n.tags, a.tag])] });
        return;
      }
      case 'firm-delete': {
        const items = this.firmItems();
        if (items.length === 0) return;
        const [id, n] = items[a.pick % items.length]!;
        this.deleted.add(n.title);
        this.firm.userDelete(id);
        return;
      }
      case 'mail-create': {
        const title = this.nextTitle();
        const n: Note = { uid: asUid(`uid-${title}`), title, body: '', tags: a.tags, private: false };
        this.server.put(ACCOUNT, 'contacts', `${title}.note` as Href, noteCodec.serialize(n));
        return;
      }
      case 'mail-edit': {
        const items = this.mailItems();
        if (items.length === 0) return;
        const [href, n] = items[a.pick % items.length]!;
        const edited = { ...n, body: a.body, tags: [...new Set([...n.tags, a.tag])] };
        this.server.put(ACCOUNT, 'contacts', href, noteCodec.serialize(edited));
        return;
      }
      case 'mail-delete': {
        const items = this.mailItems();
        if (items.length === 0) return;
        const [href, n] = items[a.pick % items.length]!;
        this.deleted.add(n.title);
        this.server.remove(ACCOUNT, 'contacts', href);
        return;
      }
      case 'flaky':
        this.server.setFlakyEtags(a.on);
        return;
      case 'missing-etags':
        this.server.setEtagsMissingAfterWrite(a.on);
        return;
      case 'expire-tokens':
        this.server.invalidateTokens(ACCOUNT);
        return;
      case 'sync':
        if (a.crash?.where === 'commit') this.firm.failCommitAt = a.crash.at;
        else if (a.crash) {
          this.server.failNthOperation(a.crash.at, {
            operations: ['create', 'update', 'delete', 'writeMarker'],
            afterEffect: a.crash.where === 'mailbox-after',
          });
        }
        await this.sync(a.mode);
        this.server.clearFault();
        this.firm.failCommitAt = null;
        return;
    }
  }

  target() {
    return { user: USER, login: 'user', kind: 'contacts' as const, runId: 'r' };
  }
  deps() {
    return {
      codec: noteCodec,
      firm: this.firm,
      held: this.held,
      mailbox: this.server.open(ACCOUNT),
      now: () => new Date(this.clock),
    };
  }

  async sync(mode: SyncMode) {
    this.clock += 60_000;
    const report = emptyReport('user', 'contacts', false);
    try {
      await syncCollection(this.target(), this.deps(), SETTINGS(mode), report);
    } catch {
      report.outcome = 'failed'; // an injected crash: the next run must recover from it
    }
    // A whole plan held, or only its deletions after a forgotten sync token (the rest applied).
    if (report.heldPlanId && report.outcome !== 'skipped') {
      // The administrator approves, later: a vanished side is what this history really did.
      // The crash injected into the run that held the plan is not the approval's.
      this.server.clearFault();
      this.firm.failCommitAt = null;
      const rec = await this.held.getHeld(report.heldPlanId);
      const approval = emptyReport('user', 'contacts', false);
      await resolveHeldPlan(rec!, 'approve', this.target(), this.deps(), approval);
      for (const k of ['toFirm', 'toMailbox'] as const) {
        for (const n of ['created', 'updated', 'deleted'] as const) report[k][n] += approval[k][n];
      }
      report.outcome = 'synced';
    }
    return report;
  }
}

function titles(items: [unknown, Note][]): string[] {
  return items.map(([, n]) => n.title).sort();
}

async function checkHistory(actions: Action[]) {
  const w = new World();
  await w.init();
  const created = new Set<string>();
  for (const a of actions) {
    await w.apply(a);
    for (const [, n] of [...w.firmItems(), ...w.mailItems()]) created.add(n.title);
  }
  // Settle: with faults off, one complete sync must bring both sides level.
  w.server.setFlakyEtags(false);
  const first = await w.sync('complete');
  expect(['synced', 'unchanged'], JSON.stringify(first)).toContain(first.outcome);

  const firmTitles = titles(w.firmItems());
  const mailTitles = titles(w.mailItems());
  // Both sides hold the same items, each once.
  expect(mailTitles).toEqual(firmTitles);
  expect(new Set(firmTitles).size).toBe(firmTitles.length);
  // Nothing a user did not delete disappears.
  for (const t of created) if (!w.deleted.has(t)) expect(firmTitles).toContain(t);
  // Same content on both sides.
  const firmByTitle = new Map(w.firmItems().map(([, n]) => [n.title, noteCodec.fields(n)]));
  for (const [, n] of w.mailItems()) expect(noteCodec.fields(n)).toEqual(firmByTitle.get(n.title));
  // A further sync in either mode is a no-op.
  for (const mode of ['complete', 'express'] as const) {
    const again = await w.sync(mode);
    expect(again.toFirm).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(again.toMailbox).toEqual({ created: 0, updated: 0, deleted: 0 });
  }
}

describe('mailbox sync model', () => {
  it('converges without loss or duplicates over random histories', async () => {
    const runs = Number(process.env.LIAISON_PROPERTY_RUNS ?? 1000);
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 30 }), checkHistory),
      // A failure prints its seed and path; replay with fc.assert(..., { seed, path }).
      { numRuns: runs, verbose: 1 },
    );
  });
});
