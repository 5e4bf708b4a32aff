import type { Command } from 'commander';
import { LiaisonError } from '../domain/errors.js';
import { type FirmStepChoice, firmExitCode, MAX_FIRM_GROUPS, runFirmSync } from '../firm/index.js';
import { collect, oneOf, withApp } from './context.js';
import { renderFirmReport } from './firm-text.js';
import { printJson } from './output.js';

interface FirmSyncFlags {
  step: FirmStepChoice;
  group?: string[];
  dryRun?: boolean;
  json?: boolean;
}

/** `liaison firm-sync`: user contacts ⇄ firm contacts, with the exit codes of `liaison sync`. */
export function registerFirmSync(program: Command): void {
  program
    .command('firm-sync')
    .description(
      'firm sync: new and changed user contacts to the firm contact list (up), firm changes to every connected user contact (down)',
    )
    .option(
      '--step <step>',
      'up, down or both (both: up for every user, then down, so one run spreads a change to all)',
      oneOf('up', 'down', 'both'),
      'both',
    )
    .option(
      '--group <name>',
      `only users whose contact list is in this server group (repeatable, at most ${MAX_FIRM_GROUPS})`,
      collect,
    )
    .option('--dry-run', 'plan and report without writing anything')
    .option('--json', 'print the report as JSON only')
    .action(async (opts: FirmSyncFlags, cmd: Command) => {
      // Checked before opening the database, like `liaison sync`: a typo costs no connection.
      if ((opts.group?.length ?? 0) > MAX_FIRM_GROUPS) {
        throw new LiaisonError(
          'Usage',
          `at most ${MAX_FIRM_GROUPS} --group options per run; ${opts.group?.length} were given`,
        );
      }
      const code = await withApp(cmd, async (app) => {
        const report = await runFirmSync(app.firmDeps(), {
          step: opts.step,
          groups: opts.group ?? [],
          dryRun: opts.dryRun === true,
        });
        if (opts.json) await printJson(report);
        else process.stdout.write(renderFirmReport(report));
        return firmExitCode(report);
      });
      process.exitCode = code;
    });
}
