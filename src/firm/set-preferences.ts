import { LiaisonError } from '../domain/errors.js';
import type { FirmSyncDeps } from './ports.js';
import { checkPreferencesPatch, type PreferencesPatch, preferenceEntries } from './preferences.js';

/**
 * Sets the firm sync preferences of several users at once (`liaison user set LOGIN…
 * --updates auto|review --new-contacts firm|private|ask`). All or nothing: an unknown login, a
 * value outside the allowed ones or an empty change is a `Usage` error and nothing is changed.
 * Returns the logins changed.
 */
export async function setPreferences(
  deps: FirmSyncDeps,
  logins: readonly string[],
  patch: PreferencesPatch,
): Promise<string[]> {
  checkPreferencesPatch(patch);
  if (logins.length === 0) throw new LiaisonError('Usage', 'name at least one user');
  const { found, unknown } = await deps.users.byLogins([...new Set(logins)]);
  if (unknown.length > 0) throw new LiaisonError('Usage', `unknown user: ${unknown.join(', ')}`);
  await deps.users.setPreferences(
    found.map((u) => u.id),
    preferenceEntries(patch),
  );
  return found.map((u) => u.login);
}
