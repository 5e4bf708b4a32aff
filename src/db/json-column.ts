import { LiaisonError } from '../domain/errors.js';

/** Text for a JSON column. */
export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

/** Reads a JSON column; a damaged value is a `Database` error naming the column. */
export function fromJson<T>(text: string, column: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new LiaisonError('Database', `Column ${column} holds invalid JSON`, { cause: e });
  }
}

/** Reads a nullable JSON column. */
export function fromJsonOrNull<T>(text: string | null, column: string): T | null {
  return text === null ? null : fromJson<T>(text, column);
}
