import type { CollectionKind } from '../domain/ids.js';
import type { MarkerNote } from '../mailbox/port.js';
import type { CollectionState } from './ports.js';

export type MarkerVerdict =
  | { readonly ok: true; readonly promote: boolean }
  | { readonly ok: false; readonly reason: string };

/**
 * Compares the mailbox's sync marker with the firm database (SPEC §5). The database
 * records the time it is about to write (`pendingSync`) before writing the note, so a
 * crash between the two leaves a note that matches the pending time: that is accepted
 * and promoted, never a lock-out.
 */
export function checkMarker(
  kind: CollectionKind,
  state: CollectionState,
  note: MarkerNote | null,
): MarkerVerdict {
  const inNote = note?.collections[kind] ?? null;
  if (inNote !== null && inNote === state.lastSync) return { ok: true, promote: false };
  if (inNote !== null && inNote === state.pendingSync) return { ok: true, promote: true };
  if (state.lastSync === null) {
    if (inNote === null) return { ok: true, promote: false };
    return {
      ok: false,
      reason: `the mailbox's sync marker says the ${kind} collection was last synced at ${inNote}, but the firm database has no sync on record (was the database restored?)`,
    };
  }
  if (inNote === null) {
    return {
      ok: false,
      reason: `the mailbox's sync marker for ${kind} is missing, but the firm database last synced it at ${state.lastSync} (was the mailbox restored or the marker deleted?)`,
    };
  }
  return {
    ok: false,
    reason: `the mailbox's sync marker says the ${kind} collection was last synced at ${inNote}, the firm database says ${state.lastSync}: one side was probably restored from a backup`,
  };
}

/** The note with `kind`'s time set, other collections kept. */
export function withMarkerTime(note: MarkerNote | null, kind: CollectionKind, time: string): MarkerNote {
  return { collections: { ...(note?.collections ?? {}), [kind]: time } };
}
