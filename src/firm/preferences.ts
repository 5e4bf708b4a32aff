import { LiaisonError } from '../domain/errors.js';
import type { FieldValue } from '../domain/fields.js';

/** How firm changes reach a user's contacts (SPEC §7): applied at once, or held for review. */
export type UpdatesPreference = 'auto' | 'review';
/** Where a user's new contacts go: the firm list, nowhere (private), or a review first. */
export type NewContactsPreference = 'firm' | 'private' | 'ask';

/** Every value of `--updates`. */
export const UPDATES_PREFERENCES: readonly UpdatesPreference[] = ['auto', 'review'];
/** Every value of `--new-contacts`. */
export const NEW_CONTACTS_PREFERENCES: readonly NewContactsPreference[] = ['firm', 'private', 'ask'];

/** A user's firm sync preferences. */
export interface FirmPreferences {
  readonly updates: UpdatesPreference;
  readonly newContacts: NewContactsPreference;
}

/** A user who never set a preference: updates applied, new contacts to the firm list. */
export const DEFAULT_PREFERENCES: FirmPreferences = { updates: 'auto', newContacts: 'firm' };

/** Keys of the firm sync preferences inside a user's `preferences` JSON object. */
export const PREFERENCE_KEYS = { updates: 'firmUpdates', newContacts: 'firmNewContacts' } as const;

/** A change of preferences; absent values stay as they are. */
export interface PreferencesPatch {
  readonly updates?: UpdatesPreference;
  readonly newContacts?: NewContactsPreference;
}

/** Reads the firm preferences from a user's stored preferences; unknown values read as the default. */
export function readPreferences(stored: { readonly [key: string]: FieldValue }): FirmPreferences {
  const updates = stored[PREFERENCE_KEYS.updates];
  const newContacts = stored[PREFERENCE_KEYS.newContacts];
  return {
    updates: UPDATES_PREFERENCES.find((p) => p === updates) ?? DEFAULT_PREFERENCES.updates,
    newContacts: NEW_CONTACTS_PREFERENCES.find((p) => p === newContacts) ?? DEFAULT_PREFERENCES.newContacts,
  };
}

/**
 * Checks a patch coming from outside (the CLI passes strings): a value outside the closed sets,
 * or an empty patch, is a `Usage` error.
 */
export function checkPreferencesPatch(patch: PreferencesPatch): PreferencesPatch {
  const { updates, newContacts } = patch;
  if (updates === undefined && newContacts === undefined) {
    throw new LiaisonError('Usage', 'nothing to set: give --updates auto|review and/or --new-contacts …');
  }
  if (updates !== undefined && !UPDATES_PREFERENCES.includes(updates)) {
    throw new LiaisonError(
      'Usage',
      `--updates must be one of ${UPDATES_PREFERENCES.join(', ')}, not ${updates}`,
    );
  }
  if (newContacts !== undefined && !NEW_CONTACTS_PREFERENCES.includes(newContacts)) {
    throw new LiaisonError(
      'Usage',
      `--new-contacts must be one of ${NEW_CONTACTS_PREFERENCES.join(', ')}, not ${newContacts}`,
    );
  }
  return patch;
}

/** The stored-preferences keys a patch writes. */
export function preferenceEntries(patch: PreferencesPatch): Record<string, string> {
  const out: Record<string, string> = {};
  if (patch.updates !== undefined) out[PREFERENCE_KEYS.updates] = patch.updates;
  if (patch.newContacts !== undefined) out[PREFERENCE_KEYS.newContacts] = patch.newContacts;
  return out;
}
