import { describe, expect, it } from 'vitest';
import { mergeThreeWay, mergeTwoWay } from '../../src/sync/merge.js';

const SET = new Set(['emails', 'categories']);
const email = (value: string, types: string[] = []) => ({ types, value });

describe('merging set-like fields', () => {
  it('a first-sync match keeps one address, with the types either side gave it, when the sides differ only in TYPE or letter case', () => {
    const firm = { emails: [email('Tom@Example.com')] };
    const mailbox = { emails: [email('tom@example.com', ['work']), email('t@home.example')] };
    const merged = mergeTwoWay(firm, mailbox, 'firm', SET);
    expect(merged.fields.emails).toEqual([email('Tom@Example.com', ['work']), email('t@home.example')]);
    expect(mergeTwoWay(firm, mailbox, 'mailbox', SET).fields.emails).toEqual([
      email('tom@example.com', ['work']),
      email('t@home.example'),
    ]);
  });
  it('three-way: a TYPE one side removed stays removed', () => {
    const base = { emails: [email('tom@example.com', ['work'])] };
    const merged = mergeThreeWay(base, { emails: [email('tom@example.com')] }, base, 'firm', SET);
    expect(merged.fields.emails).toEqual([email('tom@example.com')]);
  });

  it('three-way: additions on both sides are kept, a removal on one side stays removed', () => {
    const base = { categories: ['a', 'b'] };
    const merged = mergeThreeWay(
      base,
      { categories: ['a', 'b', 'f'] },
      { categories: ['b', 'm'] },
      'firm',
      SET,
    );
    expect(merged.fields.categories).toEqual(['b', 'f', 'm']);
    expect(merged.conflicts).toEqual([]);
  });
  it('three-way: a scalar changed on both sides goes to the winner and is reported', () => {
    const merged = mergeThreeWay({ title: 'a' }, { title: 'f' }, { title: 'm' }, 'mailbox', SET);
    expect(merged.fields.title).toBe('m');
    expect(merged.conflicts).toEqual([{ field: 'title', winner: 'mailbox', firm: 'f', mailbox: 'm' }]);
  });
});
