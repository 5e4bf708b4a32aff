import { describe, expect, it } from 'vitest';
import { asEtag, asFirmItemId, asHref, asUid } from '../../src/domain/ids.js';
import { planSync } from '../../src/sync/plan.js';
import type { FirmView, MailboxView, Op, PlanOptions } from '../../src/sync/plan-types.js';
import type { StatusEntry } from '../../src/sync/ports.js';
import { type Note, noteCodec } from '../support/note-codec.js';

const OPTS: PlanOptions = {
  policy: 'merge',
  winner: 'firm',
  privateItems: 'sync',
  window: null,
  recovery: false,
};
const SET = new Set(['categories']);

const note = (title: string, extra: Partial<Note> = {}): Note => ({
  uid: asUid(`u-${title}`),
  title,
  body: '',
  tags: [],
  private: false,
  ...extra,
});
const firm = (id: string, n: Note): FirmView<Note> => {
  const fields = noteCodec.fields(n);
  return { id: asFirmItemId(id), item: n, revision: `r-${id}`, fields, hash: noteCodec.hash(fields) };
};
const mbox = (href: string, etag: string, n?: Note): MailboxView<Note> => {
  if (!n) return { href: asHref(href), etag: asEtag(etag) };
  const fields = noteCodec.fields(n);
  return {
    href: asHref(href),
    etag: asEtag(etag),
    content: { item: n, fields, hash: noteCodec.hash(fields) },
  };
};
const status = (id: string, href: string, etag: string, base: Note): StatusEntry => {
  const fields = noteCodec.fields(base);
  const hash = noteCodec.hash(fields);
  return {
    firmId: asFirmItemId(id),
    href: asHref(href),
    firmHash: hash,
    firmRevision: null,
    mailboxEtag: asEtag(etag),
    mailboxHash: hash,
    base: fields,
  };
};
const plan = (
  f: FirmView<Note>[],
  m: MailboxView<Note>[],
  s: StatusEntry[],
  options: Partial<PlanOptions> = {},
) =>
  planSync({
    codec: noteCodec,
    firm: f,
    mailbox: m,
    status: s,
    options: { ...OPTS, ...options },
    setFields: SET,
  });
const types = (ops: readonly Op[]) => ops.map((o) => (o.type === 'update' ? `update:${o.reason}` : o.type));

describe('decision table: pairs with a status', () => {
  const a = note('Ann');
  it('unchanged on both sides: no operation', () => {
    expect(plan([firm('1', a)], [mbox('a', 'e1')], [status('1', 'a', 'e1', a)]).ops).toEqual([]);
  });
  it('new etag with equal content: refresh the status only', () => {
    const p = plan([firm('1', a)], [mbox('a', 'e2', a)], [status('1', 'a', 'e1', a)]);
    expect(types(p.ops)).toEqual(['update:etag-refresh']);
    expect(p.ops[0]).toMatchObject({ toFirm: false, toMailbox: false });
  });
  it('changed in the firm database only: written to the mailbox', () => {
    const p = plan([firm('1', { ...a, body: 'new' })], [mbox('a', 'e1')], [status('1', 'a', 'e1', a)]);
    expect(p.ops[0]).toMatchObject({
      type: 'update',
      reason: 'firm-changed',
      toMailbox: true,
      toFirm: false,
    });
  });
  it('changed in the mailbox only: written to the firm database', () => {
    const p = plan([firm('1', a)], [mbox('a', 'e2', { ...a, body: 'm' })], [status('1', 'a', 'e1', a)]);
    expect(p.ops[0]).toMatchObject({
      type: 'update',
      reason: 'mailbox-changed',
      toFirm: true,
      toMailbox: false,
    });
  });
  it('both changed to the same content: status only', () => {
    const b = { ...a, body: 'same' };
    const p = plan([firm('1', b)], [mbox('a', 'e2', b)], [status('1', 'a', 'e1', a)]);
    expect(p.ops[0]).toMatchObject({ reason: 'same-change', toFirm: false, toMailbox: false });
  });
  it('both changed, different fields: merged with no conflict', () => {
    const p = plan(
      [firm('1', { ...a, body: 'firm body' })],
      [mbox('a', 'e2', { ...a, title: 'Ann B.' })],
      [status('1', 'a', 'e1', a)],
    );
    const op = p.ops[0];
    expect(op).toMatchObject({ reason: 'both-changed', toFirm: true, toMailbox: true, conflicts: [] });
    expect(op?.type === 'update' && op.result).toMatchObject({ title: 'Ann B.', body: 'firm body' });
  });
  it('both changed one field: the firm wins by default and the loser is reported', () => {
    const p = plan(
      [firm('1', { ...a, body: 'F' })],
      [mbox('a', 'e2', { ...a, body: 'M' })],
      [status('1', 'a', 'e1', a)],
    );
    const op = p.ops[0];
    expect(op?.type === 'update' && op.result.body).toBe('F');
    expect(op?.type === 'update' && op.conflicts).toEqual([
      { field: 'body', winner: 'firm', firm: 'F', mailbox: 'M' },
    ]);
  });
  it('both changed one field with winner mailbox: the mailbox wins', () => {
    const p = plan(
      [firm('1', { ...a, body: 'F' })],
      [mbox('a', 'e2', { ...a, body: 'M' })],
      [status('1', 'a', 'e1', a)],
      {
        winner: 'mailbox',
      },
    );
    expect(p.ops[0]).toMatchObject({ toFirm: true, toMailbox: false, result: { body: 'M' } });
  });
  it('policy firm-wins takes the whole firm item', () => {
    const p = plan(
      [firm('1', { ...a, body: 'F' })],
      [mbox('a', 'e2', { ...a, title: 'T2', body: 'M' })],
      [status('1', 'a', 'e1', a)],
      { policy: 'firm-wins' },
    );
    expect(p.ops[0]).toMatchObject({ toFirm: false, toMailbox: true, result: { title: 'Ann', body: 'F' } });
  });
  it('policy mailbox-wins takes the whole mailbox item', () => {
    const p = plan(
      [firm('1', { ...a, title: 'T1', body: 'F' })],
      [mbox('a', 'e2', { ...a, body: 'M' })],
      [status('1', 'a', 'e1', a)],
      { policy: 'mailbox-wins' },
    );
    expect(p.ops[0]).toMatchObject({ toFirm: true, toMailbox: false, result: { title: 'Ann', body: 'M' } });
  });
  it('set fields merge element-wise: both additions kept', () => {
    const base = { ...a, tags: ['x'] };
    const p = plan(
      [firm('1', { ...base, tags: ['x', 'f'] })],
      [mbox('a', 'e2', { ...base, tags: ['x', 'm'] })],
      [status('1', 'a', 'e1', base)],
    );
    expect(p.ops[0]).toMatchObject({ result: { categories: ['f', 'm', 'x'] }, conflicts: [] });
  });
  it('deleted in the mailbox, unchanged in the firm: deleted in the firm', () => {
    expect(types(plan([firm('1', a)], [], [status('1', 'a', 'e1', a)]).ops)).toEqual(['delete-in-firm']);
  });
  it('deleted in the mailbox, changed in the firm: modify beats delete, recreated in the mailbox', () => {
    const p = plan([firm('1', { ...a, body: 'x' })], [], [status('1', 'a', 'e1', a)]);
    expect(p.ops[0]).toMatchObject({ type: 'create-in-mailbox', replaces: 'a' });
  });
  it('deleted in the firm, unchanged in the mailbox: deleted in the mailbox', () => {
    expect(types(plan([], [mbox('a', 'e1')], [status('1', 'a', 'e1', a)]).ops)).toEqual([
      'delete-in-mailbox',
    ]);
  });
  it('deleted in the firm, changed in the mailbox: modify beats delete, recreated in the firm', () => {
    const p = plan([], [mbox('a', 'e2', { ...a, body: 'm' })], [status('1', 'a', 'e1', a)]);
    expect(p.ops[0]).toMatchObject({ type: 'create-in-firm', replaces: '1' });
  });
  it('gone on both sides: the status is forgotten', () => {
    expect(types(plan([], [], [status('1', 'a', 'e1', a)]).ops)).toEqual(['forget']);
  });
  it('an unreadable mailbox item leaves its pair alone and is reported', () => {
    const q: MailboxView<Note> = { href: asHref('a'), etag: asEtag('e2'), quarantine: 'bad' };
    const p = plan([firm('1', { ...a, body: 'changed' })], [q], [status('1', 'a', 'e1', a)]);
    expect(p.ops).toEqual([]);
    expect(p.quarantined).toEqual([{ href: 'a', reason: 'bad' }]);
  });
});

