import { createHash } from 'node:crypto';
import { canonicalJson, type Fields } from '../domain/fields.js';

/**
 * Content hash of normalized fields: SHA-256 (hex) of their canonical JSON, so equal content
 * gives an equal hash whatever the key order.
 */
export function contentHash(fields: Fields): string {
  return createHash('sha256').update(canonicalJson(fields)).digest('hex');
}
