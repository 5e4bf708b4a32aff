/**
 * Authenticated encryption of one credential: AES-256-GCM with a fresh random 96-bit IV
 * per secret (NIST SP 800-38D §8.2.2: random IVs keep the key safe for 2^32 encryptions),
 * stored as text:
 *
 *     v1:<key id>:<base64(iv | tag | ciphertext)>
 *
 * The version lets a later format coexist with this one. The key id tells a wrong key
 * apart from damaged data. The caller's `binding` (for instance the server's name and URL)
 * is authenticated with the ciphertext but not stored in it: a secret copied onto another
 * row, or a row whose URL was edited behind Liaison's back, no longer decrypts, so editing
 * the database alone cannot send a password to another host.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LiaisonError } from '../domain/errors.js';
import { SECRET_KEY_ENV, SECRET_KEY_FILE_ENV, type SecretKey } from './secret-key.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The message a wrong key produces, wherever it is detected. */
export const WRONG_KEY_MESSAGE = 'the secret key does not match the one the credentials were stored with';

/** Encrypts `plaintext` under `key`, bound to `binding`. */
export function sealSecret(key: SecretKey, plaintext: string, binding: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.bytes(), iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(binding, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const packed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  return `${VERSION}:${key.id}:${packed}`;
}

/** The id of the key a sealed secret was made with, or null when the text is not a sealed secret. */
export function sealedKeyId(sealed: string): string | null {
  const parts = sealed.split(':');
  return parts.length === 3 && parts[0] === VERSION ? (parts[1] ?? null) : null;
}

/**
 * Decrypts a secret made by {@link sealSecret}. `what` names it in messages ("the password
 * of server dav1"); no message ever quotes the secret or the stored text.
 *
 * Throws `Config`: when `key` is not the key the secret was sealed with (message
 * {@link WRONG_KEY_MESSAGE}), and when the stored text is damaged, of an unknown format,
 * or bound to something else than `binding`.
 */
export function openSecret(key: SecretKey, sealed: string, binding: string, what: string): string {
  const [version, keyId, packed, ...rest] = sealed.split(':');
  if (version !== VERSION || keyId === undefined || packed === undefined || rest.length > 0) {
    const known = version !== undefined && /^v\d+$/.test(version);
    throw new LiaisonError(
      'Config',
      known
        ? `${what} is stored in format ${version}, which this version of Liaison cannot read`
        : `${what} is damaged in the database (not an encrypted secret): store it again`,
    );
  }
  if (keyId !== key.id) {
    throw new LiaisonError(
      'Config',
      `${WRONG_KEY_MESSAGE} (${what}; key from ${key.source}): set ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} to the key used when it was stored`,
    );
  }
  const bytes = Buffer.from(packed, 'base64');
  if (bytes.length < IV_BYTES + TAG_BYTES) {
    throw new LiaisonError('Config', `${what} is damaged in the database (too short): store it again`);
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.bytes(), bytes.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(binding, 'utf8'));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
    return plain.toString('utf8');
  } catch (e) {
    // The key is the right one (same id), so the text or what it is bound to has changed.
    throw new LiaisonError(
      'Config',
      `${what} cannot be decrypted: it was altered in the database, or its server or URL was changed outside Liaison; store it again`,
      { cause: e },
    );
  }
}
