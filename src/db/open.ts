import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { errorMessage, LiaisonError } from '../domain/errors.js';
import { migrateToLatest } from './migrations.js';
import type { Tables } from './schema.js';
import { ImmediateSqliteDialect } from './sqlite-dialect.js';

export type DialectName = 'sqlite' | 'postgres';

/** An open firm database: the typed query builder and its lifecycle. */
export interface Database {
  readonly db: Kysely<Tables>;
  readonly dialect: DialectName;
  /** Applies every pending migration; a no-op when the schema is current. */
  migrate(): Promise<void>;
  /** Closes the file or the connection pool. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Most PostgreSQL connections this process opens (default 10). */
  readonly poolSize?: number;
  /** How long to wait for PostgreSQL to accept a connection (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** How long SQLite waits for another process's write lock (default 10 s). */
  readonly busyTimeoutMs?: number;
}

/**
 * Opens the firm database named by `url`: `postgres://` or `postgresql://` opens a bounded
 * PostgreSQL pool and checks that the server answers; anything else is a SQLite file
 * (`sqlite:path`, `file:` URL, a plain path, or `:memory:`), opened in WAL mode with
 * foreign keys on. Does not migrate: call `migrate()`.
 *
 * Throws `LiaisonError` of kind `Config` when the database cannot be opened; the message
 * names the URL with any password replaced by `***`.
 */
export async function openDatabase(url: string, options: OpenOptions = {}): Promise<Database> {
  try {
    return /^postgres(ql)?:\/\//i.test(url) ? await openPostgres(url, options) : openSqlite(url, options);
  } catch (e) {
    if (e instanceof LiaisonError) throw e;
    throw new LiaisonError(
      'Config',
      `Cannot open the firm database ${redactUrl(url)}: ${redactSecrets(errorMessage(e), url)}`,
      { cause: e },
    );
  }
}

function wrap(db: Kysely<Tables>, dialect: DialectName): Database {
  return {
    db,
    dialect,
    migrate: () => migrateToLatest(db),
    close: () => db.destroy(),
  };
}

async function openPostgres(url: string, options: OpenOptions): Promise<Database> {
  // Loaded only here: an installation on the embedded SQLite default never pays for it.
  const { default: pgModule } = await import('pg');
  const typeParser = typeParserOf(pgModule);
  const pool = new pgModule.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    types: { getTypeParser: typeParser },
  });
  // An idle connection dropped by the server emits 'error' on the pool; without a
  // listener that would end the process. The next query reports the problem instead.
  pool.on('error', () => {});
  try {
    // The pool connects lazily: ask once so that a wrong URL fails here, not mid-run.
    await pool.query('select 1');
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  return wrap(new Kysely<Tables>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
}

/**
 * `bigint` columns (counters, sequences, epoch milliseconds) come back from pg as strings;
 * read them as numbers so that both dialects return the same rows. Values past 2^53 would
 * lose precision, so they fail loudly instead.
 */
function typeParserOf(driver: typeof pg): typeof pg.types.getTypeParser {
  return ((oid: number, format?: 'text' | 'binary') => {
    if (oid === driver.types.builtins.INT8 && format !== 'binary') return parseInt8;
    return driver.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser;
}

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new LiaisonError('Database', `Integer ${text} is beyond 2^53`);
  return n;
}

function openSqlite(url: string, options: OpenOptions): Database {
  const path = sqlitePath(url);
  const busyTimeout = options.busyTimeoutMs ?? 10_000;
  const sqlite = new SqliteDatabase(path, { timeout: busyTimeout });
  try {
    // WAL lets readers (the admin page, the CLI) work while a sync writes.
    sqlite.pragma('journal_mode = WAL');
    // NORMAL is durable across application crashes in WAL mode; only a power loss may
    // lose the last transactions, never corrupt the file.
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeout))}`);
    // SQLite leaves foreign keys off unless each connection asks.
    sqlite.pragma('foreign_keys = ON');
  } catch (e) {
    sqlite.close();
    throw e;
  }
  return wrap(new Kysely<Tables>({ dialect: new ImmediateSqliteDialect(sqlite) }), 'sqlite');
}

function sqlitePath(url: string): string {
  let path = url;
  if (/^sqlite:/i.test(url)) {
    path = url.slice('sqlite:'.length);
    if (path.startsWith('//')) path = path.slice(2);
  } else if (/^file:/i.test(url)) {
    path = fileURLToPath(url);
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new LiaisonError(
      'Config',
      `Unsupported firm database URL ${redactUrl(url)}: use postgres://… or a SQLite file path`,
    );
  }
  if (path.trim() === '') throw new LiaisonError('Config', 'The firm database URL is empty');
  return path;
}

/** The URL with its password (in the user-info part or a `password=` parameter) shown as `***`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString().replaceAll('%2A%2A%2A', '***');
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@').replace(/(pass[a-z]*=)[^&]*/gi, '$1***');
  }
}

/** Removes the URL's password from a driver message, in case the driver quoted it. */
function redactSecrets(message: string, url: string): string {
  const secrets: string[] = [];
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') secrets.push(parsed.password, decodeURIComponent(parsed.password));
    for (const [key, value] of parsed.searchParams)
      if (/pass/i.test(key) && value !== '') secrets.push(value);
  } catch {
    // Not a URL: a SQLite path carries no secret.
  }
  return secrets.reduce((text, secret) => text.replaceAll(secret, '***'), message);
}
