/** The firm database: open it, migrate it, and the repositories the services use. */
import type { Appointment } from '../domain/appointment.js';
import type { TimeSpan } from '../domain/codec.js';
import type { Contact } from '../domain/contact.js';
import { AppointmentRepo } from './appointment-repo.js';
import { type Clock, systemClock } from './clock.js';
import { ContactRepo } from './contact-repo.js';
import { DiscoveryRepo } from './discovery-repo.js';
import { HeldPlanRepo } from './held-plan-repo.js';
import { JournalRepo } from './journal-repo.js';
import { LockRepo } from './lock-repo.js';
import type { Database } from './open.js';
import { QuarantineRepo } from './quarantine-repo.js';
import { RunRepo } from './run-repo.js';
import { ServerRepo } from './server-repo.js';
import { appointmentSyncStore, contactSyncStore, type SqlFirmSyncStore } from './sync-store.js';
import { UserRepo } from './user-repo.js';

export { AppointmentRepo, type AppointmentRepoOptions } from './appointment-repo.js';
export type { Clock } from './clock.js';
export { ContactRepo } from './contact-repo.js';
export { DiscoveryRepo, type StoredDiscovery } from './discovery-repo.js';
export { createFirmStore } from './firm-sync-store.js';
export { FirmUserRepo } from './firm-user-repo.js';
export { HeldPlanRepo } from './held-plan-repo.js';
export { type JournalFilter, type JournalInput, type JournalRecord, JournalRepo } from './journal-repo.js';
export { LockRepo } from './lock-repo.js';
export { newId } from './new-id.js';
export { type Database, type DialectName, type OpenOptions, openDatabase, redactUrl } from './open.js';
export { type RunKind, type RunRecord, RunRepo, type RunStatus } from './run-repo.js';
export {
  MAILBOX_SERVER_KINDS,
  type MailboxServerKind,
  type MailboxServerRecord,
  type NewMailboxServer,
  type ServerChanges,
  type ServerOptions,
  ServerRepo,
} from './server-repo.js';
export {
  appointmentSyncStore,
  contactSyncStore,
  SqlFirmSyncStore,
  type SyncStoreOptions,
} from './sync-store.js';
export type { EditOptions, ItemPatch, UserItemRecord } from './user-item-repo.js';
export {
  type CollectionSummary,
  type NewUser,
  type StoredUserCredential,
  type UserChanges,
  type UserFilter,
  type UserRecord,
  UserRepo,
} from './user-repo.js';

/** Every repository over one database, for the composition root. */
export interface Repositories {
  readonly servers: ServerRepo;
  readonly users: UserRepo;
  readonly contacts: ContactRepo;
  readonly appointments: AppointmentRepo;
  readonly contactSync: SqlFirmSyncStore<Contact>;
  readonly appointmentSync: SqlFirmSyncStore<Appointment>;
  readonly heldPlans: HeldPlanRepo;
  readonly journal: JournalRepo;
  readonly runs: RunRepo;
  readonly locks: LockRepo;
  readonly discovery: DiscoveryRepo;
  readonly quarantine: QuarantineRepo;
}

/**
 * Builds every repository over `database`. `span` is the appointment codec's time span
 * (for the calendar window columns); `clock` is for tests.
 */
export function createRepositories(
  database: Database,
  options: { readonly clock?: Clock; readonly span?: (item: Appointment) => TimeSpan | null } = {},
): Repositories {
  const clock = options.clock ?? systemClock;
  const span = options.span;
  return {
    servers: new ServerRepo(database, clock),
    users: new UserRepo(database, clock),
    contacts: new ContactRepo(database, clock),
    appointments: new AppointmentRepo(database, span === undefined ? { clock } : { clock, span }),
    contactSync: contactSyncStore(database, { clock }),
    appointmentSync: appointmentSyncStore(database, span === undefined ? { clock } : { clock, span }),
    heldPlans: new HeldPlanRepo(database, clock),
    journal: new JournalRepo(database, clock),
    runs: new RunRepo(database, clock),
    locks: new LockRepo(database, clock),
    discovery: new DiscoveryRepo(database, clock),
    quarantine: new QuarantineRepo(database),
  };
}
