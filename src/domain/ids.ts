/**
 * Branded identifiers. A href, a UID and a database id are all strings on the wire;
 * the brands keep them from being passed for one another.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Location of an item inside a mailbox collection (a DAV href, a vdir file name). */
export type Href = Brand<string, 'Href'>;
/** iCalendar / vCard UID. */
export type Uid = Brand<string, 'Uid'>;
/** Opaque version tag of a mailbox item. */
export type Etag = Brand<string, 'Etag'>;
/** Opaque change-list token of a mailbox collection (RFC 6578 sync-token or similar). */
export type SyncToken = Brand<string, 'SyncToken'>;
/** Database id of a user contact or user appointment in the firm database. */
export type FirmItemId = Brand<string, 'FirmItemId'>;
/** Database id of a user. */
export type UserId = Brand<string, 'UserId'>;
/** Database id of a firm contact (the firm's master record of a person). */
export type FirmContactId = Brand<string, 'FirmContactId'>;

export const asHref = (s: string) => s as Href;
export const asUid = (s: string) => s as Uid;
export const asEtag = (s: string) => s as Etag;
export const asSyncToken = (s: string) => s as SyncToken;
export const asFirmItemId = (s: string) => s as FirmItemId;
export const asUserId = (s: string) => s as UserId;
export const asFirmContactId = (s: string) => s as FirmContactId;

/** The two kinds of collection Liaison syncs. */
export type CollectionKind = 'contacts' | 'calendar';
export const COLLECTION_KINDS: readonly CollectionKind[] = ['contacts', 'calendar'];
