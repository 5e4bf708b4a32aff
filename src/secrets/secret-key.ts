/**
 * The key that encrypts mailbox credentials at rest (SPEC §10). It never enters the
 * database: it comes from the environment or from a key file outside the database, so a
 * copy of the database (a backup, a dump) does not reveal the credentials.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { errorMessage, LiaisonError } from '../domain/errors.js';

/** Environment variable holding the key itself. */
export const SECRET_KEY_ENV = 'LIAISON_SECRET_KEY';
/** Environment variable naming the key file. */
export const SECRET_KEY_FILE_ENV = 'LIAISON_SECRET_KEY_FILE';

const KEY_BYTES = 32;
const KEY_FORMS =
  '32 bytes written as 64 hex digits or in base64 (e.g. the output of `openssl rand -base64 32`)';

/** A 256-bit key, with where it came from (for messages) and a short id that reveals nothing of it. */
export class SecretKey {
  /** Raw key bytes. Kept off enumerable fields so that printing the object shows nothing secret. */
  readonly #bytes: Buffer;
  /** Where the key came from: the environment variable's name or the key file's path. */
  readonly source: string;
  /**
   * A fingerprint stored beside each encrypted secret: a different key is then reported as
   * such, instead of as damaged data. An HMAC, so it says nothing about the key itself.
   */
  readonly id: string;

  constructor(bytes: Buffer, source: string) {
    if (bytes.length !== KEY_BYTES) {
      throw new LiaisonError('Config', `The secret key from ${source} must be ${KEY_FORMS}`);
    }
    this.#bytes = Buffer.from(bytes);
    this.source = source;
    this.id = createHmac('sha256', this.#bytes)
      .update('liaison secret key id')
      .digest('base64url')
      .slice(0, 8);
  }

  /** The raw bytes, for the cipher only. */
  bytes(): Buffer {
    return this.#bytes;
  }

  toJSON(): { source: string; id: string } {
    return { source: this.source, id: this.id };
  }
}

/**
 * Reads a key written as 64 hex digits or as base64 (standard or URL-safe, padding
 * optional) of exactly 32 bytes; surrounding white space is ignored. Throws `Config`
 * naming `source` (never the value) otherwise.
 */
export function parseSecretKey(text: string, source: string): SecretKey {
  const value = text.trim();
  let bytes: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(value)) bytes = Buffer.from(value, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
  if (bytes === null || bytes.length !== KEY_BYTES) {
    throw new LiaisonError('Config', `The secret key from ${source} is not a key: it must be ${KEY_FORMS}`);
  }
  return new SecretKey(bytes, source);
}

/** Where the key file is when `LIAISON_SECRET_KEY_FILE` does not say: `$XDG_CONFIG_HOME/liaison/secret.key`, else `~/.config/liaison/secret.key`. */
export function defaultKeyFile(env: Readonly<Record<string, string | undefined>>, home = homedir()): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(home, '.config');
  return join(base, 'liaison', 'secret.key');
}

/** Where a key comes from, resolved from the environment. */
export type KeyLocation =
  | { readonly kind: 'env'; readonly name: string; readonly value: string }
  | { readonly kind: 'file'; readonly path: string };

/** The key's location: env `LIAISON_SECRET_KEY` when set, else the key file named by `LIAISON_SECRET_KEY_FILE`, else the default file. */
export function keyLocation(
  env: Readonly<Record<string, string | undefined>>,
  home = homedir(),
): KeyLocation {
  const value = env[SECRET_KEY_ENV];
  if (value !== undefined && value.trim() !== '') return { kind: 'env', name: SECRET_KEY_ENV, value };
  const file = env[SECRET_KEY_FILE_ENV];
  if (file !== undefined && file.trim() !== '') return { kind: 'file', path: file };
  return { kind: 'file', path: defaultKeyFile(env, home) };
}

/** Settings of a {@link SecretKeySource}. */
export interface SecretKeySourceOptions {
  /** Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Home folder for the default key file. Default: the user's. */
  readonly home?: string;
  /** Told the path of a key file it has just created (the CLI says so on stderr). */
  readonly onCreated?: (path: string) => void;
}

/**
 * Finds the secret key — env `LIAISON_SECRET_KEY`, else the file named by
 * `LIAISON_SECRET_KEY_FILE`, else `~/.config/liaison/secret.key` — and creates the key
 * file (mode 0600, folder 0700) the first time a secret is stored and no key exists.
 * Loads at most once.
 */
export class SecretKeySource {
  readonly #location: KeyLocation;
  readonly #onCreated: ((path: string) => void) | undefined;
  #loaded: Promise<SecretKey | null> | undefined;

  constructor(options: SecretKeySourceOptions = {}) {
    this.#location = keyLocation(options.env ?? process.env, options.home);
    this.#onCreated = options.onCreated;
  }

  /** Where the key is looked for, for messages: `env LIAISON_SECRET_KEY` or the key file's path. */
  describe(): string {
    return this.#location.kind === 'env' ? `env ${this.#location.name}` : this.#location.path;
  }

  /** The key, or null when no key is configured and the key file does not exist. */
  load(): Promise<SecretKey | null> {
    this.#loaded ??= this.#read();
    return this.#loaded;
  }

  /**
   * The key, creating the key file when there is none. Only for storing a secret: a new key
   * cannot read anything stored before, so reading never creates one.
   */
  async loadOrCreate(): Promise<SecretKey> {
    const existing = await this.load();
    if (existing !== null) return existing;
    const where = this.#location;
    // An env key either loads or throws; only a key file can be missing.
    if (where.kind !== 'file') throw new LiaisonError('Config', `No secret key in env ${where.name}`);
    if (await createKeyFile(where.path)) this.#onCreated?.(where.path);
    this.#loaded = this.#read();
    const key = await this.#loaded;
    if (key === null) throw new LiaisonError('Config', `The secret key file ${where.path} vanished`);
    return key;
  }

  async #read(): Promise<SecretKey | null> {
    const where = this.#location;
    if (where.kind === 'env') return parseSecretKey(where.value, `env ${where.name}`);
    let text: string;
    try {
      const info = await stat(where.path);
      // Like ssh with private keys: a key others can read protects nothing.
      if (process.platform !== 'win32' && (info.mode & 0o007) !== 0) {
        throw new LiaisonError(
          'Config',
          `The secret key file ${where.path} can be read or written by every user: run \`chmod 600 ${where.path}\``,
        );
      }
      text = await readFile(where.path, 'utf8');
    } catch (e) {
      if (e instanceof LiaisonError) throw e;
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new LiaisonError('Config', `Cannot read the secret key file ${where.path}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    return parseSecretKey(text, where.path);
  }
}

/**
 * Writes a new random key to `path` unless a file is already there. The key goes to a
 * temporary file first and is hard-linked into place, which fails when the path exists:
 * two processes creating the key at once end up sharing one complete key file.
 * Returns whether this call created it.
 */
async function createKeyFile(path: string): Promise<boolean> {
  const tmp = join(dirname(path), `.secret-key-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(tmp, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    // The umask cannot widen 0600, but a restrictive one could narrow it to unreadable.
    await chmod(tmp, 0o600);
    await link(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new LiaisonError('Config', `Cannot create the secret key file ${path}: ${errorMessage(e)}`, {
      cause: e,
    });
  } finally {
    await unlink(tmp).catch(() => {});
  }
}
