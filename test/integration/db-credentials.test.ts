import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/db/migrations.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { UserRepo } from '../../src/db/user-repo.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { DAV_DEFAULTS } from '../../src/mailbox/dav/dav-config.js';
import { WRONG_KEY_MESSAGE } from '../../src/secrets/sealed-secret.js';
import { SecretKeySource } from '../../src/secrets/secret-key.js';
import { redactCredential, ServerCredentials } from '../../src/secrets/server-credentials.js';
import { createTestDatabase, DIALECTS, useTestDatabase } from '../support/test-database.js';

const PASSWORD = 'Pa55-word-of-the-service-account';
const USER_PASSWORD = 'alice-own-Pa55word';

async function errorOf(promise: Promise<unknown>): Promise<Error & { kind: string }> {
  try {
    await promise;
  } catch (e) {
    if (isLiaisonError(e)) return e;
    throw e;
  }
  throw new Error('expected an error');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'liaison-credentials-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(DIALECTS)('encrypted credentials in the database (%s)', (dialect) => {
  const database = useTestDatabase(dialect);
  const servers = () => new ServerRepo(database());
  const users = () => new UserRepo(database());
  const keyA = randomBytes(32).toString('base64');
  const keyB = randomBytes(32).toString('hex');
  const service = (key = keyA) =>
    new ServerCredentials(
      { servers: servers(), users: users() },
      new SecretKeySource({ env: { LIAISON_SECRET_KEY: key } }),
    );

  it('stores, reads back and removes a server secret and options', async () => {
    const added = await servers().add({
      name: 'dav1',
      kind: 'dav',
      url: 'https://dav.example.org/',
      options: { auth: 'basic', username: 'svc', tlsSkipVerify: true },
      secret: 'v1:abc:sealed',
    });
    expect(added).toMatchObject({ hasSecret: true, options: { username: 'svc', tlsSkipVerify: true } });
    expect(JSON.stringify(added)).not.toContain('sealed');
    expect(await servers().getSecret('dav1')).toBe('v1:abc:sealed');
    expect(await servers().anySecret()).toBe('v1:abc:sealed');
    await servers().setSecret('dav1', null);
    expect(await servers().get('dav1')).toMatchObject({ hasSecret: false });
    expect(await servers().getSecret('dav1')).toBeNull();
    expect(await servers().anySecret()).toBeNull();
    const moved = await servers().update('dav1', {
      url: 'https://new.example.org/',
      options: { auth: 'none' },
    });
    expect(moved).toMatchObject({
      url: 'https://new.example.org/',
      options: { auth: 'none' },
      hasSecret: false,
    });
    expect((await errorOf(servers().getSecret('nope'))).kind).toBe('NotFound');
    expect((await errorOf(servers().update('nope', { url: 'x' }))).kind).toBe('NotFound');
  });

  it("stores a user's own credential (migration 0002), shows only whether there is one", async () => {
    await servers().add({ name: 'dav1', kind: 'dav', url: 'https://dav.example.org/' });
    const ada = await users().add({
      login: 'ada',
      server: 'dav1',
      credential: { username: 'ada@example.org', secret: 'v1:abc:ada' },
    });
    expect(ada).toMatchObject({ mailboxUsername: 'ada@example.org', hasSecret: true });
    const bob = await users().add({ login: 'bob', server: 'dav1' });
    expect(bob).toMatchObject({ mailboxUsername: null, hasSecret: false });
    expect(JSON.stringify(await users().list())).not.toContain('v1:abc');
    expect(await users().getCredential('ada')).toEqual({ username: 'ada@example.org', secret: 'v1:abc:ada' });
    expect(await users().getCredential('bob')).toBeNull();
    expect(await servers().anySecret()).toBe('v1:abc:ada');

    await users().setCredential('bob', { username: null, secret: 'v1:abc:token' });
    expect(await users().get('bob')).toMatchObject({ mailboxUsername: null, hasSecret: true });
    await users().setCredential('ada', null);
    expect(await users().get('ada')).toMatchObject({ mailboxUsername: null, hasSecret: false });
    expect((await errorOf(users().setCredential('zed', null))).kind).toBe('NotFound');
    expect((await errorOf(users().getCredential('zed'))).kind).toBe('NotFound');
  });

  it('turns a stored DAV server into a DavServerConfig, decrypting its password', async () => {
    const added = await service().addDavServer({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'basic', username: 'svc', password: PASSWORD },
    });
    expect(added).toMatchObject({
      kind: 'dav',
      hasSecret: true,
      options: { auth: 'basic', username: 'svc' },
    });
    const stored = await servers().getSecret('dav1');
    expect(stored).toMatch(/^v1:/);
    expect(stored).not.toContain(PASSWORD);

    const config = await service().davConfig(added);
    expect(config).toMatchObject({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'basic', username: 'svc', password: PASSWORD },
      tls: { skipVerify: false },
      ...DAV_DEFAULTS,
    });
    // A config logged by mistake shows no password.
    expect(JSON.stringify(config)).not.toContain(PASSWORD);
    expect(inspect(config, { depth: 5 })).not.toContain(PASSWORD);
  });

  it("uses a user's own credentials when they carry some, else the service account", async () => {
    const server = await service().addDavServer({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'basic', username: 'svc', password: PASSWORD },
    });
    const credential = await service().sealUserCredential(server, 'alice', {
      kind: 'basic',
      username: 'alice',
      password: USER_PASSWORD,
    });
    const alice = await users().add({ login: 'alice', server: 'dav1', credential });
    const bob = await users().add({ login: 'bob', server: 'dav1' });
    expect((await service().davConfig(server, alice)).auth).toMatchObject({
      username: 'alice',
      password: USER_PASSWORD,
    });
    expect((await service().davConfig(server, bob)).auth).toMatchObject({
      username: 'svc',
      password: PASSWORD,
    });
    const withToken = await service().setUserCredential('bob', { kind: 'bearer', token: 'tok-123' });
    expect(withToken).toMatchObject({ hasSecret: true, mailboxUsername: null });
    expect((await service().davConfig(server, withToken)).auth).toMatchObject({
      kind: 'bearer',
      token: 'tok-123',
    });
    const back = await service().setUserCredential('bob', null);
    expect((await service().davConfig(server, back)).auth).toMatchObject({ username: 'svc' });
  });

  it('rotates a password, switches to a token or to no auth, and keeps TLS settings', async () => {
    await service().addDavServer({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'basic', username: 'svc', password: PASSWORD },
      tlsSkipVerify: true,
    });
    let rec = await service().updateDavServer('dav1', {
      auth: { kind: 'basic', username: 'svc', password: 'new-one' },
    });
    expect((await service().davConfig(rec)).auth).toMatchObject({ password: 'new-one' });
    expect((await service().davConfig(rec)).tls.skipVerify).toBe(true);
    rec = await service().updateDavServer('dav1', {
      auth: { kind: 'bearer', token: 'tok' },
      tlsSkipVerify: false,
    });
    expect(rec.options).toEqual({ auth: 'bearer', tlsSkipVerify: false });
    expect((await service().davConfig(rec)).auth).toMatchObject({ kind: 'bearer', token: 'tok' });
    rec = await service().updateDavServer('dav1', { auth: { kind: 'none' } });
    expect(rec.hasSecret).toBe(false);
    expect((await service().davConfig(rec)).auth.kind).toBe('none');
  });

  it('passes named collections through to the config, and goes back to the defaults', async () => {
    const rec = await service().addDavServer({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'none' },
      addressbook: 'Firm contacts',
      calendar: 'work',
    });
    expect(rec.hasSecret).toBe(false);
    expect(await service().davConfig(rec)).toMatchObject({ addressbook: 'Firm contacts', calendar: 'work' });
    const kept = await service().updateDavServer('dav1', { tlsSkipVerify: true });
    expect(await service().davConfig(kept)).toMatchObject({ addressbook: 'Firm contacts', calendar: 'work' });
    const cleared = await service().updateDavServer('dav1', { addressbook: null });
    const config = await service().davConfig(cleared);
    expect(config.addressbook).toBeUndefined();
    expect(config.calendar).toBe('work');
  });

  it('re-encrypts the secrets of a server and its users for a new URL', async () => {
    const server = await service().addDavServer({
      name: 'dav1',
      url: 'https://old.example.org/',
      auth: { kind: 'basic', username: 'svc', password: PASSWORD },
    });
    const credential = await service().sealUserCredential(server, 'alice', {
      kind: 'basic',
      username: 'alice',
      password: USER_PASSWORD,
    });
    await users().add({ login: 'alice', server: 'dav1', credential });
    const moved = await service().updateDavServer('dav1', { url: 'https://new.example.org/' });
    expect(moved.url).toBe('https://new.example.org/');
    expect((await service().davConfig(moved)).auth).toMatchObject({ password: PASSWORD });
    const alice = await users().get('alice');
    expect((await service().davConfig(moved, alice)).auth).toMatchObject({ password: USER_PASSWORD });
  });

  it('refuses to decrypt after the URL was edited in the database behind its back', async () => {
    await service().addDavServer({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'basic', username: 'svc', password: PASSWORD },
    });
    const edited = await servers().update('dav1', { url: 'https://attacker.example/' });
    const e = await errorOf(service().davConfig(edited));
    expect(e.kind).toBe('Config');
    expect(e.message).toMatch(/cannot be decrypted/);
    expect(e.message).not.toContain(PASSWORD);
  });

  it('reports a wrong key, and refuses to store new secrets under a second key', async () => {
    const rec = await service().addDavServer({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'basic', username: 'svc', password: PASSWORD },
    });
    const read = await errorOf(service(keyB).davConfig(rec));
    expect(read.kind).toBe('Config');
    expect(read.message).toContain(WRONG_KEY_MESSAGE);
    expect(read.message).not.toContain(PASSWORD);
    const store = await errorOf(
      service(keyB).addDavServer({
        name: 'dav2',
        url: 'https://dav2.example.org/',
        auth: { kind: 'basic', username: 'svc', password: 'other' },
      }),
    );
    expect(store.message).toContain(WRONG_KEY_MESSAGE);
    expect(await servers().get('dav2')).toBeNull();
  });

  it('does not make a new key file when credentials are stored but the key is missing', async () => {
    await service().addDavServer({
      name: 'dav1',
      url: 'https://dav.example.org/',
      auth: { kind: 'bearer', token: 'tok' },
    });
    const path = join(dir, `${dialect}-missing`, 'secret.key');
    const lost = new ServerCredentials(
      { servers: servers(), users: users() },
      new SecretKeySource({ env: { LIAISON_SECRET_KEY_FILE: path } }),
    );
    const store = await errorOf(lost.setUserCredential('nobody', { kind: 'bearer', token: 't' }));
    expect(store.kind).toBe('NotFound');
    await users().add({ login: 'ada', server: 'dav1' });
    const e = await errorOf(lost.setUserCredential('ada', { kind: 'bearer', token: 't' }));
    expect(e.kind).toBe('Config');
    expect(e.message).toMatch(/already holds credentials, but no secret key was found/);
    expect(existsSync(path)).toBe(false);
    const read = await errorOf(lost.davConfig((await servers().get('dav1'))!));
    expect(read.message).toMatch(/no secret key was found/);
  });

  it('refuses credentials in the URL, malformed credentials and non-DAV servers, quoting no secret', async () => {
    const inUrl = await errorOf(
      service().addDavServer({
        name: 'dav1',
        url: `https://svc:${PASSWORD}@dav.example.org/`,
        auth: { kind: 'basic', username: 'svc', password: PASSWORD },
      }),
    );
    expect(inUrl.kind).toBe('Usage');
    expect(inUrl.message).not.toContain(PASSWORD);
    const colon = await errorOf(
      service().addDavServer({
        name: 'dav1',
        url: 'https://dav.example.org/',
        auth: { kind: 'basic', username: 'a:b', password: PASSWORD },
      }),
    );
    expect(colon.kind).toBe('Usage');
    expect(
      (await errorOf(service().addDavServer({ name: 'x', url: 'ftp://h/', auth: { kind: 'none' } }))).kind,
    ).toBe('Usage');
    const files = await servers().add({ name: 'files', kind: 'vdir', url: '/srv/mail' });
    expect((await errorOf(service().davConfig(files))).kind).toBe('Config');
    await users().add({ login: 'ada', server: 'files' });
    expect((await errorOf(service().setUserCredential('ada', { kind: 'bearer', token: 't' }))).kind).toBe(
      'Usage',
    );
  });
});

