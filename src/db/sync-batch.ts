import { LiaisonError } from '../domain/errors.js';
import type { FirmItemId, Uid } from '../domain/ids.js';
import type { ItemCommit, JournalEntry, StatusEntry } from '../sync/ports.js';
import { newId } from './new-id.js';

/**
 * A commit batch reduced to its net effect, so that it can be written with a few
 * multi-row statements instead of several statements per item. The end state equals
 * applying the commits one after the other: the last write to a firm id or a status
 * row wins, and an update after a delete of the same item is refused as it would be
 * one at a time.
 */
export interface NetBatch<T> {
  /** Per commit, the firm id it concerns ('' when none: a journal-only commit). */
  readonly ids: FirmItemId[];
  readonly creates: { readonly id: FirmItemId; readonly item: T }[];
  readonly updates: Map<FirmItemId, T>;
  readonly deletes: Set<FirmItemId>;
  /** Per firm id, the status row to keep, or null to remove it. */
  readonly status: Map<FirmItemId, StatusEntry | null>;
  /** Journal entries with the new id filled in where a create's entry had none. */
  readonly journal: JournalEntry[];
}

/** Reduces a batch; throws `NotFound` for an update of an item the batch deleted, `Usage` for a status put without a firm id. */
export function netBatch<T extends { readonly uid: Uid }>(batch: readonly ItemCommit<T>[]): NetBatch<T> {
  const net: NetBatch<T> = {
    ids: [],
    creates: [],
    updates: new Map(),
    deletes: new Set(),
    status: new Map(),
    journal: [],
  };
  for (const commit of batch) {
    let created: FirmItemId | null = null;
    let concerned: FirmItemId | null = null;
    const firm = commit.firm;
    if (firm?.op === 'create') {
      created = newId() as FirmItemId;
      concerned = created;
      net.creates.push({ id: created, item: firm.item });
    } else if (firm?.op === 'update') {
      if (net.deletes.has(firm.id)) {
        throw new LiaisonError('NotFound', `Item ${firm.id} is updated after this batch deleted it`);
      }
      concerned = firm.id;
      net.updates.set(firm.id, firm.item);
    } else if (firm?.op === 'delete') {
      concerned = firm.id;
      net.updates.delete(firm.id);
      net.deletes.add(firm.id);
    }
    const status = commit.status;
    if (status?.op === 'put') {
      const firmId = status.entry.firmId ?? created;
      if (firmId === null) {
        throw new LiaisonError('Usage', `A status put for ${status.entry.href} names no firm item`);
      }
      concerned ??= firmId;
      net.status.set(firmId, { ...status.entry, firmId });
    } else if (status?.op === 'remove') {
      concerned ??= status.firmId;
      net.status.set(status.firmId, null);
    }
    concerned ??= commit.journal.find((j) => j.firmId !== null)?.firmId ?? null;
    net.ids.push(concerned ?? ('' as FirmItemId));
    for (const entry of commit.journal) {
      net.journal.push(entry.firmId === null && created !== null ? { ...entry, firmId: created } : entry);
    }
  }
  return net;
}
