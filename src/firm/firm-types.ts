/**
 * Plain values of firm sync: firm contacts, links of user contacts, reviews and journal lines,
 * as the planners take and make them and as the ports carry them. No I/O here.
 */
import type { Contact } from '../domain/contact.js';
import type { Fields } from '../domain/fields.js';
import type { FirmContactId, FirmItemId, UserId } from '../domain/ids.js';
import type { FirmMatchKeys } from './match-keys.js';
import type { FirmPreferences } from './preferences.js';

/** Who last set a field of a firm contact: the user (login) and run, or an administrator (user null). */
export interface FieldSource {
  readonly user: string | null;
  readonly run: string | null;
  readonly at: string;
}

/** Per firm field, who set it last. */
export type Provenance = { readonly [field: string]: FieldSource };

/** A firm contact: the firm's master record of a person. */
export interface FirmContact {
  readonly id: FirmContactId;
  /** Normalized firm fields (see `firm-fields.ts`). */
  readonly fields: Fields;
  readonly provenance: Provenance;
  /** Global change sequence value of its last write: the down step follows it. */
  readonly seq: number;
  /** Created while several firm contacts matched: maybe the same person as `candidates`. */
  readonly possibleDuplicate: boolean;
  readonly candidates: readonly FirmContactId[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A user as firm sync sees it. */
export interface FirmUser {
  readonly id: UserId;
  readonly login: string;
  readonly group: string | null;
  readonly preferences: FirmPreferences;
}

/** A user contact with its link to a firm contact. */
export interface UserContactLink {
  readonly id: FirmItemId;
  readonly user: UserId;
  readonly contact: Contact;
  /** Global change sequence value of its last write. */
  readonly changeSeq: number;
  readonly firmContactId: FirmContactId | null;
  /**
   * The user contact's firm fields as last exchanged with its firm contact: the base of the
   * three-way comparison in both steps. Null when not connected.
   */
  readonly base: Fields | null;
  /**
   * Disconnected because an administrator deleted (or undid) its firm contact: kept out of the
   * firm list, so that the next edit does not bring the deleted person back.
   */
  readonly detached: boolean;
}

/** A connected user contact and its firm contact, as the down step reads them. */
export interface DownRow {
  readonly userContact: UserContactLink;
  readonly firm: FirmContact;
}

/** A held update of a user contact, or a held new contact (preference `ask`). */
export type ReviewKind = 'update' | 'new-contact';
/** `superseded`: a newer proposal for the same user contact replaced it. */
export type ReviewState = 'held' | 'approved' | 'rejected' | 'superseded';

/** A held update or a held new contact, waiting for the user's (or administrator's) decision. */
export interface FirmReview {
  readonly id: string;
  readonly user: UserId;
  readonly login: string;
  readonly kind: ReviewKind;
  readonly userContactId: FirmItemId;
  readonly firmContactId: FirmContactId | null;
  /** For `update`: the firm contact's seq proposed; never proposed again for that seq. */
  readonly firmSeq: number | null;
  /** For `update`: the changed fields' firm values; for `new-contact`: the contact's firm fields. */
  readonly proposed: Fields;
  /** For `update`: the user's values of those fields when proposed; `{}` otherwise. */
  readonly current: Fields;
  readonly state: ReviewState;
  readonly createdAt: string;
  readonly resolvedAt: string | null;
}

/** A review to store; the store gives it id, state and time. */
export type NewReview = Omit<FirmReview, 'id' | 'login' | 'state' | 'createdAt' | 'resolvedAt'>;

/** Firm sync's journal actions; each names what it changed (see `journal-service.ts`). */
export type FirmJournalAction =
  | 'firm-create'
  | 'firm-update'
  | 'firm-delete'
  | 'connect'
  | 'disconnect'
  | 'contact-update';

/** Every firm sync journal action: the ones `undoJournal` accepts. */
export const FIRM_JOURNAL_ACTIONS: readonly FirmJournalAction[] = [
  'firm-create',
  'firm-update',
  'firm-delete',
  'connect',
  'disconnect',
  'contact-update',
];

/**
 * Why a user contact was connected to a firm contact, or disconnected from one (journal
 * `connect` and `disconnect` lines), so that the journal tells a match from a creation.
 */
export type LinkReason =
  /** connect: a shared e-mail address matched exactly one firm contact. */
  | 'email'
  /** connect: the same full name and organization matched exactly one firm contact. */
  | 'name-organization'
  /** connect: nothing matched; a firm contact was created from the user contact. */
  | 'created'
  /** connect: several firm contacts matched (or a namesake): created and flagged as a possible duplicate. */
  | 'possible-duplicate'
  /** connect: the link had no base yet (written by an older version); taken as a new connection. */
  | 'relinked'
  /** connect: its firm contact was merged into another (`firm merge`). */
  | 'merge'
  /** connect or disconnect: an administrator's `journal undo` (or an undone deletion). */
  | 'undo'
  /** disconnect: the user contact became private. */
  | 'private'
  /** disconnect: its firm contact was deleted (`firm delete`, or the undo of its creation). */
  | 'firm-delete';

/** A journal line of firm sync, before the store adds id, time, actor and run. */
export interface FirmJournalLine {
  readonly action: FirmJournalAction;
  /** up: user contact → firm contact; down: firm contact → user contact; none: administration. */
  readonly direction: 'up' | 'down' | 'none';
  readonly user: UserId | null;
  readonly userContactId: FirmItemId | null;
  readonly firmContactId: FirmContactId | null;
  readonly uid: string | null;
  readonly before: Fields | null;
  readonly after: Fields | null;
  readonly note: string;
  /** On connect and disconnect lines: why. */
  readonly reason?: LinkReason;
}

/** A journal line as stored: firm sync's lines and every other writer's (mailbox sync, CRM edits). */
export interface JournalLine {
  readonly id: string;
  readonly at: string;
  readonly runId: string | null;
  readonly actor: string;
  readonly user: UserId | null;
  /** The user contact (or appointment) concerned. */
  readonly userContactId: FirmItemId | null;
  readonly firmContactId: FirmContactId | null;
  /** A firm sync action, or a mailbox sync / CRM action (`create`, `update`, `delete`, …). */
  readonly action: string;
  readonly direction: string;
  readonly before: Fields | null;
  readonly after: Fields | null;
  readonly note: string;
  /** Why a user contact was connected or disconnected (a `LinkReason`); null on every other line. */
  readonly reason: string | null;
}

/** A firm contact to create or rewrite, with its match keys for the lookup tables. */
export interface FirmContactWrite {
  readonly op: 'create' | 'update';
  readonly id: FirmContactId;
  readonly fields: Fields;
  readonly provenance: Provenance;
  readonly keys: FirmMatchKeys;
  readonly possibleDuplicate: boolean;
  readonly candidates: readonly FirmContactId[];
  /** True when an update leaves the e-mail addresses as they were: their lookup rows stay. */
  readonly emailsUnchanged?: boolean;
  /**
   * True when an update leaves every match key as it was (addresses, names, organization): the
   * indexed key columns are not rewritten, which saves a write of each of their indexes.
   */
  readonly keysUnchanged?: boolean;
}

/** The new link state of a user contact. */
export interface LinkWrite {
  readonly userContactId: FirmItemId;
  readonly firmContactId: FirmContactId | null;
  readonly base: Fields | null;
  readonly detached: boolean;
}

/**
 * A new base for a connected user contact whose values did not change: written only while the
 * contact is still connected to `firmContactId` (an administrator may have merged it away since).
 */
export interface BaseWrite {
  readonly userContactId: FirmItemId;
  readonly firmContactId: FirmContactId;
  readonly base: Fields;
}

/**
 * A user contact rewritten by firm sync (down step, approved review, undo): written like a
 * CRM edit (new change sequence value, collection change counter bumped) so that the next
 * mailbox sync carries it out. Written only if it is still as read — same `expectedSeq`, same
 * `firmContactId` — else the store fails with `PreconditionFailed` and nothing is kept. Only
 * firm fields change: the UID and the private flag stay as read.
 */
export interface UserContactWrite {
  readonly id: FirmItemId;
  readonly user: UserId;
  /** The contact as read (`expectedSeq`): its match columns are rewritten only when they change. */
  readonly read: Contact;
  readonly contact: Contact;
  /** The new base; null for a contact that is not connected. */
  readonly base: Fields | null;
  readonly expectedSeq: number;
  readonly firmContactId: FirmContactId | null;
}

/** Consecutive change sequence values taken by one write: first … last. */
export interface SeqRange {
  readonly first: number;
  readonly last: number;
}

/** Which step a cursor follows. */
export type FirmStep = 'up' | 'down';

/** How far a user has been taken: change sequence values. */
export interface FirmCursor {
  /** Highest user contact change_seq taken up. */
  readonly up: number;
  /** Highest firm contact seq brought down. */
  readonly down: number;
}