describe.each(DIALECTS)('upgrading a database made before user credentials (%s)', (dialect) => {
  it('keeps its users, who use the server account until given their own', async () => {
    const created = await createTestDatabase(dialect);
    try {
      const db = created.database.db;
      const first = await new Migrator({
        db,
        provider: { getMigrations: async () => ({ '0001_initial': MIGRATIONS['0001_initial']! }) },
      }).migrateToLatest();
      expect(first.error).toBeUndefined();
      await new ServerRepo(created.database).add({ name: 'dav1', kind: 'dav', url: 'https://d/' });
      // Written as the 0001 code did: no credential columns exist yet.
      await sql`insert into users (id, login, server_id, mailbox_account, created_at, updated_at)
        select 'u1', 'ada', id, 'ada', 'now', 'now' from mailbox_servers`.execute(db);
      await created.database.migrate();
      const users = new UserRepo(created.database);
      expect(await users.get('ada')).toMatchObject({
        mailboxAccount: 'ada',
        mailboxUsername: null,
        hasSecret: false,
      });
      await users.setCredential('ada', { username: 'ada', secret: 'v1:x:y' });
      expect(await users.get('ada')).toMatchObject({ mailboxUsername: 'ada', hasSecret: true });
    } finally {
      await created.cleanup();
    }
  });
});

describe('redactCredential', () => {
  it('masks a password, its basic auth header form and a token', () => {
    const auth = { kind: 'basic', username: 'svc', password: 'p@ss word' } as const;
    const header = Buffer.from('svc:p@ss word').toString('base64');
    expect(redactCredential(`failed with p@ss word and Basic ${header}`, auth)).toBe(
      'failed with *** and Basic ***',
    );
    expect(redactCredential('Bearer abc.def', { kind: 'bearer', token: 'abc.def' })).toBe('Bearer ***');
  });
});
