import type { Appointment } from '../domain/appointment.js';
import type { Contact } from '../domain/contact.js';
import type { CollectionKind, UserId } from '../domain/ids.js';
import type { MailboxStore } from '../mailbox/port.js';
import type { FirmSyncStore, HeldPlanStore } from './ports.js';

/** A user as a sync run sees it. */
export interface SyncUser {
  readonly id: UserId;
  readonly login: string;
  readonly server: string;
  readonly account: string;
  readonly group: string | null;
  readonly contacts: boolean;
  readonly calendar: boolean;
}

/** Per-user leases shared by mailbox sync and firm sync (SPEC §7, last point). */
export interface UserLocks {
  /** Takes the user's lock unless another live holder has it; an expired lease may be taken over. */
  tryAcquire(user: UserId, holder: string, leaseMs: number): Promise<boolean>;
  renew(user: UserId, holder: string, leaseMs: number): Promise<void>;
  release(user: UserId, holder: string): Promise<void>;
}

/** Where runs and their reports are kept. */
export interface RunLog {
  start(kind: string, settings: unknown): Promise<string>;
  finish(runId: string, status: 'ok' | 'partial' | 'failed', report: unknown): Promise<void>;
}

/** How each run left each collection, for `liaison status`. */
export interface CollectionOutcomes {
  /** `failure`: why the collection's sync failed; null: it synced (an earlier failure is cleared). */
  note(user: UserId, kind: CollectionKind, failure: string | null): Promise<void>;
}

/** Everything a mailbox sync run needs, wired by the composition root. */
export interface SyncRunDeps {
  listUsers(): Promise<SyncUser[]>;
  /** Opens the user's mailbox on its server; throws `Config` when the server is unknown. */
  openMailbox(user: SyncUser): Promise<MailboxStore>;
  readonly contacts: FirmSyncStore<Contact>;
  readonly calendar: FirmSyncStore<Appointment>;
  readonly held: HeldPlanStore;
  readonly locks: UserLocks;
  readonly runs: RunLog;
  readonly outcomes: CollectionOutcomes;
  readonly now: () => Date;
  /** Identifies this process as a lock holder. */
  readonly holder: string;
  readonly onProgress?: (label: string, done: number, total: number) => void;
}
