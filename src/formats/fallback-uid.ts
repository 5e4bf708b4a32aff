import { createHash } from 'node:crypto';
import type { Uid } from '../domain/ids.js';

/**
 * The UID given to a mailbox item that has none (RFC 6350 §6.7.6 and RFC 5545 §3.8.4.7
 * require one): derived from where the item lives, so every read gives the same, and
 * shaped like a UUID, so that it shows nothing of the server's paths once written into
 * the item and carried elsewhere.
 */
export function fallbackUid(href: string): Uid {
  const h = createHash('sha256').update(href).digest('hex');
  return `liaison-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}` as Uid;
}
