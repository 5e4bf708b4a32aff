/** Driver error codes for constraint violations, on SQLite (better-sqlite3) and PostgreSQL (pg). */
function code(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : '';
}

/** A UNIQUE or PRIMARY KEY constraint refused a write. */
export function isUniqueViolation(e: unknown): boolean {
  const c = code(e);
  return c === '23505' || c === 'SQLITE_CONSTRAINT_UNIQUE' || c === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** A FOREIGN KEY constraint refused a write. */
export function isForeignKeyViolation(e: unknown): boolean {
  const c = code(e);
  return c === '23503' || c === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Node socket codes, and PostgreSQL's connection and shutdown classes (08, 57P0x). */
const LOST = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  '57P01',
  '57P02',
  '57P03',
]);

/**
 * Whether `e` says the database server went away or cannot be reached (as opposed to a
 * refused statement): a PostgreSQL stopped in the middle of a run.
 */
export function isConnectionLost(e: unknown): boolean {
  const c = code(e);
  if (LOST.has(c) || c.startsWith('08')) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection (?:is )?closed|Client has encountered a connection error/i.test(
    message,
  );
}
