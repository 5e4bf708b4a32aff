import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import { itemName } from '../../src/mailbox/item-name.js';

const name = (uid: string) => itemName(asUid(uid), 'contacts');

describe('itemName', () => {
  it('keeps a UID of safe characters as it is and adds the extension of the kind', () => {
    expect(name('abc-DEF_1.2@host')).toBe('abc-DEF_1.2@host.vcf');
    expect(itemName(asUid('abc'), 'calendar')).toBe('abc.ics');
  });

  it('percent-encodes separators, spaces, the percent sign and non-ASCII as UTF-8 bytes', () => {
    expect(name('a/b')).toBe('a%2Fb.vcf');
    expect(name('a\\b c')).toBe('a%5Cb%20c.vcf');
    expect(name('a%2Fb')).toBe('a%252Fb.vcf');
    expect(name('é')).toBe('%C3%A9.vcf');
  });

  it('never yields a hidden name or a path', () => {
    expect(name('.hidden')).toBe('%2Ehidden.vcf');
    expect(name('..')).toBe('%2E..vcf');
    expect(name('../../etc/passwd')).not.toContain('/');
  });

  it('cuts a long UID to a bounded name with a hash, keeping different long UIDs apart', () => {
    const long = 'x'.repeat(500);
    expect(name(long).length).toBeLessThanOrEqual(124);
    expect(name(long)).toMatch(/^x{80}~[0-9a-f]{32}\.vcf$/);
    expect(name(`${long}y`)).not.toBe(name(long));
  });

  it('does not split a percent escape when cutting', () => {
    const uid = `${'x'.repeat(79)}é${'y'.repeat(100)}`;
    expect(name(uid)).toMatch(/^x{79}~[0-9a-f]{32}\.vcf$/);
  });

  it('refuses an empty UID with InvalidData', () => {
    expect(() => name('')).toThrow(expect.objectContaining({ kind: 'InvalidData' }));
  });

  it('gives any UID a short, plain, non-hidden file name', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 400 }), (uid) => {
        const result = name(uid);
        expect(result).toMatch(/^[A-Za-z0-9._@%~-]+\.vcf$/);
        expect(result.startsWith('.')).toBe(false);
        expect(Buffer.byteLength(result)).toBeLessThanOrEqual(124);
      }),
    );
  });

  it('gives different UIDs different names', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
        (a, b) => {
          fc.pre(a !== b);
          expect(name(a)).not.toBe(name(b));
        },
      ),
    );
  });
});

describe('itemName with lone surrogates', () => {
  it('keeps UIDs apart that differ only in a lone surrogate', () => {
    expect(name('a\uD800')).not.toBe(name('a\uD801'));
    expect(name('a\uD800')).not.toBe(name('a\uFFFD'));
  });
});
