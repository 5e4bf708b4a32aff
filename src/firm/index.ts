/**
 * Firm sync (SPEC §7) as its faces (CLI, later HTTP) call it: the run, firm contact
 * administration, preferences, reviews and the journal. Every function takes the
 * `FirmSyncDeps` the composition root builds (`App.firmDeps()`).
 */
export {
  type AdminOptions,
  type ConnectedUserContact,
  type DeleteOutcome,
  deleteFirmContact,
  type FirmContactDetail,
  getFirmContact,
  listFirmContacts,
  type MergeOutcome,
  mergeFirmContacts,
} from './firm-contacts-service.js';
export {
  BUSY_REASON,
  type FirmCounts,
  type FirmOutcome,
  type FirmRunReport,
  type FirmStepChoice,
  type FirmUserReport,
  firmExitCode,
} from './firm-report.js';
export type {
  FieldSource,
  FirmContact,
  FirmReview,
  JournalLine,
  Provenance,
  ReviewKind,
  ReviewState,
} from './firm-types.js';
export { FIRM_JOURNAL_ACTIONS } from './firm-types.js';
export { type JournalFilter, listJournal, undoJournal } from './journal-service.js';
export type { FirmContactSummary, FirmSyncDeps } from './ports.js';
export {
  type FirmPreferences,
  NEW_CONTACTS_PREFERENCES,
  type NewContactsPreference,
  type PreferencesPatch,
  UPDATES_PREFERENCES,
  type UpdatesPreference,
} from './preferences.js';
export { approveReview, listReviews, type ReviewDecision, rejectReview } from './reviews-service.js';
export { type FirmSyncOptions, MAX_FIRM_GROUPS, runFirmSync } from './run-firm-sync.js';
export { setPreferences } from './set-preferences.js';
