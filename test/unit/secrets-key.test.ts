import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLiaisonError } from '../../src/domain/errors.js';
import {
  defaultKeyFile,
  keyLocation,
  parseSecretKey,
  SecretKey,
  SecretKeySource,
} from '../../src/secrets/secret-key.js';

async function kindOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (isLiaisonError(e)) return e.kind;
    throw e;
  }
  return 'no error';
}

describe('parseSecretKey', () => {
  const bytes = randomBytes(32);
  const id = new SecretKey(bytes, 'x').id;

  it('reads 64 hex digits in either case, and base64 with or without padding, standard or URL-safe', () => {
    const forms = [
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      bytes.toString('base64'),
      bytes.toString('base64').replace(/=+$/, ''),
      bytes.toString('base64url'),
      `  ${bytes.toString('base64')}\n`,
    ];
    for (const form of forms) expect(parseSecretKey(form, 'env LIAISON_SECRET_KEY').id).toBe(id);
  });

  it('refuses anything that is not exactly 32 bytes, without quoting the value', () => {
    const bad = [
      '',
      'not a key at all',
      randomBytes(31).toString('hex'),
      randomBytes(33).toString('hex'),
      randomBytes(16).toString('base64'),
      randomBytes(48).toString('base64'),
      `${bytes.toString('hex').slice(0, 63)}g`,
    ];
    for (const text of bad) {
      try {
        parseSecretKey(text, 'env LIAISON_SECRET_KEY');
        expect.unreachable(`accepted ${text}`);
      } catch (e) {
        expect(isLiaisonError(e, 'Config')).toBe(true);
        expect((e as Error).message).toContain('env LIAISON_SECRET_KEY');
        if (text.length > 4) expect((e as Error).message).not.toContain(text.trim());
      }
    }
  });

  it('gives different keys different ids and never shows the key bytes', () => {
    const a = parseSecretKey(bytes.toString('hex'), 'a');
    const b = parseSecretKey(randomBytes(32).toString('hex'), 'b');
    expect(a.id).not.toBe(b.id);
    for (const shown of [JSON.stringify(a), inspect(a), String(a)]) {
      expect(shown).not.toContain(bytes.toString('hex'));
      expect(shown).not.toContain(bytes.toString('base64').slice(0, 20));
    }
  });
});

describe('where the key comes from', () => {
  it('prefers env LIAISON_SECRET_KEY, then LIAISON_SECRET_KEY_FILE, then the default file', () => {
    const home = '/home/admin';
    expect(keyLocation({ LIAISON_SECRET_KEY: 'k', LIAISON_SECRET_KEY_FILE: '/etc/k' }, home)).toEqual({
      kind: 'env',
      name: 'LIAISON_SECRET_KEY',
      value: 'k',
    });
    expect(keyLocation({ LIAISON_SECRET_KEY: ' ', LIAISON_SECRET_KEY_FILE: '/etc/k' }, home)).toEqual({
      kind: 'file',
      path: '/etc/k',
    });
    expect(keyLocation({ LIAISON_SECRET_KEY_FILE: '' }, home)).toEqual({
      kind: 'file',
      path: '/home/admin/.config/liaison/secret.key',
    });
  });

  it('puts the default file under XDG_CONFIG_HOME when it is an absolute path', () => {
    expect(defaultKeyFile({ XDG_CONFIG_HOME: '/srv/conf' }, '/home/a')).toBe('/srv/conf/liaison/secret.key');
    expect(defaultKeyFile({ XDG_CONFIG_HOME: 'relative' }, '/home/a')).toBe(
      '/home/a/.config/liaison/secret.key',
    );
  });
});

describe('SecretKeySource', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'liaison-key-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds no key and creates none when only reading', async () => {
    const path = join(dir, 'conf', 'secret.key');
    const source = new SecretKeySource({ env: { LIAISON_SECRET_KEY_FILE: path } });
    expect(await source.load()).toBeNull();
    expect(existsSync(path)).toBe(false);
  });

  it('creates the key file with mode 0600 in a 0700 folder, once, and says where', async () => {
    const path = join(dir, 'conf', 'liaison', 'secret.key');
    const created: string[] = [];
    const source = new SecretKeySource({
      env: { LIAISON_SECRET_KEY_FILE: path },
      onCreated: (p) => created.push(p),
    });
    const key = await source.loadOrCreate();
    expect(created).toEqual([path]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'conf', 'liaison')).mode & 0o777).toBe(0o700);
    expect(parseSecretKey(readFileSync(path, 'utf8'), path).id).toBe(key.id);
    expect(key.source).toBe(path);

    const again = new SecretKeySource({
      env: { LIAISON_SECRET_KEY_FILE: path },
      onCreated: (p) => created.push(p),
    });
    expect((await again.loadOrCreate()).id).toBe(key.id);
    expect(created).toHaveLength(1);
  });

  it('gives processes racing to create the key one and the same key', async () => {
    const path = join(dir, 'secret.key');
    const sources = Array.from(
      { length: 8 },
      () => new SecretKeySource({ env: { LIAISON_SECRET_KEY_FILE: path } }),
    );
    const ids = new Set((await Promise.all(sources.map((s) => s.loadOrCreate()))).map((k) => k.id));
    expect(ids.size).toBe(1);
  });

  it('uses the default file under the home folder when nothing is configured', async () => {
    const source = new SecretKeySource({ env: {}, home: dir });
    expect(source.describe()).toBe(join(dir, '.config', 'liaison', 'secret.key'));
    await source.loadOrCreate();
    expect(existsSync(join(dir, '.config', 'liaison', 'secret.key'))).toBe(true);
  });

  it('uses env LIAISON_SECRET_KEY and never writes a file then', async () => {
    const bytes = randomBytes(32);
    const source = new SecretKeySource({ env: { LIAISON_SECRET_KEY: bytes.toString('base64') }, home: dir });
    expect((await source.loadOrCreate()).id).toBe(new SecretKey(bytes, 'x').id);
    expect(source.describe()).toBe('env LIAISON_SECRET_KEY');
    expect(existsSync(join(dir, '.config'))).toBe(false);
  });

  it('refuses a malformed env key instead of falling back to the file', async () => {
    const source = new SecretKeySource({ env: { LIAISON_SECRET_KEY: 'short' }, home: dir });
    expect(await kindOf(source.load())).toBe('Config');
  });

  it('refuses a key file that every user can read, and one that holds no key', async () => {
    const path = join(dir, 'secret.key');
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`);
    chmodSync(path, 0o644);
    expect(await kindOf(new SecretKeySource({ env: { LIAISON_SECRET_KEY_FILE: path } }).load())).toBe(
      'Config',
    );
    chmodSync(path, 0o600);
    expect(await new SecretKeySource({ env: { LIAISON_SECRET_KEY_FILE: path } }).load()).not.toBeNull();
    writeFileSync(path, 'not a key\n');
    expect(await kindOf(new SecretKeySource({ env: { LIAISON_SECRET_KEY_FILE: path } }).load())).toBe(
      'Config',
    );
  });
});
