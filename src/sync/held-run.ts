import { LiaisonError } from '../domain/errors.js';
import { appointmentCodec } from '../formats/appointment-codec.js';
import { contactCodec } from '../formats/contact-codec.js';
import { resolveHeldPlan } from './held.js';
import { emptyReport, type RunReport } from './report.js';
import type { SyncRunDeps } from './run-ports.js';
import { withCodec } from './run-sync.js';
import { withUserLease } from './user-lease.js';

/**
 * Approves (applies) or rejects (undoes at the source) a held plan, under the user's lock.
 * Throws `NotFound` for an unknown id, `Usage` for a plan already resolved, `Busy` when
 * the user is being synced right now.
 */
export async function decideHeldPlan(
  deps: SyncRunDeps,
  id: string,
  decision: 'approve' | 'reject',
): Promise<RunReport> {
  const rec = await deps.held.getHeld(id);
  if (!rec) throw new LiaisonError('NotFound', `no held plan ${id}: see \`liaison held list\``);
  if (rec.state !== 'held') throw new LiaisonError('Usage', `held plan ${id} was already ${rec.state}`);
  const user = (await deps.listUsers()).find((u) => u.id === rec.user);
  if (!user) throw new LiaisonError('NotFound', `the user of held plan ${id} no longer exists`);
  const startedAt = deps.now().toISOString();
  const runId = await deps.runs.start(`held-${decision}`, { id });
  const report = emptyReport(user.login, rec.kind, false);
  const ran = await withUserLease(deps.locks, user.id, deps.holder, async () => {
    const target = { user: user.id, login: user.login, kind: rec.kind, runId };
    const base = { held: deps.held, mailbox: await deps.openMailbox(user), now: deps.now };
    if (rec.kind === 'contacts')
      await resolveHeldPlan(rec, decision, target, withCodec(base, contactCodec, deps.contacts), report);
    else
      await resolveHeldPlan(rec, decision, target, withCodec(base, appointmentCodec, deps.calendar), report);
  });
  if (!ran) {
    await deps.runs.finish(runId, 'failed', { busy: true });
    throw new LiaisonError(
      'Busy',
      `user ${user.login} is being synced right now; try again when that run ends`,
    );
  }
  const out: RunReport = {
    runId,
    mode: `held ${decision}`,
    startedAt,
    finishedAt: deps.now().toISOString(),
    collections: [report],
  };
  await deps.runs.finish(runId, 'ok', out);
  return out;
}
