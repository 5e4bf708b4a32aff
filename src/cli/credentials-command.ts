import type { Command } from 'commander';
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
    .option('--json', 'print JSON only')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const removed = await app.credentials.forgetAll();
        if (opts.json) {
          printJson(removed);
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
