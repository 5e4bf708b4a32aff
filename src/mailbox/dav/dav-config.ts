/** How Liaison reaches one CardDAV/CalDAV server. Built by the composition root from the stored server record. */
export interface DavServerConfig {
  /** The server's name in Liaison (for messages; never a credential). */
  readonly name: string;
  /** Where discovery starts: the server's base URL (RFC 6764 well-known URLs are tried under it). */
  readonly url: string;
  readonly auth: DavAuth;
  /**
   * The login of the user whose own credentials `auth` is, or absent for the server's
   * service account: a refused login then names whose to fix.
   */
  readonly authOf?: string;
  readonly tls: { readonly skipVerify: boolean };
  /** Connections open at once to this server (default 6). */
  readonly maxConnections: number;
  /** Per-request timeout in ms (default 30 000). */
  readonly timeoutMs: number;
  /** Retries of an idempotent request after a transient failure (default 3). */
  readonly retries: number;
  /** Hrefs per addressbook-multiget / calendar-multiget (default 100). */
  readonly multigetBatch: number;
  /**
   * The address book to sync in each mailbox, by last path segment or display name (case
   * ignored); absent: the user's default one. `ensureMailbox` creates it under this name.
   */
  readonly addressbook?: string;
  /** The calendar to sync in each mailbox, as for {@link addressbook}. */
  readonly calendar?: string;
}

export type DavAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

export const DAV_DEFAULTS = { maxConnections: 6, timeoutMs: 30_000, retries: 3, multigetBatch: 100 } as const;

/** Where the marker lives on a server, chosen from what the server supports (SPEC §5). */
export type MarkerPlacement = 'collection' | 'property' | 'item';

/** What `liaison server test` reports. */
export interface ServerCapabilities {
  readonly server: string;
  /** The account whose mailbox was examined (the service account's own when none was named). */
  readonly account: string | null;
  readonly principal: string | null;
  readonly addressbook: string | null;
  readonly calendar: string | null;
  // Asked of the synced collections: null when the mailbox has none to ask.
  readonly syncCollection: boolean | null;
  readonly ctag: boolean | null;
  readonly multiget: boolean | null;
  readonly deadProperties: boolean | null;
  /** Asked by making a calendar in the calendar home: null when there is none. */
  readonly vjournal: boolean | null;
  readonly autoSchedule: boolean;
  /** Where the sync marker goes; null when neither the calendar home nor a collection could tell. */
  readonly markerPlacement: MarkerPlacement | null;
}
