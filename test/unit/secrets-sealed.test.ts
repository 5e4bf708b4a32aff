import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLiaisonError } from '../../src/domain/errors.js';
import { openSecret, sealedKeyId, sealSecret, WRONG_KEY_MESSAGE } from '../../src/secrets/sealed-secret.js';
import { SecretKey } from '../../src/secrets/secret-key.js';

const key = new SecretKey(randomBytes(32), 'test key A');
const otherKey = new SecretKey(randomBytes(32), 'test key B');
const BINDING = '["mailbox_servers","dav1","https://dav.example.org/"]';
const PASSWORD = 'correct horse battery staple';

/** The error `fn` throws, asserting it is a `LiaisonError`. */
function errorOf(fn: () => unknown): Error & { kind: string } {
  try {
    fn();
  } catch (e) {
    if (isLiaisonError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

/** The sealed text with one byte of its binary part flipped at `index`. */
function flipByte(sealed: string, index: number): string {
  const [version, id, packed] = sealed.split(':');
  const bytes = Buffer.from(packed ?? '', 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return `${version}:${id}:${bytes.toString('base64')}`;
}

describe('sealed secrets (AES-256-GCM)', () => {
  it('round-trips any text, unicode included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string(), (plain, binding) => {
        expect(openSecret(key, sealSecret(key, plain, binding), binding, 'the secret')).toBe(plain);
      }),
    );
  });

  it('writes the versioned format with the key id and a fresh IV each time', () => {
    const a = sealSecret(key, PASSWORD, BINDING);
    const b = sealSecret(key, PASSWORD, BINDING);
    expect(a).toMatch(/^v1:[A-Za-z0-9_-]{8}:[A-Za-z0-9+/]+=*$/);
    expect(a).not.toBe(b);
    expect(a.split(':')[2]?.slice(0, 16)).not.toBe(b.split(':')[2]?.slice(0, 16));
    expect(sealedKeyId(a)).toBe(key.id);
    expect(a).not.toContain(PASSWORD);
    // 12-byte IV + 16-byte tag + the ciphertext, as long as the UTF-8 plaintext.
    expect(Buffer.from(a.split(':')[2] ?? '', 'base64')).toHaveLength(12 + 16 + Buffer.byteLength(PASSWORD));
  });

  it('reports a wrong key as such, naming where the key came from and nothing secret', () => {
    const sealed = sealSecret(key, PASSWORD, BINDING);
    const e = errorOf(() => openSecret(otherKey, sealed, BINDING, 'the password of server dav1'));
    expect(e.kind).toBe('Config');
    expect(e.message).toContain(WRONG_KEY_MESSAGE);
    expect(e.message).toContain('the password of server dav1');
    expect(e.message).toContain('test key B');
    expect(e.message).not.toContain(PASSWORD);
    expect(e.message).not.toContain(sealed.split(':')[2]);
  });

  it('refuses tampered IV, tag or ciphertext instead of returning garbage', () => {
    const sealed = sealSecret(key, PASSWORD, BINDING);
    for (const index of [0, 11, 12, 27, 28, 28 + PASSWORD.length - 1]) {
      const e = errorOf(() => openSecret(key, flipByte(sealed, index), BINDING, 'the password'));
      expect(e.kind).toBe('Config');
      expect(e.message).toMatch(/cannot be decrypted/);
      expect(e.message).not.toContain(WRONG_KEY_MESSAGE);
      expect(e.message).not.toContain(PASSWORD);
    }
  });

  it('refuses a secret opened under another binding (copied to another row or URL)', () => {
    const sealed = sealSecret(key, PASSWORD, BINDING);
    const e = errorOf(() =>
      openSecret(key, sealed, BINDING.replace('example.org', 'evil.example'), 'the password'),
    );
    expect(e.kind).toBe('Config');
    expect(e.message).toMatch(/cannot be decrypted/);
  });

  it('reports truncated, unknown-format and non-secret text as Config errors', () => {
    const sealed = sealSecret(key, PASSWORD, BINDING);
    const cases = [
      `v1:${key.id}:${Buffer.alloc(20).toString('base64')}`,
      `v2:${key.id}:${sealed.split(':')[2]}`,
      'hunter2',
      `${sealed}:extra`,
    ];
    for (const text of cases) {
      const e = errorOf(() => openSecret(key, text, BINDING, 'the password'));
      expect(e.kind).toBe('Config');
      expect(e.message).not.toContain('hunter2');
    }
    expect(errorOf(() => openSecret(key, cases[1] ?? '', BINDING, 'the password')).message).toMatch(
      /format v2/,
    );
    expect(sealedKeyId('hunter2')).toBeNull();
  });
});
