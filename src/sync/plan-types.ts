import type { Fields } from '../domain/fields.js';
import type { CollectionKind, Etag, FirmItemId, Href, Uid } from '../domain/ids.js';
import type { FieldConflict, Side } from './merge.js';

/** One item of the firm side, with its normalized content. */
export interface FirmView<T> {
  readonly id: FirmItemId;
  readonly item: T;
  readonly revision: string;
  readonly fields: Fields;
  readonly hash: string;
}

/**
 * One item of the mailbox side. `content` is absent when the item was not read because
 * its etag matches the status (unchanged), and `quarantine` is set when it could not be parsed.
 */
export interface MailboxView<T> {
  readonly href: Href;
  readonly etag: Etag;
  readonly content?: { readonly item: T; readonly fields: Fields; readonly hash: string };
  readonly quarantine?: string;
  /**
   * Set when the server would not hand the item over (not when it did not parse): the
   * change it may hold is still to come, so the change list is not moved past it.
   */
  readonly notRead?: true;
}

export type ConflictPolicy = 'merge' | 'firm-wins' | 'mailbox-wins';
export type PrivateRule = 'sync' | 'keep';

export interface PlanOptions {
  readonly policy: ConflictPolicy;
  /** Who wins a field changed on both sides under `merge` (default firm). */
  readonly winner: Side;
  readonly privateItems: PrivateRule;
  /** Calendar window in epoch ms: items outside are not created on the other side. */
  readonly window: { readonly start: number; readonly end: number } | null;
  /** Recovery (SPEC §5): ignore the status, match both sides, delete nothing, merge. */
  readonly recovery: boolean;
}

/**
 * One operation of a plan. Conflicts, holds and skips are values here, never exceptions.
 * Items are carried as normalized fields so a plan can be stored (held) as JSON.
 */
export type Op =
  /** Firm item with no counterpart: create it in the mailbox. `replaces` is a stale status to drop. */
  | {
      readonly type: 'create-in-mailbox';
      readonly firmId: FirmItemId;
      readonly uid: Uid;
      readonly fields: Fields;
      readonly firmHash: string;
      readonly firmRevision: string;
      readonly replaces: Href | null;
    }
  /** Mailbox item with no counterpart: create it in the firm database. */
  | {
      readonly type: 'create-in-firm';
      readonly href: Href;
      readonly etag: Etag;
      readonly uid: Uid;
      readonly fields: Fields;
      /** The content hash of `fields`, when the planner has it (saves hashing every item twice). */
      readonly hash?: string;
      readonly replaces: FirmItemId | null;
    }
  /**
   * A pair to bring level: write `result` to the side(s) marked, or only record the status
   * (`toFirm` and `toMailbox` both false: equal content, refreshed etag, first-sync match).
   */
  | {
      readonly type: 'update';
      readonly firmId: FirmItemId;
      readonly href: Href;
      readonly etag: Etag;
      /** The pair's UID on both sides; a first-sync match adopts the mailbox's. */
      readonly uid: Uid;
      /** Firm content hash and revision when planned. */
      readonly firmHash: string;
      readonly firmRevision: string;
      readonly mailboxHash: string;
      readonly previous: { readonly firm: Fields; readonly mailbox: Fields };
      readonly result: Fields;
      readonly toFirm: boolean;
      readonly toMailbox: boolean;
      readonly conflicts: readonly FieldConflict[];
      /** Why: a one-line reason for reports and the journal. */
      readonly reason: UpdateReason;
    }
  /** Deleted in the firm database, unchanged in the mailbox: delete it there. */
  | {
      readonly type: 'delete-in-mailbox';
      readonly firmId: FirmItemId;
      readonly href: Href;
      readonly etag: Etag;
      /** null when the mailbox item was not read (unchanged since the last sync). */
      readonly uid: Uid | null;
      readonly fields: Fields;
    }
  /** Deleted in the mailbox, unchanged in the firm database: delete it there. */
  | {
      readonly type: 'delete-in-firm';
      readonly firmId: FirmItemId;
      readonly href: Href;
      readonly uid: Uid;
      readonly fields: Fields;
      readonly firmHash: string;
      readonly firmRevision: string;
    }
  /** Gone on both sides: drop the status. */
  | { readonly type: 'forget'; readonly firmId: FirmItemId; readonly href: Href };

export type UpdateReason =
  | 'firm-changed'
  | 'mailbox-changed'
  | 'both-changed'
  | 'same-change'
  | 'etag-refresh'
  | 'matched'
  | 'recovered';

/** A mailbox item that could not be read; its pair, if any, is left alone. */
export interface Quarantined {
  readonly href: Href;
  readonly reason: string;
}

export interface Plan {
  readonly kind: CollectionKind;
  readonly ops: readonly Op[];
  readonly quarantined: readonly Quarantined[];
  /** Items not created because they are private (rule `keep`) or outside the calendar window. */
  readonly leftAlone: number;
}
