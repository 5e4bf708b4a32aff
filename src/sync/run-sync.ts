import type { ItemCodec } from '../domain/codec.js';
import { errorMessage, LiaisonError } from '../domain/errors.js';
import type { CollectionKind, Uid } from '../domain/ids.js';
import { appointmentCodec } from '../formats/appointment-codec.js';
import { contactCodec } from '../formats/contact-codec.js';
import { type CollectionDeps, syncCollection } from './collection-sync.js';
import type { FirmSyncStore } from './ports.js';
import { type CollectionReport, emptyReport, type RunReport } from './report.js';
import type { SyncRunDeps, SyncUser } from './run-ports.js';
import type { SyncScopeKind, SyncSettings } from './settings.js';
import { withUserLease } from './user-lease.js';

/** Which users a run covers (SPEC §8: servers, up to five server groups). */
export interface SyncSelection {
  /** Logins, or 'all'. */
  readonly users: readonly string[] | 'all';
  readonly servers: readonly string[];
  readonly groups: readonly string[];
  readonly scope: SyncScopeKind;
}

export const MAX_GROUPS = 5;

/** Picks the users in scope; an unknown login or a sixth group is a usage error. */
export function selectUsers(all: readonly SyncUser[], sel: SyncSelection): SyncUser[] {
  if (sel.groups.length > MAX_GROUPS) {
    throw new LiaisonError(
      'Usage',
      `at most ${MAX_GROUPS} server groups per run; ${sel.groups.length} were given`,
    );
  }
  let users = [...all];
  if (sel.users !== 'all') {
    const byLogin = new Map(all.map((u) => [u.login, u]));
    const unknown = sel.users.filter((l) => !byLogin.has(l));
    if (unknown.length > 0) throw new LiaisonError('Usage', `unknown user: ${unknown.join(', ')}`);
    users = [...new Set(sel.users)].map((l) => byLogin.get(l)!);
  }
  if (sel.servers.length > 0) users = users.filter((u) => sel.servers.includes(u.server));
  if (sel.groups.length > 0) users = users.filter((u) => u.group !== null && sel.groups.includes(u.group));
  return users;
}

export function kindsOf(scope: SyncScopeKind): CollectionKind[] {
  return scope === 'both' ? ['contacts', 'calendar'] : [scope];
}

/**
 * Runs mailbox sync for every user in scope, one user at a time, each under the user's
 * lock. A user that is busy, out of sync, held or failing is reported and the run goes on.
 */
export async function runMailboxSync(
  deps: SyncRunDeps,
  selection: SyncSelection,
  settings: SyncSettings,
  options: { recovery?: boolean } = {},
): Promise<RunReport> {
  const users = selectUsers(await deps.listUsers(), selection);
  const startedAt = deps.now().toISOString();
  const runId = await deps.runs.start(options.recovery ? 'recover' : 'mailbox-sync', { selection, settings });
  const collections: CollectionReport[] = [];
  const explicit = selection.users !== 'all';

  for (const user of users) {
    const kinds = kindsOf(selection.scope).filter((k) => (k === 'contacts' ? user.contacts : user.calendar));
    if (kinds.length === 0) {
      if (explicit) {
        const r = emptyReport(user.login, kindsOf(selection.scope)[0]!, settings.dryRun);
        r.outcome = 'skipped';
        r.reason = `sync of ${selection.scope === 'both' ? 'contacts and calendar' : selection.scope} is off for this user (liaison user set ${user.login} --${kindsOf(selection.scope)[0]} on)`;
        collections.push(r);
      }
      continue;
    }
    const reports = kinds.map((k) => emptyReport(user.login, k, settings.dryRun));
    collections.push(...reports);
    const ran = await withUserLease(deps.locks, user.id, deps.holder, async () => {
      for (const report of reports) {
        await syncOne(deps, user, report, settings, runId, options.recovery ?? false);
        if (settings.dryRun) continue;
        if (report.outcome === 'failed')
          await deps.outcomes.note(user.id, report.collection, report.reason ?? 'failed');
        else if (report.outcome === 'synced' || report.outcome === 'unchanged')
          await deps.outcomes.note(user.id, report.collection, null);
      }
    });
    if (!ran) {
      for (const r of reports) {
        r.outcome = 'skipped';
        r.reason = 'busy: another sync holds this user; taken next run';
      }
    }
  }

  const report: RunReport = {
    runId,
    mode: options.recovery ? 'recover' : settings.mode,
    startedAt,
    finishedAt: deps.now().toISOString(),
    collections,
  };
  const failed = collections.some((c) => c.outcome === 'failed');
  await deps.runs.finish(runId, failed ? 'partial' : 'ok', report);
  return report;
}

async function syncOne(
  deps: SyncRunDeps,
  user: SyncUser,
  report: CollectionReport,
  settings: SyncSettings,
  runId: string,
  recovery: boolean,
): Promise<void> {
  try {
    const mailbox = await deps.openMailbox(user);
    const target = { user: user.id, login: user.login, kind: report.collection, runId };
    const base = {
      held: deps.held,
      mailbox,
      now: deps.now,
      ...(deps.onProgress
        ? {
            onProgress: (d: number, t: number) =>
              deps.onProgress?.(`${user.login} ${report.collection}`, d, t),
          }
        : {}),
    };
    if (report.collection === 'contacts') {
      await syncCollection(target, withCodec(base, contactCodec, deps.contacts), settings, report, recovery);
    } else {
      await syncCollection(
        target,
        withCodec(base, appointmentCodec, deps.calendar),
        settings,
        report,
        recovery,
      );
    }
  } catch (e) {
    report.outcome = 'failed';
    report.reason = errorMessage(e);
  }
}

export function withCodec<T extends { readonly uid: Uid }>(
  base: Omit<CollectionDeps<T>, 'codec' | 'firm'>,
  codec: ItemCodec<T>,
  firm: FirmSyncStore<T>,
): CollectionDeps<T> {
  return { ...base, codec, firm };
}
