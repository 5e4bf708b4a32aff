import type { Command } from 'commander';
import {
  approveReview,
  type FirmReview,
  type FirmSyncDeps,
  listReviews,
  type ReviewDecision,
  rejectReview,
} from '../firm/index.js';
import { withApp } from './context.js';
import { changeText, nameOf } from './firm-text.js';
import { printJson, printTable, say } from './output.js';

/** What a review proposes, in one cell. */
function proposalText(r: FirmReview): string {
  return r.kind === 'update' ? changeText(r.current, r.proposed) : 'take this contact to the firm list';
}

/** The names of the reviewed user contacts (the contact may have been deleted since). */
async function contactNames(
  deps: FirmSyncDeps,
  reviews: readonly FirmReview[],
): Promise<Map<string, string>> {
  const links = await deps.store.userContacts([...new Set(reviews.map((r) => r.userContactId))]);
  return new Map(links.map((l) => [l.id, l.contact.formattedName]));
}

function decisionText(d: ReviewDecision): string {
  const r = d.review;
  if (r.state === 'rejected') {
    return r.kind === 'update'
      ? `Rejected review ${r.id}: ${r.login}'s contact keeps its values; this firm change is not proposed again`
      : `Rejected review ${r.id}: the contact stays in ${r.login}'s list only`;
  }
  if (r.kind === 'new-contact') {
    return `Approved review ${r.id}: ${r.login}'s contact ${nameOf(r.proposed)} taken to the firm list (${d.upOutcome ?? 'no change'})`;
  }
  const lines = [
    d.applied.length > 0
      ? `Approved review ${r.id}: ${d.applied.join(', ')} written to ${r.login}'s contact; the next mailbox sync carries it to the mailbox`
      : `Approved review ${r.id}: nothing to write`,
  ];
  if (d.kept.length > 0) lines.push(`  kept ${r.login}'s own newer ${d.kept.join(', ')}`);
  return lines.join('\n');
}

/** `liaison review list | approve | reject`: firm changes and new contacts held by users' preferences. */
export function registerReview(program: Command): void {
  const review = program
    .command('review')
    .description(
      'held firm sync changes: updates for users with --updates review, new contacts of users with --new-contacts ask',
    );

  review
    .command('list')
    .description('list held reviews, oldest first')
    .option('--user <login>', 'only this user')
    .option('--all', 'include approved, rejected and superseded reviews')
    .option('--json', 'print JSON only')
    .action(async (opts: { user?: string; all?: boolean; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const deps = app.firmDeps();
        const list = await listReviews(deps, {
          state: opts.all ? 'all' : 'held',
          ...(opts.user !== undefined ? { user: opts.user } : {}),
        });
        if (opts.json) {
          await printJson(list);
          return;
        }
        const names = await contactNames(deps, list);
        printTable(
          ['ID', 'USER', 'KIND', 'STATE', 'CONTACT', 'FIRM CONTACT', 'PROPOSED', 'CREATED'],
          list.map((r) => [
            r.id,
            r.login,
            r.kind,
            r.state,
            names.get(r.userContactId) ?? nameOf(r.proposed),
            r.firmContactId ?? '',
            proposalText(r),
            r.createdAt,
          ]),
        );
      });
    });

  for (const decision of ['approve', 'reject'] as const) {
    review
      .command(decision)
      .description(
        decision === 'approve'
          ? "apply a held review: write the update into the user's contact, or take the new contact to the firm list"
          : 'discard a held review: nothing is written',
      )
      .argument('<id>', 'review id')
      .option('--json', 'print JSON only')
      .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
        await withApp(cmd, async (app) => {
          const deps = app.firmDeps();
          const done = decision === 'approve' ? await approveReview(deps, id) : await rejectReview(deps, id);
          if (opts.json) await printJson(done);
          else say(decisionText(done));
        });
      });
  }
}
