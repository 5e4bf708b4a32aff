/**
 * Reading merged `Fields` back into typed values. A missing field reads as empty (fields from an
 * older version may lack one); a field of the wrong shape is an error, not silently dropped.
 */
import { LiaisonError } from '../domain/errors.js';
import type { FieldValue } from '../domain/fields.js';

/** A JSON object inside fields. */
export type FieldRecord = { readonly [key: string]: FieldValue };

function wrongShape(path: string, expected: string, got: FieldValue | undefined): LiaisonError {
  return new LiaisonError('InvalidData', `field ${path} should be ${expected}, not ${JSON.stringify(got)}`);
}

/** A string field; missing or null reads as ''. */
export function readString(record: FieldRecord, key: string, path = key): string {
  const v = record[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw wrongShape(path, 'a string', v);
  return v;
}

/** A boolean field; missing or null reads as false. */
export function readBoolean(record: FieldRecord, key: string, path = key): boolean {
  const v = record[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw wrongShape(path, 'true or false', v);
  return v;
}

/** A list field; missing or null reads as []. */
export function readList(record: FieldRecord, key: string, path = key): readonly FieldValue[] {
  const v = record[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw wrongShape(path, 'a list', v);
  return v as readonly FieldValue[];
}

/** A list of strings; missing reads as []. */
export function readStrings(record: FieldRecord, key: string, path = key): string[] {
  return readList(record, key, path).map((v, i) => {
    if (typeof v !== 'string') throw wrongShape(`${path}[${i}]`, 'a string', v);
    return v;
  });
}

/** An object value (in a list or a field). */
export function asRecord(v: FieldValue | undefined, path: string): FieldRecord {
  if (v === null || v === undefined || typeof v !== 'object' || Array.isArray(v))
    throw wrongShape(path, 'an object', v);
  return v as FieldRecord;
}

/** An object field; missing or null reads as undefined. */
export function readRecord(record: FieldRecord, key: string, path = key): FieldRecord | undefined {
  const v = record[key];
  return v === undefined || v === null ? undefined : asRecord(v, path);
}

/** Sorted, de-duplicated, without empty strings. */
export function sortedSet(values: Iterable<string>): string[] {
  return [...new Set(values)].filter((v) => v !== '').sort();
}
