import type { Command } from 'commander';
import { LiaisonError } from '../domain/errors.js';
import { withApp } from './context.js';
import { printJson, say } from './output.js';

/** `liaison credentials reset`: the way back from a lost secret key. */
export function registerCredentials(program: Command): void {
  const credentials = program
    .command('credentials')
    .description('stored passwords and tokens (see `server set` and `user set` to change one)');

  credentials
    .command('reset')
    .description(
      'remove every stored password and token, for when the secret key they were stored with is lost; enter them again afterwards',
    )
    .option('--yes', 'really remove them (without it, nothing is removed)')
    .option('--json', 'print JSON only')
    .action(async (opts: { yes?: boolean; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        if (!opts.yes) {
          // Every server and user would sync with nothing until their credentials are
          // entered again: a step nobody should take by a slip.
          const servers = (await app.repos.servers.list()).filter((s) => s.hasSecret).length;
          const users = (await app.repos.users.list()).filter((u) => u.hasSecret).length;
          throw new LiaisonError(
            'Usage',
            `this removes the stored credentials of ${servers} server(s) and ${users} user(s), which must then be entered again; it is meant for a lost secret key. Run it again with --yes to go ahead`,
          );
        }
        const removed = await app.credentials.forgetAll();
        if (opts.json) {
          await printJson(removed);
          return;
        }
        if (removed.servers.length + removed.users.length === 0) {
          say('No password or token was stored: nothing to remove.');
          return;
        }
        say(
          `Removed the stored credentials of ${removed.servers.length} server(s) and ${removed.users.length} user(s). Enter them again (they are stored under the key in use now):`,
        );
        for (const name of removed.servers)
          say(`  liaison server set ${name} --password-env VAR   (or --token-env VAR)`);
        for (const login of removed.users) {
          say(
            `  liaison user set ${login} --username U --password-env VAR   (until then: the server's account)`,
          );
        }
      });
    });
}
