/**
 * Row types of the firm database, as Kysely sees them. The same columns exist on SQLite
 * and PostgreSQL, so only portable types appear here: text, integers, booleans stored as
 * 0/1 integers (better-sqlite3 cannot bind a boolean), JSON stored as text, times as ISO
 * 8601 UTC text (sortable as text) or epoch milliseconds where arithmetic is needed.
 */
import type { Generated } from 'kysely';

/** 0 or 1: booleans are stored as integers on both dialects. */
export type Flag = number;

export interface MailboxServerTable {
  id: string;
  name: string;
  kind: string;
  url: string;
  /** JSON object. */
  options: string;
  /** Encrypted credential; null until a secret is set. */
  secret: string | null;
  created_at: string;
  updated_at: string;
}

export interface UserTable {
  id: string;
  login: string;
  display_name: string;
  server_id: string;
  mailbox_account: string;
  /**
   * The server group of the user's contact list. A user has exactly one contact list,
   * so the list's only own attribute lives on the user row.
   */
  server_group: string;
  contacts_enabled: Flag;
  calendar_enabled: Flag;
  /** JSON object. */
  preferences: string;
  /**
   * The user's own login on the mailbox server, for basic auth; null when the user has no
   * credentials of their own, or when `mailbox_secret` is a bearer token.
   */
  mailbox_username: string | null;
  /** The user's own encrypted password or token; null to use the server's service account. */
  mailbox_secret: string | null;
  created_at: string;
  updated_at: string;
}

export interface CollectionStateTable {
  user_id: string;
  kind: string;
  last_sync: string | null;
  pending_sync: string | null;
  out_of_sync: Generated<Flag>;
  out_of_sync_reason: string | null;
  probe: string | null;
  token: string | null;
  /** The change counter as it stood after the last sync (stored by the sync). */
  firm_counter: Generated<number>;
  /** Grows with every firm-side edit of the collection; sync writes leave it alone. */
  change_counter: Generated<number>;
  /** When and why the last sync of the collection failed; null once a run synced it. */
  last_failure_at: string | null;
  last_failure: string | null;
  /** How many items the last change list named; null after a listing or a failed change list. */
  last_changes: number | null;
}

/** Columns shared by user contacts and user appointments. */
export interface UserItemColumns {
  id: string;
  user_id: string;
  uid: string;
  /** JSON: the whole Contact or Appointment. */
  data: string;
  private: Flag;
  created_at: string;
  updated_at: string;
  /** Value of the global change sequence at the last write (for firm sync). */
  change_seq: number;
}

export interface UserContactTable extends UserItemColumns {
  email_norm: string;
  name_norm: string;
  org_norm: string;
  firm_contact_id: string | null;
  /**
   * JSON: the contact's firm fields as last exchanged with its firm contact (the base of firm
   * sync's three-way comparison); null when not connected.
   */
  firm_base: string | null;
  /** 1: disconnected by the deletion of its firm contact, and kept out of the firm list. */
  firm_detached: Generated<Flag>;
}

export interface UserAppointmentTable extends UserItemColumns {
  /** Epoch milliseconds; null when the start cannot be read. */
  start_utc: number | null;
  /** Epoch milliseconds; null when unbounded (open-ended recurrence). */
  end_utc: number | null;
}

export interface FirmContactTable {
  id: string;
  /** JSON: the firm contact's normalized firm fields (see firm/firm-fields.ts). */
  data: string;
  /** JSON: per field, which user, run and time last set it. */
  provenance: string;
  /** The first e-mail address; every address is in firm_contact_emails. */
  email_norm: string;
  name_norm: string;
  org_norm: string;
  /** "full name|organization", normalized; '' without a name. Matching looks it up. */
  name_key: string;
  /** 1: created while several firm contacts matched; `duplicate_candidates` names them. */
  possible_duplicate: Flag;
  /** JSON: list of firm contact ids. */
  duplicate_candidates: string;
  created_at: string;
  updated_at: string;
  /** Global change sequence value of the last write; the down step follows it. */
  seq: number;
}

/** Every normalized e-mail address of every firm contact: matching on any address, by index. */
export interface FirmContactEmailTable {
  email: string;
  firm_contact_id: string;
}

/** Per user, how far firm sync has gone: change sequence values. */
export interface FirmSyncCursorTable {
  user_id: string;
  /** Highest user contact change_seq taken up. */
  up_seq: number;
  /** Highest firm contact seq brought down. */
  down_seq: number;
}

/** Held firm updates and held new contacts. */
export interface FirmReviewTable {
  id: string;
  user_id: string;
  /** 'update' | 'new-contact'. */
  kind: string;
  user_contact_id: string;
  firm_contact_id: string | null;
  /** For 'update': the firm contact's seq proposed. */
  firm_seq: number | null;
  /** JSON Fields. */
  proposed: string;
  /** JSON Fields. */
  current: string;
  /** 'held' | 'approved' | 'rejected' | 'superseded'. */
  state: string;
  created_at: string;
  resolved_at: string | null;
}

export interface SyncStatusTable {
  user_id: string;
  kind: string;
  firm_id: string;
  href: string;
  firm_hash: string;
  /** The firm item's change sequence when synced (text), or null. */
  firm_revision: string | null;
  mailbox_etag: string | null;
  mailbox_hash: string;
  /** JSON: the Fields at the last sync. */
  base: string;
}

export interface HeldPlanTable {
  id: string;
  user_id: string;
  kind: string;
  created_at: string;
  reason: string;
  plan: string;
  state: string;
  resolved_at: string | null;
}

export interface JournalTable {
  id: string;
  at: string;
  run_id: string | null;
  actor: string;
  user_id: string | null;
  kind: string | null;
  /** The user contact or user appointment concerned. */
  firm_id: string | null;
  /** The firm contact concerned (firm sync). */
  firm_contact_id: string | null;
  href: string | null;
  uid: string | null;
  action: string;
  direction: string;
  before: string | null;
  after: string | null;
  note: string;
  /** Firm sync's connect and disconnect lines: why (see `LinkReason`); null on every other line. */
  reason: string | null;
}

export interface RunTable {
  id: string;
  kind: string;
  process: string | null;
  started_at: string;
  finished_at: string | null;
  status: string;
  /** JSON. */
  settings: string | null;
  /** JSON. */
  report: string | null;
}

export interface UserLockTable {
  user_id: string;
  holder: string;
  /** Epoch milliseconds. */
  expires_at: number;
}

export interface SequenceTable {
  name: string;
  value: number;
}

export interface Tables {
  mailbox_servers: MailboxServerTable;
  users: UserTable;
  collection_state: CollectionStateTable;
  user_contacts: UserContactTable;
  user_appointments: UserAppointmentTable;
  firm_contacts: FirmContactTable;
  firm_contact_emails: FirmContactEmailTable;
  firm_sync_cursors: FirmSyncCursorTable;
  firm_reviews: FirmReviewTable;
  sync_status: SyncStatusTable;
  held_plans: HeldPlanTable;
  journal: JournalTable;
  runs: RunTable;
  user_locks: UserLockTable;
  sequences: SequenceTable;
}
