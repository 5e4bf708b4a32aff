import type { Fields } from './fields.js';
import type { CollectionKind, Uid } from './ids.js';

/** The time an item occupies, for the calendar window; epoch milliseconds, `end` null when unbounded. */
export interface TimeSpan {
  readonly start: number;
  readonly end: number | null;
}

/**
 * Everything the sync core needs to know about one kind of item, with no I/O:
 * how to read and write its text, its mergeable fields, its content hash and its
 * first-sync match keys. Implemented in `formats/` for contacts and appointments.
 */
export interface ItemCodec<T extends { readonly uid: Uid }> {
  readonly kind: CollectionKind;
  /**
   * Parses a mailbox item. `fallbackUid` is used when the text has no UID.
   * Throws `LiaisonError` of kind `InvalidData` with a reason when the text cannot be read.
   */
  parse(text: string, fallbackUid: Uid): T;
  /** Serializes for the mailbox (vCard 3.0 for contacts; iCalendar 2.0 for events). */
  serialize(item: T): string;
  /** The normalized, mergeable content: no uid, nothing a server rewrites on its own. */
  fields(item: T): Fields;
  /** Rebuilds an item from merged fields. */
  fromFields(uid: Uid, fields: Fields): T;
  /**
   * Where set, an update of a mailbox item first reads the stored copy, and this puts what
   * the fields leave out but the mailbox needs kept (an event's SEQUENCE) into the text
   * that replaces it.
   */
  keepFromStored?(written: string, stored: string): string;
  /**
   * Where set, a change on one side that renames what the other side's fields refer to
   * (an appointment moved in time renames its occurrences) is applied to the base and the
   * other side before the three-way merge.
   */
  alignForMerge?(
    base: Fields,
    firm: Fields,
    mailbox: Fields,
    winner: 'firm' | 'mailbox',
  ): { base: Fields; firm: Fields; mailbox: Fields };
  /** Content hash of normalized fields; equal content gives an equal hash. */
  hash(fields: Fields): string;
  /** Private items (vCard CLASS:PRIVATE, VEVENT CLASS:PRIVATE/CONFIDENTIAL, the firm's private flag). */
  isPrivate(item: T): boolean;
  /**
   * First-sync match keys, strongest tier first: for contacts [uid], [normalized e-mails],
   * [name + organization]; for events [uid], [summary + start]. An empty tier is skipped.
   */
  matchKeys(item: T): readonly (readonly string[])[];
  /** The time the item occupies (calendar only; contacts return null). */
  span(item: T): TimeSpan | null;
}
