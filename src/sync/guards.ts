import type { Plan } from './plan-types.js';

/** Mass-change thresholds (SPEC §6); configurable per process. */
export interface GuardOptions {
  /** Hold when more than this many items would be deleted (default 10). */
  readonly maxDeletions: number;
  /** Hold when more than this share of existing items would be modified or deleted… (default 0.25) */
  readonly maxChangeRatio: number;
  /** …and that is more than this many items (default 10). */
  readonly minChangesForRatio: number;
}

export const DEFAULT_GUARDS: GuardOptions = {
  maxDeletions: 10,
  maxChangeRatio: 0.25,
  minChangesForRatio: 10,
};

export interface GuardCounts {
  readonly deletions: number;
  readonly modifications: number;
  readonly existing: number;
}

/**
 * What a plan would do to existing (already synced) items. Creations never count, nor do
 * first-sync matches: those pair new items, they do not change synced ones. `pending`
 * counts pairs still to be planned as modifications, the most they can be.
 */
export function countChanges(plan: Plan, existing: number, pending = 0): GuardCounts {
  let deletions = 0;
  let modifications = pending;
  for (const op of plan.ops) {
    if (op.type === 'delete-in-firm' || op.type === 'delete-in-mailbox') deletions++;
    else if (
      op.type === 'update' &&
      (op.toFirm || op.toMailbox) &&
      op.reason !== 'matched' &&
      op.reason !== 'recovered'
    ) {
      modifications++;
    }
  }
  return { deletions, modifications, existing };
}

/**
 * The reason to hold a plan, or null to apply it; with `pending`, the reason the plan and
 * that many more modifications could give. `firmEmpty` / `mailboxEmpty` say a side
 * lists nothing at all: a side that is suddenly empty while the status says it held items
 * is never mirrored as mass deletion, whatever the thresholds.
 */
export function holdReason(
  plan: Plan,
  existing: number,
  sides: { readonly firmEmpty: boolean; readonly mailboxEmpty: boolean },
  guards: GuardOptions,
  pending = 0,
): string | null {
  const c = countChanges(plan, existing, pending);
  // One item deleted from a one-item collection is an ordinary edit, not a vanished side.
  if (c.deletions > 0 && existing > 1) {
    if (sides.mailboxEmpty && plan.ops.some((o) => o.type === 'delete-in-firm')) {
      return `the mailbox collection is empty but ${existing} items were synced before: deleting them all in the firm database needs approval`;
    }
    if (sides.firmEmpty && plan.ops.some((o) => o.type === 'delete-in-mailbox')) {
      return `the firm collection is empty but ${existing} items were synced before: deleting them all in the mailbox needs approval`;
    }
  }
  if (c.deletions > guards.maxDeletions) {
    return `${c.deletions} deletions exceed the limit of ${guards.maxDeletions}`;
  }
  const touched = c.deletions + c.modifications;
  if (touched > guards.minChangesForRatio && touched > guards.maxChangeRatio * existing) {
    const pct = Math.round(guards.maxChangeRatio * 100);
    return `${touched} of ${existing} existing items would be modified or deleted (more than ${pct}%)`;
  }
  return null;
}

/**
 * The reason to hold a plan made after the mailbox refused the last sync token, or null.
 * A server forgets tokens when a collection is restored from a backup or made anew, and a
 * restored address book lacks what was synced since the backup: its full listing would
 * read as the user having deleted those items. The sync marker cannot tell when it lives
 * in another collection that was not restored, so deletions in the firm database found this
 * way wait for approval, however few.
 */
export function forgottenTokenReason(plan: Plan): string | null {
  const deletions = plan.ops.filter((o) => o.type === 'delete-in-firm').length;
  if (deletions === 0) return null;
  return `the mailbox no longer knew the last sync token (was the collection restored or made anew?) and ${deletions} item${deletions === 1 ? '' : 's'} synced before ${deletions === 1 ? 'is' : 'are'} missing from it: deleting ${deletions === 1 ? 'it' : 'them'} in the firm database needs approval`;
}
