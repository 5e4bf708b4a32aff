import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/open.js';
import { createDatabase } from './postgres.js';

export type TestDialect = 'sqlite' | 'postgres';

const urls = new WeakMap<Database, string>();

/** Every dialect a repository test runs on. */
export const DIALECTS: readonly TestDialect[] = ['sqlite', 'postgres'];

/** The run's PostgreSQL admin URL; throws the reason the cluster is missing, so the test fails with it. */
export function postgresAdminUrl(): string {
  const error = inject('postgresError');
  if (error !== '') throw new Error(`PostgreSQL is not available for the database tests: ${error}`);
  return inject('postgresUrl');
}

/**
 * A fresh, unmigrated database of the dialect: a SQLite file in a temporary folder, or a
 * new database on the run's PostgreSQL cluster. `url` reopens it; `cleanup` closes and removes it.
 */
export async function createTestDatabase(
  dialect: TestDialect,
): Promise<{ readonly url: string; readonly database: Database; cleanup(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'liaison-db-'));
    const url = join(dir, 'firm.db');
    const database = await openDatabase(url);
    urls.set(database, url);
    return {
      url,
      database,
      async cleanup() {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const created = await createDatabase(postgresAdminUrl());
  const database = await openDatabase(created.url, { poolSize: 4 });
  urls.set(database, created.url);
  return {
    url: created.url,
    database,
    async cleanup() {
      await database.close();
      await created.drop();
    },
  };
}

interface TableName {
  readonly name: string;
}

/** Empties every table but the migration bookkeeping, so that each test starts clean. */
async function wipe(database: Database): Promise<void> {
  const listing =
    database.dialect === 'postgres'
      ? sql<TableName>`select tablename as name from pg_tables where schemaname = 'public'`
      : sql<TableName>`select name from sqlite_master where type = 'table' and name not like 'sqlite_%'`;
  const tables = await listing.execute(database.db);
  const names = tables.rows.map((r) => r.name).filter((n) => !n.startsWith('kysely_'));
  if (database.dialect === 'postgres') {
    await sql`truncate ${sql.join(names.map((n) => sql.table(n)))} cascade`.execute(database.db);
    return;
  }
  // Foreign keys would impose an order; SQLite lets a connection switch them off outside a transaction.
  await sql`pragma foreign_keys = off`.execute(database.db);
  for (const n of names) await sql`delete from ${sql.table(n)}`.execute(database.db);
  await sql`pragma foreign_keys = on`.execute(database.db);
}

/**
 * Registers hooks giving the enclosing `describe` one migrated database of the dialect
 * (created before its first test, removed after its last), emptied before each test.
 * Returns a getter for it. When the database cannot be created (no PostgreSQL), every
 * test that asks for it fails with the reason, rather than being reported as skipped.
 */
export function useTestDatabase(dialect: TestDialect): () => Database {
  let current: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      current = await createTestDatabase(dialect);
      await current.database.migrate();
    } catch (e) {
      failure = e;
    }
  });
  beforeEach(async () => {
    if (current !== undefined) await wipe(current.database);
  });
  afterAll(async () => {
    await current?.cleanup();
  });
  return () => {
    if (failure !== undefined) throw failure;
    if (current === undefined) throw new Error(`The ${dialect} test database was not created`);
    return current.database;
  };
}

/** The URL that reopens a database made by `useTestDatabase` or `createTestDatabase`. */
export function urlOf(database: Database): string {
  const url = urls.get(database);
  if (url === undefined) throw new Error('Not a test database');
  return url;
}
