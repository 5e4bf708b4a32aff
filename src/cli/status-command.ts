import type { Command } from 'commander';
import { LiaisonError } from '../domain/errors.js';
import { COLLECTION_KINDS } from '../domain/ids.js';
import { withApp } from './context.js';
import { printJson, printTable, say } from './output.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('per user and collection: last sync, out of sync, held plans, items that cannot be synced')
    .option('--user <login...>', 'only these users')
    .option('--json', 'print JSON only')
    .action(async (opts: { user?: string[]; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const all = await app.repos.users.list();
        const unknown = (opts.user ?? []).filter((l) => !all.some((u) => u.login === l));
        if (unknown.length > 0) throw new LiaisonError('Usage', `unknown user: ${unknown.join(', ')}`);
        const users = all.filter((u) => !opts.user || opts.user.includes(u.login));
        const held = await app.repos.heldPlans.listHeld({ state: 'held' });
        const quarantined = await app.repos.quarantine.list(users.map((u) => u.id));
        const leases = await app.repos.locks.live();
        const rows = users.flatMap((u) =>
          COLLECTION_KINDS.map((kind) => {
            const s = u.collections[kind];
            const plans = held.filter((h) => h.user === u.id && h.kind === kind).map((h) => h.id);
            return {
              user: u.login,
              collection: kind,
              enabled: kind === 'contacts' ? u.contactsEnabled : u.calendarEnabled,
              serverGroup: u.serverGroup,
              lastSync: s.lastSync,
              outOfSync: s.outOfSync,
              outOfSyncReason: s.outOfSyncReason,
              heldPlans: plans,
              lastFailure: s.lastFailure,
              // A sync holds the user, but only a collection it syncs is busy.
              busy: (kind === 'contacts' ? u.contactsEnabled : u.calendarEnabled)
                ? busyOf(leases.get(u.id))
                : null,
              quarantined: quarantined
                .filter((q) => q.user === u.id && q.kind === kind)
                .map(({ href, reason, since }) => ({ href, reason, since })),
            };
          }),
        );
        if (opts.json) await printJson(rows);
        else {
          printTable(
            ['USER', 'COLLECTION', 'SYNC', 'LAST SYNC', 'STATE', 'QUARANTINED'],
            rows.map((r) => [
              r.user,
              r.collection,
              r.enabled ? 'on' : 'off',
              r.lastSync ?? 'never',
              stateText(r),
              String(r.quarantined.length),
            ]),
          );
          // What cannot be synced stays listed until a run reads it fine or finds it gone.
          for (const r of rows) {
            for (const q of r.quarantined) say(`quarantined since ${q.since}: ${q.reason}`);
          }
        }
      });
    });
}

/** A lease held now: by whom, and until when (ISO time). */
function busyOf(lease: { holder: string; expiresAt: number } | undefined) {
  return lease === undefined
    ? null
    : { holder: lease.holder, until: new Date(lease.expiresAt).toISOString() };
}

function stateText(r: {
  outOfSync: boolean;
  outOfSyncReason: string | null;
  heldPlans: string[];
  lastFailure: { at: string; reason: string } | null;
  busy: { holder: string; until: string } | null;
}): string {
  const state = r.outOfSync
    ? `OUT OF SYNC: ${r.outOfSyncReason ?? ''}`
    : r.heldPlans.length > 0
      ? `held (plan ${r.heldPlans.join(', ')})`
      : r.lastFailure !== null
        ? `FAILED at ${r.lastFailure.at}: ${r.lastFailure.reason}`
        : 'ok';
  // A sync that holds the user now (or was killed: its lease runs out at `until`).
  return r.busy === null ? state : `${state}; busy (${r.busy.holder}, lease until ${r.busy.until})`;
}
