import type { Command } from 'commander';
import { redactUrl } from '../db/index.js';
import { dbUrl, withApp } from './context.js';
import { printJson, say } from './output.js';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create or migrate the firm database')
    .option('--json', 'print JSON only')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withApp(
        cmd,
        async (app) => {
          const where = redactUrl(dbUrl(cmd));
          if (opts.json) printJson({ database: where, dialect: app.database.dialect, ready: true });
          else say(`Firm database ready: ${where} (${app.database.dialect})`);
        },
        true,
      );
    });
}
