import type { Command } from 'commander';
import { LiaisonError } from '../domain/errors.js';
import type { Fields } from '../domain/fields.js';
import { parseHeldPlan } from '../sync/held.js';
import { decideHeldPlan } from '../sync/held-run.js';
import type { Op } from '../sync/plan-types.js';
import type { HeldPlanRecord } from '../sync/ports.js';
import { withApp } from './context.js';
import { printJson, printTable, say } from './output.js';
import { renderReport } from './report-text.js';

function label(f: Fields): string {
  const name = f.formattedName ?? f.summary ?? f.title;
  return typeof name === 'string' && name !== '' ? name : '(untitled)';
}

/** One line per operation, as the administrator reads a preview. */
function describeOp(op: Op): string {
  switch (op.type) {
    case 'create-in-mailbox':
      return `create in mailbox: ${label(op.fields)}`;
    case 'create-in-firm':
      return `create in firm database: ${label(op.fields)} (${op.href})`;
    case 'delete-in-mailbox':
      return `DELETE in mailbox: ${label(op.fields)} (${op.href})`;
    case 'delete-in-firm':
      return `DELETE in firm database: ${label(op.fields)} (${op.href})`;
    case 'update': {
      const sides = [op.toFirm ? 'firm database' : '', op.toMailbox ? 'mailbox' : '']
        .filter(Boolean)
        .join(' and ');
      return `update ${sides || 'status'}: ${label(op.result)} (${op.reason})`;
    }
    case 'forget':
      return `forget ${op.href}`;
  }
}

function summary(rec: HeldPlanRecord) {
  const plan = parseHeldPlan(rec);
  // Sorted, so that the preview reads the same whatever order the database gave the rows in.
  const preview = plan.ops.map(describeOp).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return { ...rec, plan: undefined, operations: plan.ops.length, preview };
}

export function registerHeld(program: Command): void {
  const held = program.command('held').description('plans held by the mass-change guard');

  held
    .command('list')
    .description('list held plans')
    .option('--all', 'include approved and rejected plans')
    .option('--json', 'print JSON only')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.repos.heldPlans.listHeld(opts.all ? {} : { state: 'held' });
        if (opts.json) await printJson(list.map((r) => ({ ...summary(r), preview: undefined })));
        else {
          printTable(
            ['ID', 'USER', 'COLLECTION', 'STATE', 'CREATED', 'REASON'],
            list.map((r) => [r.id, r.login, r.kind, r.state, r.createdAt, r.reason]),
          );
        }
      });
    });

  held
    .command('show')
    .description('preview what a held plan would do')
    .argument('<id>', 'held plan id')
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const rec = await app.repos.heldPlans.getHeld(id);
        if (!rec) throw new LiaisonError('Usage', `no held plan ${id}: see \`liaison held list\``);
        const s = summary(rec);
        if (opts.json) await printJson({ ...s, plan: parseHeldPlan(rec) });
        else {
          say(`Held plan ${rec.id} for ${rec.login} ${rec.kind} (${rec.state}), ${rec.createdAt}`);
          say(`Reason: ${rec.reason}`);
          for (const line of s.preview) say(`  ${line}`);
        }
      });
    });

  for (const decision of ['approve', 'reject'] as const) {
    held
      .command(decision)
      .description(
        decision === 'approve'
          ? 'apply a held plan'
          : 'discard a held plan and put the other side’s version back where the held changes came from',
      )
      .argument('<id>', 'held plan id')
      .option('--json', 'print the report as JSON only')
      .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
        await withApp(cmd, async (app) => {
          if (!(await app.repos.heldPlans.getHeld(id))) {
            throw new LiaisonError('Usage', `no held plan ${id}: see \`liaison held list\``);
          }
          const report = await decideHeldPlan(app.syncDeps(), id, decision);
          if (opts.json) await printJson(report);
          else process.stdout.write(renderReport(report));
        });
      });
  }
}
