import type { Command } from 'commander';
import { exitCodeOf } from '../sync/report.js';
import { runMailboxSync } from '../sync/run-sync.js';
import type { SyncScopeKind } from '../sync/settings.js';
import { oneOf, withApp } from './context.js';
import { printJson } from './output.js';
import { progressReporter } from './progress.js';
import { renderReport } from './report-text.js';
import { type SettingsFlags, settingsFrom, settingsOptions } from './sync-options.js';

export function registerRecover(program: Command): void {
  settingsOptions(
    program
      .command('recover')
      .description(
        'recover users marked out of sync: match items on both sides, merge, delete nothing, write a fresh marker',
      )
      .requiredOption('--user <login...>', 'users to recover')
      .option('--scope <scope>', 'contacts, calendar or both', oneOf('contacts', 'calendar', 'both'), 'both')
      .option('--dry-run', 'plan and report without writing anything')
      .option('--json', 'print the report as JSON only'),
  ).action(
    async (opts: SettingsFlags & { user: string[]; scope: SyncScopeKind; json?: boolean }, cmd: Command) => {
      const settings = settingsFrom({ ...opts, mode: 'complete' });
      const code = await withApp(cmd, async (app) => {
        const progress = progressReporter(!opts.json);
        const report = await runMailboxSync(
          app.syncDeps(progress.onProgress),
          { users: opts.user, servers: [], groups: [], scope: opts.scope },
          settings,
          { recovery: true },
        ).finally(progress.stop);
        if (opts.json) await printJson(report);
        else process.stdout.write(renderReport(report));
        return exitCodeOf(report.collections);
      });
      process.exitCode = code;
    },
  );
}
