import { describe, expect, it } from 'vitest';
import { asEtag, asFirmItemId, asHref, asUid } from '../../src/domain/ids.js';
import { DEFAULT_GUARDS, holdReason } from '../../src/sync/guards.js';
import { checkMarker, withMarkerTime } from '../../src/sync/marker.js';
import { planSync } from '../../src/sync/plan.js';
import type { Op, Plan } from '../../src/sync/plan-types.js';
import type { CollectionState } from '../../src/sync/ports.js';
import { type Note, noteCodec } from '../support/note-codec.js';

const STATE: CollectionState = {
  lastSync: null,
  pendingSync: null,
  outOfSync: false,
  outOfSyncReason: null,
  probe: null,
  token: null,
  firmCounter: 0,
  lastChanges: null,
  lastFailed: false,
};
const T1 = '2026-01-01T10:00:00.000Z';
const T2 = '2026-01-02T10:00:00.000Z';

describe('sync marker check', () => {
  it('a first sync needs no marker', () => {
    expect(checkMarker('contacts', STATE, null)).toEqual({ ok: true, promote: false });
  });
  it('a marker that matches the database passes', () => {
    const note = withMarkerTime(null, 'contacts', T1);
    expect(checkMarker('contacts', { ...STATE, lastSync: T1 }, note)).toEqual({ ok: true, promote: false });
  });
  it('a crash after writing the note but before the database: the pending time is accepted and promoted', () => {
    const note = withMarkerTime(null, 'contacts', T2);
    expect(checkMarker('contacts', { ...STATE, lastSync: T1, pendingSync: T2 }, note)).toEqual({
      ok: true,
      promote: true,
    });
  });
  it('a crash before writing the note: the old note still matches the database', () => {
    const note = withMarkerTime(null, 'contacts', T1);
    expect(checkMarker('contacts', { ...STATE, lastSync: T1, pendingSync: T2 }, note).ok).toBe(true);
  });
  it('a restored mailbox (older marker) is out of sync', () => {
    const v = checkMarker('contacts', { ...STATE, lastSync: T2 }, withMarkerTime(null, 'contacts', T1));
    expect(v.ok).toBe(false);
  });
  it('a missing marker for a collection synced before is out of sync; the other collection is independent', () => {
    const note = withMarkerTime(null, 'calendar', T1);
    expect(checkMarker('contacts', { ...STATE, lastSync: T1 }, note).ok).toBe(false);
    expect(checkMarker('calendar', { ...STATE, lastSync: T1 }, note).ok).toBe(true);
    expect(withMarkerTime(note, 'contacts', T2).collections).toEqual({ calendar: T1, contacts: T2 });
  });
  it('a restored database (no sync on record, marker present) is out of sync', () => {
    expect(checkMarker('contacts', STATE, withMarkerTime(null, 'contacts', T1)).ok).toBe(false);
  });
});

const del = (i: number): Op => ({
  type: 'delete-in-firm',
  firmId: asFirmItemId(`f${i}`),
  href: asHref(`h${i}`),
  uid: asUid(`u${i}`),
  fields: {},
  firmHash: 'h',
  firmRevision: 'r',
});
const upd = (i: number, reason: 'firm-changed' | 'matched' = 'firm-changed'): Op => ({
  type: 'update',
  firmId: asFirmItemId(`f${i}`),
  href: asHref(`h${i}`),
  etag: asEtag('e'),
  uid: asUid(`u${i}`),
  firmHash: 'h',
  firmRevision: 'r',
  mailboxHash: 'h',
  previous: { firm: {}, mailbox: {} },
  result: {},
  toFirm: false,
  toMailbox: true,
  conflicts: [],
  reason,
});
const plan = (ops: Op[]): Plan => ({ kind: 'contacts', ops, quarantined: [], leftAlone: 0 });
const sides = { firmEmpty: false, mailboxEmpty: false };

describe('mass-change guard', () => {
  it('10 deletions pass, 11 are held', () => {
    expect(
      holdReason(plan(Array.from({ length: 10 }, (_, i) => del(i))), 1000, sides, DEFAULT_GUARDS),
    ).toBeNull();
    expect(
      holdReason(plan(Array.from({ length: 11 }, (_, i) => del(i))), 1000, sides, DEFAULT_GUARDS),
    ).toMatch(/11 deletions/);
  });
  it('more than a quarter modified is held only when that is more than 10 items', () => {
    expect(
      holdReason(plan(Array.from({ length: 10 }, (_, i) => upd(i))), 20, sides, DEFAULT_GUARDS),
    ).toBeNull();
    expect(holdReason(plan(Array.from({ length: 11 }, (_, i) => upd(i))), 40, sides, DEFAULT_GUARDS)).toMatch(
      /11 of 40/,
    );
    expect(
      holdReason(plan(Array.from({ length: 11 }, (_, i) => upd(i))), 45, sides, DEFAULT_GUARDS),
    ).toBeNull();
  });
  it('creations and first-sync matches never count', () => {
    const matched = Array.from({ length: 50 }, (_, i) => upd(i, 'matched'));
    expect(holdReason(plan(matched), 0, sides, DEFAULT_GUARDS)).toBeNull();
  });
  it('thresholds are configurable', () => {
    const guards = { ...DEFAULT_GUARDS, maxDeletions: 2 };
    expect(holdReason(plan([del(1), del(2), del(3)]), 1000, sides, guards)).toMatch(/limit of 2/);
  });
  it('a side that is suddenly empty is held whatever the thresholds', () => {
    const loose = { maxDeletions: 1e9, maxChangeRatio: 1e9, minChangesForRatio: 1e9 };
    expect(holdReason(plan([del(1), del(2)]), 2, { firmEmpty: false, mailboxEmpty: true }, loose)).toMatch(
      /mailbox collection is empty/,
    );
  });
});

describe('calendar window', () => {
  const inWindow: Note = { uid: asUid('in'), title: 'in', body: '', tags: [], private: false };
  const outside: Note = { ...inWindow, uid: asUid('out'), title: 'out' };
  const codec = {
    ...noteCodec,
    span: (n: Note) => (n.title === 'in' ? { start: 50, end: 60 } : { start: 500, end: 600 }),
  };
  const view = (n: Note) => {
    const fields = codec.fields(n);
    return { id: asFirmItemId(n.title), item: n, revision: 'r', fields, hash: codec.hash(fields) };
  };
  it('creates only items inside the window and never deletes one that left it', () => {
    const options = {
      policy: 'merge',
      winner: 'firm',
      privateItems: 'sync',
      recovery: false,
      window: { start: 0, end: 100 },
    } as const;
    const p = planSync({
      codec,
      firm: [view(inWindow), view(outside)],
      mailbox: [],
      status: [],
      options,
      setFields: new Set(),
    });
    expect(p.ops.map((o) => (o.type === 'create-in-mailbox' ? o.uid : o.type))).toEqual(['in']);
    expect(p.leftAlone).toBe(1);
    // A synced pair whose event moved outside the window stays paired: nothing is deleted.
    const fields = codec.fields(outside);
    const hash = codec.hash(fields);
    const status = [
      {
        firmId: asFirmItemId('out'),
        href: asHref('out.ics'),
        firmHash: hash,
        firmRevision: 'r',
        mailboxEtag: asEtag('e'),
        mailboxHash: hash,
        base: fields,
      },
    ];
    const later = planSync({
      codec,
      firm: [view(outside)],
      mailbox: [{ href: asHref('out.ics'), etag: asEtag('e') }],
      status,
      options,
      setFields: new Set(),
    });
    expect(later.ops).toEqual([]);
  });
});
