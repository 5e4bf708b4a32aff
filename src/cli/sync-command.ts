import type { Command } from 'commander';
import { LiaisonError } from '../domain/errors.js';
import { exitCodeOf } from '../sync/report.js';
import { MAX_GROUPS, runMailboxSync } from '../sync/run-sync.js';
import type { SyncScopeKind } from '../sync/settings.js';
import { collect, oneOf, withApp } from './context.js';
import { printJson } from './output.js';
import { progressReporter } from './progress.js';
import { renderReport } from './report-text.js';
import { type SettingsFlags, settingsFrom, settingsOptions } from './sync-options.js';

interface SyncFlags extends SettingsFlags {
  user?: string[];
  all?: boolean;
  server?: string[];
  group?: string[];
  scope: SyncScopeKind;
  json?: boolean;
}

export function registerSync(program: Command): void {
  settingsOptions(
    program
      .command('sync')
      .description('mailbox sync: two-way sync of user contact lists and calendars with their mailboxes')
      .option('--user <login...>', 'users to sync')
      .option('--all', 'every user with sync turned on')
      .option('--server <name>', 'only users of this mailbox server (repeatable)', collect)
      .option(
        '--group <name>',
        `only user contact lists of this server group (repeatable, at most ${MAX_GROUPS})`,
        collect,
      )
      .requiredOption('--mode <mode>', 'express or complete', oneOf('express', 'complete'))
      .requiredOption('--scope <scope>', 'contacts, calendar or both', oneOf('contacts', 'calendar', 'both'))
      .option('--dry-run', 'plan and report without writing anything')
      .option('--json', 'print the report as JSON only'),
  ).action(async (opts: SyncFlags, cmd: Command) => {
    if (!opts.all && !opts.user?.length)
      throw new LiaisonError('Usage', 'name the users to sync with --user, or give --all');
    if (opts.all && opts.user?.length)
      throw new LiaisonError('Usage', 'give either --user or --all, not both');
    if ((opts.group?.length ?? 0) > MAX_GROUPS) {
      throw new LiaisonError(
        'Usage',
        `at most ${MAX_GROUPS} --group options per run; ${opts.group?.length} were given`,
      );
    }
    const settings = settingsFrom(opts);
    const code = await withApp(cmd, async (app) => {
      for (const name of opts.server ?? []) {
        if (!(await app.repos.servers.get(name))) {
          throw new LiaisonError('Usage', `unknown mailbox server ${name}: see \`liaison server list\``);
        }
      }
      const progress = progressReporter(!opts.json);
      const report = await runMailboxSync(
        app.syncDeps(progress.onProgress),
        {
          users: opts.all ? 'all' : (opts.user ?? []),
          servers: opts.server ?? [],
          groups: opts.group ?? [],
          scope: opts.scope,
        },
        settings,
      ).finally(progress.stop);
      if (opts.json) await printJson(report);
      else process.stdout.write(renderReport(report));
      return exitCodeOf(report.collections);
    });
    process.exitCode = code;
  });
}
