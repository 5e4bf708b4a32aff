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
