import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret } from '../../src/secrets/sealed-secret.js';
import { parseSecretKey } from '../../src/secrets/secret-key.js';
import { liaison, liaisonJson } from '../support/cli.js';

/*
 * Mailbox servers and credentials through the real `liaison` command: passwords come from
 * the environment, are stored encrypted with a key kept outside the database, and never
 * come back out in listings, JSON or error messages. No DAV server is contacted: the
 * server URL points at a closed port.
 */

const SERVICE_PASSWORD = 'Serv1ce-Acc0unt-Passw0rd';
const ALICE_PASSWORD = 'Alice-0wn-Passw0rd';
const ALICE_NEW_PASSWORD = 'Alice-R0tated-Passw0rd';
const DAV_URL = 'http://127.0.0.1:1/dav/';

let dir: string;
let dbFile: string;
let keyFile: string;
let env: Record<string, string>;

interface ServerJson {
  name: string;
  kind: string;
  url: string;
  hasSecret: boolean;
  options: Record<string, unknown>;
}
interface UserJson {
  login: string;
  mailboxUsername: string | null;
  hasSecret: boolean;
}

/** Every byte of the SQLite database, WAL included (recent writes may live only there). */
function databaseBytes(): string {
  return [dbFile, `${dbFile}-wal`]
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
}

function storedSecrets(): { server: string | null; users: Record<string, string | null> } {
  const db = new SqliteDatabase(dbFile, { readonly: true });
  try {
    const server = db.prepare("select secret from mailbox_servers where name = 'dav1'").get() as {
      secret: string | null;
    };
    const rows = db.prepare('select login, mailbox_secret from users').all() as {
      login: string;
      mailbox_secret: string | null;
    }[];
    return { server: server.secret, users: Object.fromEntries(rows.map((r) => [r.login, r.mailbox_secret])) };
  } finally {
    db.close();
  }
}

