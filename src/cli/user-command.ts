import type { Command } from 'commander';
import { LiaisonError } from '../domain/errors.js';
import { onOff, withApp } from './context.js';
import { printJson, printTable, say } from './output.js';

const onOffText = (b: boolean) => (b ? 'on' : 'off');

export function registerUser(program: Command): void {
  const user = program.command('user').description('users and their mailbox settings');

  user
    .command('add')
    .description('add a user (sync is off until turned on)')
    .argument('<login>', 'the user login')
    .requiredOption('--name <name>', 'full name')
    .requiredOption('--server <name>', 'mailbox server')
    .requiredOption('--mailbox <account>', "the user's mailbox account on that server")
    .option('--group <group>', 'server group of the user contact list')
    .option('--contacts <on|off>', 'sync contacts', onOff, false)
    .option('--calendar <on|off>', 'sync the calendar', onOff, false)
    .option('--json', 'print JSON only')
    .action(
      async (
        login: string,
        opts: {
          name: string;
          server: string;
          mailbox: string;
          group?: string;
          contacts: boolean;
          calendar: boolean;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        await withApp(cmd, async (app) => {
          const server = await app.repos.servers.get(opts.server);
          if (!server)
            throw new LiaisonError(
              'Usage',
              `unknown mailbox server ${opts.server}: see \`liaison server list\``,
            );
          // Create the folders first: a user whose mailbox cannot be made is not added.
          await app.mailboxServer(server).ensureMailbox(opts.mailbox);
          const rec = await app.repos.users.add({
            login,
            displayName: opts.name,
            server: opts.server,
            mailboxAccount: opts.mailbox,
            ...(opts.group !== undefined ? { serverGroup: opts.group } : {}),
            contactsEnabled: opts.contacts,
            calendarEnabled: opts.calendar,
          });
          if (opts.json) printJson(rec);
          else {
            say(
              `Added user ${rec.login} (${rec.displayName}) on ${rec.server}/${rec.mailboxAccount}; contacts ${onOffText(rec.contactsEnabled)}, calendar ${onOffText(rec.calendarEnabled)}`,
            );
          }
        });
      },
    );

  user
    .command('list')
    .description('list users')
    .option('--group <group>', 'only users of this server group')
    .option('--json', 'print JSON only')
    .action(async (opts: { group?: string; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.repos.users.list(opts.group !== undefined ? { groups: [opts.group] } : {});
        if (opts.json) printJson(list);
        else {
          printTable(
            ['LOGIN', 'NAME', 'SERVER', 'MAILBOX', 'GROUP', 'CONTACTS', 'CALENDAR'],
            list.map((u) => [
              u.login,
              u.displayName,
              u.server,
              u.mailboxAccount,
              u.serverGroup,
              onOffText(u.contactsEnabled),
              onOffText(u.calendarEnabled),
            ]),
          );
        }
      });
    });

  user
    .command('set')
    .description('change settings of one or many users at once')
    .argument('<logins...>', 'the users to change')
    .option('--group <group>', 'server group ("" to clear)')
    .option('--contacts <on|off>', 'sync contacts', onOff)
    .option('--calendar <on|off>', 'sync the calendar', onOff)
    .option('--json', 'print JSON only')
    .action(
      async (
        logins: string[],
        opts: { group?: string; contacts?: boolean; calendar?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        if (opts.group === undefined && opts.contacts === undefined && opts.calendar === undefined) {
          throw new LiaisonError('Usage', 'nothing to change: give --group, --contacts or --calendar');
        }
        await withApp(cmd, async (app) => {
          const probe = await app.repos.users.setMany(logins, {});
          if (probe.unknown.length > 0)
            throw new LiaisonError('Usage', `unknown user: ${probe.unknown.join(', ')}`);
          const result = await app.repos.users.setMany(logins, {
            ...(opts.group !== undefined ? { serverGroup: opts.group } : {}),
            ...(opts.contacts !== undefined ? { contactsEnabled: opts.contacts } : {}),
            ...(opts.calendar !== undefined ? { calendarEnabled: opts.calendar } : {}),
          });
          if (opts.json) printJson(result);
          else say(`Updated ${result.updated.length} user(s): ${result.updated.join(', ')}`);
        });
      },
    );
}
