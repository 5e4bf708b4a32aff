import type { Command } from 'commander';
import { redactUrl } from '../db/index.js';
import { errorMessage } from '../domain/errors.js';
import { SecretKeySource } from '../secrets/secret-key.js';
import { dbUrl, withApp } from './context.js';
import { printJson, say } from './output.js';

/** Where the secret key is looked for and whether it is there; reading it never creates it. */
async function secretKeyStatus(): Promise<{
  location: string;
  state: 'found' | 'absent' | 'unusable';
  problem?: string;
}> {
  const source = new SecretKeySource();
  try {
    return { location: source.describe(), state: (await source.load()) === null ? 'absent' : 'found' };
  } catch (e) {
    return { location: source.describe(), state: 'unusable', problem: errorMessage(e) };
  }
}

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
          const secretKey = await secretKeyStatus();
          if (opts.json)
            await printJson({ database: where, dialect: app.database.dialect, ready: true, secretKey });
          else {
            say(`Firm database ready: ${where} (${app.database.dialect})`);
            const state =
              secretKey.state === 'found'
                ? 'found'
                : secretKey.state === 'absent'
                  ? 'not there yet; created when the first credential is stored'
                  : `unusable: ${secretKey.problem}`;
            say(`Secret key for mailbox credentials: ${secretKey.location} (${state})`);
          }
        },
        true,
      );
    });
}