function expectNoSecretIn(text: string): void {
  for (const secret of [SERVICE_PASSWORD, ALICE_PASSWORD, ALICE_NEW_PASSWORD])
    expect(text).not.toContain(secret);
  const stored = storedSecrets();
  for (const sealed of [stored.server, ...Object.values(stored.users)]) {
    if (sealed) expect(text).not.toContain(sealed.split(':')[2]?.slice(0, 16));
  }
  expect(text).not.toMatch(/v1:[A-Za-z0-9_-]{8}:/);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-servers-'));
  dbFile = join(dir, 'firm.db');
  keyFile = join(dir, 'config', 'liaison', 'secret.key');
  env = {
    LIAISON_DB: dbFile,
    LIAISON_SECRET_KEY: '',
    LIAISON_SECRET_KEY_FILE: keyFile,
    // Keep the default key file of whoever runs the tests out of reach.
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'xdg'),
    SERVICE_PW: SERVICE_PASSWORD,
    ALICE_PW: ALICE_PASSWORD,
    ALICE_NEW_PW: ALICE_NEW_PASSWORD,
  };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('liaison server and user credentials', () => {
  it('adds a DAV server with the password from the environment, stored encrypted with a new key file', async () => {
    expect((await liaison(['init'], env)).code).toBe(0);
    expect(existsSync(keyFile)).toBe(false);
    const add = await liaison(
      [
        'server',
        'add',
        'dav1',
        '--kind',
        'dav',
        '--url',
        DAV_URL,
        '--username',
        'svc',
        '--password-env',
        'SERVICE_PW',
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('Added mailbox server dav1');
    expect(add.stderr).toContain(`created the secret key file ${keyFile}`);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expectNoSecretIn(add.stdout + add.stderr);

    // The database file holds the ciphertext, never the password, and the key is not in it.
    const bytes = databaseBytes();
    expect(bytes).not.toContain(SERVICE_PASSWORD);
    const keyText = readFileSync(keyFile, 'utf8').trim();
    expect(bytes).not.toContain(keyText);
    const sealed = storedSecrets().server;
    expect(sealed).toMatch(/^v1:/);
    // …and it is the password, encrypted: the key file opens it.
    const key = parseSecretKey(keyText, keyFile);
    expect(openSecret(key, sealed ?? '', JSON.stringify(['mailbox_servers', 'dav1', DAV_URL]), 'it')).toBe(
      SERVICE_PASSWORD,
    );
  });

  it('lists the server with hasSecret and its options, and no secret in JSON or text', async () => {
    const list = await liaisonJson<ServerJson[]>(['server', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.json).toEqual([
      expect.objectContaining({
        name: 'dav1',
        kind: 'dav',
        url: DAV_URL,
        hasSecret: true,
        options: { auth: 'basic', username: 'svc', tlsSkipVerify: false },
      }),
    ]);
    expectNoSecretIn(JSON.stringify(list.json));
    const text = await liaison(['server', 'list'], env);
    expect(text.stdout).toMatch(/dav1\s+dav\s+http:\/\/127\.0\.0\.1:1\/dav\/\s+basic \(svc\)\s+stored/);
    expectNoSecretIn(text.stdout);
  });

  it('refuses a DAV server whose password is in no environment variable and cannot be prompted for (exit 2)', async () => {
    const missingVar = await liaison(
      [
        'server',
        'add',
        'dav2',
        '--kind',
        'dav',
        '--url',
        DAV_URL,
        '--username',
        'svc',
        '--password-env',
        'NO_SUCH_PW',
      ],
      env,
    );
    expect(missingVar.code).toBe(2);
    expect(missingVar.stderr).toMatch(/environment variable NO_SUCH_PW is not set/);
    const noFlag = await liaison(
      ['server', 'add', 'dav2', '--kind', 'dav', '--url', DAV_URL, '--username', 'svc'],
      env,
    );
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toMatch(/--password-env/);
    const noAccount = await liaison(['server', 'add', 'dav2', '--kind', 'dav', '--url', DAV_URL], env);
    expect(noAccount.code).toBe(2);
    const inUrl = await liaison(
      ['server', 'add', 'dav2', '--kind', 'dav', '--url', `https://svc:${SERVICE_PASSWORD}@h/`, '--no-auth'],
      env,
    );
    expect(inUrl.code).toBe(2);
    expectNoSecretIn(inUrl.stderr);
    const names = (await liaisonJson<ServerJson[]>(['server', 'list'], env)).json.map((s) => s.name);
    expect(names).toEqual(['dav1']);
  });

  it('adds a user with their own credentials and changes them, never showing the password', async () => {
    const add = await liaison(
      [
        'user',
        'add',
        'alice',
        '--name',
        'Alice Adams',
        '--server',
        'dav1',
        '--mailbox',
        'alice',
        '--username',
        'alice@example.org',
        '--password-env',
        'ALICE_PW',
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    const bob = await liaison(
      ['user', 'add', 'bob', '--name', 'Bob', '--server', 'dav1', '--mailbox', 'bob'],
      env,
    );
    expect(bob.code, bob.stderr).toBe(0);
    let users = await liaisonJson<UserJson[]>(['user', 'list'], env);
    expect(users.json.map((u) => [u.login, u.mailboxUsername, u.hasSecret])).toEqual([
      ['alice', 'alice@example.org', true],
      ['bob', null, false],
    ]);
    expectNoSecretIn(JSON.stringify(users.json));
    expect(databaseBytes()).not.toContain(ALICE_PASSWORD);

    const set = await liaisonJson(['user', 'set', 'alice', '--password-env', 'ALICE_NEW_PW'], env);
    expect(set.code, set.stderr).toBe(0);
    expectNoSecretIn(JSON.stringify(set.json));
    users = await liaisonJson<UserJson[]>(['user', 'list'], env);
    expect(users.json[0]).toMatchObject({
      login: 'alice',
      mailboxUsername: 'alice@example.org',
      hasSecret: true,
    });
    const table = await liaison(['user', 'list'], env);
    expect(table.stdout).toMatch(/alice .*own \(alice@example\.org\)/);
    expectNoSecretIn(table.stdout);
    expect(databaseBytes()).not.toContain(ALICE_NEW_PASSWORD);

    const many = await liaison(['user', 'set', 'alice', 'bob', '--password-env', 'ALICE_PW'], env);
    expect(many.code).toBe(2);
  });

  it('says plainly when the secret key is not the one the credentials were stored with (exit 1)', async () => {
    const wrong = { ...env, LIAISON_SECRET_KEY: randomBytes(32).toString('base64') };
    const test = await liaison(['server', 'test', 'dav1'], wrong);
    expect(test.code).toBe(1);
    expect(test.stderr).toContain('the secret key does not match the one the credentials were stored with');
    expectNoSecretIn(test.stdout + test.stderr);

    const store = await liaison(
      ['user', 'set', 'bob', '--username', 'bob', '--password-env', 'ALICE_PW'],
      wrong,
    );
    expect(store.code).toBe(1);
    expect(store.stderr).toContain('the secret key does not match the one the credentials were stored with');
    expect((await liaisonJson<UserJson[]>(['user', 'list'], env)).json[1]).toMatchObject({
      hasSecret: false,
    });

    const lost = { ...env, LIAISON_SECRET_KEY_FILE: join(dir, 'elsewhere', 'secret.key') };
    const noKey = await liaison(['server', 'test', 'dav1'], lost);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/no secret key was found/);
    expect(existsSync(join(dir, 'elsewhere'))).toBe(false);
  });

  it('tests a DAV server with the right key: exit 1 with a plain message and no credential', async () => {
    const test = await liaison(['server', 'test', 'dav1', '--user', 'alice'], env);
    expect(test.code).toBe(1);
    // This build either cannot test DAV servers yet, or finds nothing listening on port 1.
    expect(test.stderr).toMatch(
      /cannot test servers of kind dav|unreachable at http:\/\/127\.0\.0\.1:1\/dav\//,
    );
    expectNoSecretIn(test.stdout + test.stderr);
  });

  it('tests a vdir server: its folder exists and is writable, and the user mailbox folders', async () => {
    const mailboxes = join(dir, 'mailboxes');
    expect((await liaison(['server', 'add', 'files', '--kind', 'vdir', '--url', mailboxes], env)).code).toBe(
      0,
    );
    expect(
      (
        await liaison(
          ['user', 'add', 'carol', '--name', 'Carol', '--server', 'files', '--mailbox', 'carol'],
          env,
        )
      ).code,
    ).toBe(0);
    const text = await liaison(['server', 'test', 'files', '--user', 'carol'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/folder\s+.*exists/);
    expect(text.stdout).toMatch(/writable\s+yes/);
    const json = await liaisonJson<{ ok: boolean; checks: { check: string; ok: boolean }[] }>(
      ['server', 'test', 'files', '--user', 'carol'],
      env,
    );
    expect(json.code).toBe(0);
    expect(json.json.ok).toBe(true);
    expect(json.json.checks.map((c) => c.check)).toEqual([
      'folder',
      'writable',
      'mailbox contacts',
      'mailbox calendar',
    ]);

    rmSync(mailboxes, { recursive: true, force: true });
    const gone = await liaison(['server', 'test', 'files'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/mailbox server files: .*does not exist/);
    mkdirSync(mailboxes);
    const wrongUser = await liaison(['server', 'test', 'files', '--user', 'alice'], env);
    expect(wrongUser.code).toBe(2);
  });
  it('recovers from a lost key: `credentials reset` removes every stored credential, which is then stored under a new key', async () => {
    const lostKey = { ...env, LIAISON_SECRET_KEY_FILE: join(dir, 'new-machine', 'secret.key') };
    const refused = await liaison(['server', 'set', 'dav1', '--password-env', 'SERVICE_PW'], lostKey);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/liaison credentials reset/);

    const unconfirmed = await liaison(['credentials', 'reset'], lostKey);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(
      'this removes the stored credentials of 1 server(s) and 1 user(s), which must then be entered again',
    );
    expect(unconfirmed.stderr).toContain('--yes');
    const reset = await liaisonJson<{ servers: string[]; users: string[] }>(
      ['credentials', 'reset', '--yes'],
      lostKey,
    );
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.json).toEqual({ servers: ['dav1'], users: ['alice'] });
    const users = await liaisonJson<UserJson[]>(['user', 'list'], lostKey);
    expect(users.json.find((u) => u.login === 'alice')).toMatchObject({ hasSecret: false });

    const again = await liaison(['server', 'set', 'dav1', '--password-env', 'SERVICE_PW'], lostKey);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(dir, 'new-machine', 'secret.key'))).toBe(true);
    // The old key no longer opens what is stored now.
    const old = await liaison(['server', 'test', 'dav1'], env);
    expect(old.stderr).toContain('the secret key does not match the one the credentials were stored with');
    const text = await liaison(['credentials', 'reset', '--yes'], lostKey);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/liaison server set dav1 --password-env VAR/);
    expectNoSecretIn(text.stdout + text.stderr);
  });
});
