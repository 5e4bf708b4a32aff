import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonParts } from '../../src/cli/output.js';

describe('JSON output', () => {
  it('is exactly JSON.stringify with two spaces and a newline, whatever the value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue())), (value) => {
        expect([...jsonParts(value)].join('')).toBe(`${JSON.stringify(value, null, 2)}\n`);
      }),
      { numRuns: 500 },
    );
  });

  it('writes a long list in parts, none holding the whole list', () => {
    const list = Array.from({ length: 40 }, (_, i) => ({ id: i, photo: 'x'.repeat(100_000) }));
    const parts = [...jsonParts(list)];
    expect(parts.length).toBeGreaterThan(1);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(2 * (1 << 20));
    expect(JSON.parse(parts.join(''))).toEqual(list);
  });
});
