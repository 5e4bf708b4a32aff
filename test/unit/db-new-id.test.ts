import { describe, expect, it } from 'vitest';
import { newId } from '../../src/db/new-id.js';

describe('newId', () => {
  it('makes distinct UUIDv7-shaped ids whose text order is their creation order', () => {
    const ids = Array.from({ length: 10_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids.slice(0, 600)) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    // The random part differs between ids made in the same millisecond.
    expect(new Set(ids.map((id) => id.slice(19))).size).toBe(ids.length);
  });
});
