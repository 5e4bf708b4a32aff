import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/db/migrations.js';
import { openDatabase, redactUrl } from '../../src/db/open.js';
import { isLiaisonError, type LiaisonError } from '../../src/domain/errors.js';
import { createTestDatabase, DIALECTS, postgresAdminUrl } from '../support/test-database.js';

async function openError(url: string): Promise<LiaisonError> {
  try {
    const database = await openDatabase(url, { connectTimeoutMs: 2_000 });
    await database.close();
  } catch (e) {
    if (isLiaisonError(e)) return e;
    throw e;
  }
  throw new Error(`${url} opened`);
}

describe.each(DIALECTS)('opening and migrating (%s)', (dialect) => {
  let created: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    created = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await created?.cleanup();
  });

  it('names its dialect', () => {
    expect(created.database.dialect).toBe(dialect);
  });

  it('migrates, and a second migration (also from a new connection) changes nothing', async () => {
    await created.database.migrate();
    await created.database.migrate();
    const again = await openDatabase(created.url);
    try {
      await again.migrate();
      const rows = await again.db.selectFrom('mailbox_servers').selectAll().execute();
      expect(rows).toEqual([]);
      const migrations = await sql<{
        name: string;
      }>`select name from kysely_migration order by name`.execute(again.db);
      expect(migrations.rows.map((r) => r.name)).toEqual([
        '0001_initial',
        '0002_user_credentials',
        '0003_firm_sync',
        '0004_journal_reason',
        '0005_dav_discovery',
        '0006_status_gaps',
        '0007_quarantine',
        '0008_last_failure',
        '0009_last_changes',
      ]);
    } finally {
      await again.close();
    }
  });

  it('refuses a database upgraded by a newer version, naming the migration it does not know', async () => {
    const fresh = await createTestDatabase(dialect);
    try {
      await fresh.database.migrate();
      await sql`insert into kysely_migration (name, timestamp) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')`.execute(
        fresh.database.db,
      );
      const error = await fresh.database.migrate().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isLiaisonError(error, 'Database')).toBe(true);
      expect((error as LiaisonError).message).toMatch(/newer version of Liaison.*9999_from_the_future/);
    } finally {
      await fresh.cleanup();
    }
  });

  it('leaves the database as it was when a migration of an upgrade fails', async () => {
    const fresh = await createTestDatabase(dialect);
    try {
      await fresh.database.migrate();
      // As if the last three migrations were pending, the second of which cannot run (its
      // columns are there already): the one before it must not stay applied either.
      const db = fresh.database.db;
      await sql`delete from kysely_migration where name in ('0007_quarantine', '0008_last_failure', '0009_last_changes')`.execute(
        db,
      );
      await sql`drop table quarantine`.execute(db);
      const error = await fresh.database.migrate().then(
        () => null,
        (e: unknown) => e,
      );
      expect(isLiaisonError(error, 'Database')).toBe(true);
      expect((error as LiaisonError).message).toContain('0008_last_failure');
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        db,
      );
      expect(applied.rows.map((r) => r.name)).not.toContain('0007_quarantine');
      const quarantine = await sql`select count(*) as n from quarantine`.execute(db).then(
        () => 'there',
        () => 'gone',
      );
      expect(quarantine).toBe('gone');
    } finally {
      await fresh.cleanup();
    }
  });

  it('upgrades a database made by the first build, whose status table lacked firm_revision', async () => {
    const fresh = await createTestDatabase(dialect);
    try {
      const db = fresh.database.db;
      const first = { getMigrations: async () => ({ '0001_initial': MIGRATIONS['0001_initial']! }) };
      expect((await new Migrator({ db, provider: first }).migrateToLatest()).error).toBeUndefined();
      await sql`alter table sync_status drop column firm_revision`.execute(db);
      await fresh.database.migrate();
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        db,
      );
      expect(applied.rows.map((r) => r.name)).toEqual(Object.keys(MIGRATIONS).sort());
      const status = (await db.introspection.getTables()).find((t) => t.name === 'sync_status');
      expect(status?.columns.map((c) => c.name)).toContain('firm_revision');
    } finally {
      await fresh.cleanup();
    }
  });

  it('enforces foreign keys', async () => {
    await created.database.migrate();
    const insert = created.database.db
      .insertInto('users')
      .values({
        id: 'u1',
        login: 'orphan',
        display_name: '',
        server_id: 'no-such-server',
        mailbox_account: 'orphan',
        server_group: '',
        contacts_enabled: 0,
        calendar_enabled: 0,
        preferences: '{}',
        created_at: '2030-01-01T00:00:00.000Z',
        updated_at: '2030-01-01T00:00:00.000Z',
      })
      .execute();
    await expect(insert).rejects.toThrow();
  });
});

describe('opening SQLite', () => {
  it('uses WAL mode with a busy timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'liaison-open-'));
    const database = await openDatabase(`sqlite:${join(dir, 'firm.db')}`);
    try {
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
      const timeout = await sql<{ timeout: number }>`pragma busy_timeout`.execute(database.db);
      expect(timeout.rows[0]?.timeout).toBeGreaterThan(0);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens an in-memory database', async () => {
    const database = await openDatabase(':memory:');
    await database.migrate();
    expect(await database.db.selectFrom('users').selectAll().execute()).toEqual([]);
    await database.close();
  });

  it('reports a file in a missing folder as a Config error naming it', async () => {
    const error = await openError('/nonexistent-folder/firm.db');
    expect(error.kind).toBe('Config');
    expect(error.message).toContain('/nonexistent-folder/firm.db');
  });

  it('refuses an unknown URL scheme', async () => {
    const error = await openError('mysql://admin:hunter22@db.example.org/firm');
    expect(error.kind).toBe('Config');
    expect(error.message).not.toContain('hunter22');
  });
});

describe('opening PostgreSQL', () => {
  it('reports an unreachable server as a Config error that hides the password', async () => {
    // A role the cluster does not know, then a port nothing listens on.
    const admin = new URL(postgresAdminUrl());
    admin.username = 'liaison';
    admin.password = 'S3cret-pw';
    admin.pathname = '/no_such_database';
    for (const url of [admin.toString(), 'postgresql://liaison:S3cret-pw@127.0.0.1:1/firm']) {
      const error = await openError(url);
      expect(error.kind).toBe('Config');
      expect(error.message).not.toContain('S3cret-pw');
      expect(error.message).toContain('liaison:***@');
    }
  });
});

describe('redactUrl', () => {
  it('hides passwords in the user info and in parameters', () => {
    expect(redactUrl('postgres://me:p%40ss@host:5432/db')).toBe('postgres://me:***@host:5432/db');
    expect(redactUrl('postgres://host/db?user=me&password=secret')).toBe(
      'postgres://host/db?user=me&password=***',
    );
    expect(redactUrl('postgres://me@host/db')).toBe('postgres://me@host/db');
    expect(redactUrl('/var/lib/liaison/firm.db')).toBe('/var/lib/liaison/firm.db');
  });
});