describe('decision table: items with no status', () => {
  it('firm only: created in the mailbox', () => {
    expect(types(plan([firm('1', note('A'))], [], []).ops)).toEqual(['create-in-mailbox']);
  });
  it('mailbox only: created in the firm', () => {
    expect(types(plan([], [mbox('a', 'e', note('A'))], []).ops)).toEqual(['create-in-firm']);
  });
  it('same UID on both sides with equal content: matched, no write', () => {
    const p = plan([firm('1', note('A'))], [mbox('a', 'e', note('A'))], []);
    expect(p.ops[0]).toMatchObject({ type: 'update', reason: 'matched', toFirm: false, toMailbox: false });
  });
  it('matched by a weaker key with different UIDs: the firm adopts the mailbox UID', () => {
    const p = plan(
      [firm('1', note('A', { uid: asUid('x') }))],
      [mbox('a', 'e', note('A', { uid: asUid('y') }))],
      [],
    );
    expect(p.ops[0]).toMatchObject({
      type: 'update',
      reason: 'matched',
      uid: 'y',
      toFirm: true,
      toMailbox: false,
    });
  });
  it('matched with different content: two-way merge, sets united', () => {
    const p = plan(
      [firm('1', note('A', { tags: ['f'], body: '' }))],
      [mbox('a', 'e', note('A', { tags: ['m'], body: 'from mailbox' }))],
      [],
    );
    expect(p.ops[0]).toMatchObject({
      result: { categories: ['f', 'm'], body: 'from mailbox' },
      toFirm: true,
      toMailbox: true,
    });
  });
  it('private items stay on their side under the keep rule', () => {
    const p = plan(
      [firm('1', note('A', { private: true }))],
      [mbox('b', 'e', note('B', { private: true }))],
      [],
      {
        privateItems: 'keep',
      },
    );
    expect(p.ops).toEqual([]);
    expect(p.leftAlone).toBe(2);
  });
  it('recovery ignores the status: matches, deletes nothing', () => {
    const a = note('A');
    const p = plan(
      [firm('1', a), firm('2', note('OnlyFirm'))],
      [mbox('a', 'e', a)],
      [status('9', 'gone', 'e', note('Z'))],
      {
        recovery: true,
      },
    );
    expect(types(p.ops).sort()).toEqual(['create-in-mailbox', 'update:recovered']);
  });
});

describe('decision table: a moved mailbox item', () => {
  it('an item renamed in the mailbox (same UID, new href) keeps its pair instead of delete + create', () => {
    const a = note('Ann');
    const p = plan([firm('1', a)], [mbox('renamed', 'e9', a)], [status('1', 'a', 'e1', a)]);
    expect(p.ops).toHaveLength(1);
    expect(p.ops[0]).toMatchObject({ type: 'update', href: 'renamed', toFirm: false, toMailbox: false });
  });
});
