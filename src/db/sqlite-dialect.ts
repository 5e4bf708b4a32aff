import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  SqliteDriver,
} from 'kysely';

/**
 * Kysely's SQLite driver opens transactions with a plain (deferred) `BEGIN`. In WAL mode,
 * a deferred transaction that reads and then writes while another process (the `serve`
 * process and a CLI command, say) has written meanwhile fails at once with SQLITE_BUSY:
 * the busy timeout does not apply to a stale snapshot. Every transaction here writes, so
 * it takes the write lock up front with `BEGIN IMMEDIATE`, where the busy timeout waits.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Prepared statements kept per connection; the least recently used beyond this are dropped. */
const CACHED_STATEMENTS = 200;

/**
 * Kysely prepares every query anew. Sync writes run the same few statements (a batch of
 * rows, a status upsert, a journal insert) thousands of times, and each prepared statement
 * holds native memory until the garbage collector happens to finalize it: keeping them by
 * their SQL text saves both the preparing and that memory. A statement still being iterated
 * (a streamed query) is never handed out twice.
 */
class StatementCache implements SqliteDatabase {
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly database: BetterSqlite3.Database) {}

  prepare(sql: string): BetterSqlite3.Statement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined && !cached.busy) {
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    const statement = this.database.prepare(sql);
    if (cached === undefined) {
      this.#statements.set(sql, statement);
      if (this.#statements.size > CACHED_STATEMENTS) {
        const oldest = this.#statements.keys().next().value as string;
        this.#statements.delete(oldest);
      }
    }
    return statement;
  }

  close(): void {
    this.#statements.clear();
    this.database.close();
  }
}

/** The SQLite dialect with write transactions that start with `BEGIN IMMEDIATE`. */
export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SqliteDatabase;

  constructor(database: BetterSqlite3.Database) {
    const cache = new StatementCache(database);
    super({ database: cache });
    this.#database = cache;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/**
 * SQLite's schema changes are transactional, which Kysely's adapter does not claim: claimed,
 * the migrations of an upgrade run in one transaction, and one that fails leaves the
 * database as it was instead of half-migrated (as PostgreSQL does).
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}
