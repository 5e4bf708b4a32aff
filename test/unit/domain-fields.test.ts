import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sameValue } from '../../src/domain/fields.js';

/**
 * The definition, written plainly: object members sorted by key (UTF-16 code units),
 * undefined members left out, undefined array elements written as null. (Not a sorted
 * copy through JSON.stringify: JavaScript objects put integer-like keys first.)
 */
function sortedJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  const members = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`);
  return `{${members.join(',')}}`;
}

/** Shuffles an object's keys (recursively) without changing its content. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).reverse()) {
    // defineProperty: a key named __proto__ stays a member.
    const v = reordered((value as Record<string, unknown>)[k]);
    Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
  }
  return out;
}

const json = fc.jsonValue();

describe('canonicalJson', () => {
  it('is the JSON of the value with object keys sorted', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalJson(v)).toBe(sortedJson(v));
      }),
    );
  });

  it('does not depend on key order', () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalJson(reordered(v))).toBe(canonicalJson(v));
      }),
    );
  });

  it('leaves out undefined members and writes undefined array elements as null', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined, 'x'] })).toBe('{"b":1,"c":[null,"x"]}');
    expect(canonicalJson({ z: { y: 2, x: 1 }, é: '', E: true })).toBe('{"E":true,"z":{"x":1,"y":2},"é":""}');
  });

  it('compares field values by content', () => {
    expect(sameValue({ a: 1, b: [2] }, { b: [2], a: 1 })).toBe(true);
    expect(sameValue(['a', 'b'], ['b', 'a'])).toBe(false);
    expect(sameValue(undefined, null)).toBe(true);
  });
});
