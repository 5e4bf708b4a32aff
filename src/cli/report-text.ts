import type { CollectionReport, RunReport, Tally } from '../sync/report.js';

const tally = (t: Tally) => `+${t.created} ~${t.updated} -${t.deleted}`;

/** The human form of a run report: one line per user and collection, then the details. */
export function renderReport(report: RunReport): string {
  const lines = [
    `Run ${report.runId} (${report.mode}${report.collections.some((c) => c.dryRun) ? ', dry run' : ''})`,
  ];
  if (report.collections.length === 0) lines.push('  no users in scope');
  for (const c of report.collections) lines.push(renderCollection(c));
  lines.push(summaryLine(report.collections.map((c) => c.outcome)));
  return `${lines.join('\n')}\n`;
}

/** "Summary: 2 synced, 1 unchanged": how many users (or collections) ended each way. */
export function summaryLine(outcomes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
  return `Summary: ${[...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing to do'}`;
}

function renderCollection(c: CollectionReport): string {
  const head = `  ${c.user} ${c.collection}: ${c.outcome}`;
  // A held or dry run reports what the plan would do: nothing was written.
  const planned = c.outcome === 'held' || c.dryRun ? 'would go ' : '';
  const parts = [`${planned}to mailbox ${tally(c.toMailbox)}`, `to firm ${tally(c.toFirm)}`];
  // Merged field by field; a field both changed went by the policy, its losing value journaled.
  if (c.paired > 0) parts.push(`${c.paired} found on both sides and paired`);
  if (c.conflicts > 0) parts.push(`${c.conflicts} changed on both sides, merged`);
  if (c.deferred > 0) parts.push(`${c.deferred} deferred to the next run`);
  if (c.quarantined.length > 0) parts.push(`${c.quarantined.length} quarantined`);
  if (c.notWritten.length > 0) parts.push(`${c.notWritten.length} not written to the mailbox`);
  const out = [`${head} — ${parts.join(', ')}`];
  if (c.reason) out.push(`    why: ${c.reason}`);
  if (c.heldPlanId) out.push(`    held plan ${c.heldPlanId}: liaison held show ${c.heldPlanId}`);
  // The reason names user, collection, server and item.
  for (const q of c.quarantined) out.push(`    quarantined: ${q.reason}`);
  for (const n of c.notWritten) out.push(`    not written to the mailbox: ${n.reason}`);
  return out.join('\n');
}
