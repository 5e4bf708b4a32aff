import { type Command, InvalidArgumentError, Option } from 'commander';
import type { UserRecord } from '../db/index.js';
import { LiaisonError } from '../domain/errors.js';
import type { CollectionKind } from '../domain/ids.js';
import {
  type FirmPreferences,
  listReviews,
  NEW_CONTACTS_PREFERENCES,
  type NewContactsPreference,
  type PreferencesPatch,
  setPreferences,
  UPDATES_PREFERENCES,
  type UpdatesPreference,
} from '../firm/index.js';
import type { DavAuth } from '../mailbox/dav/dav-config.js';
import type { UserCredential } from '../secrets/server-credentials.js';
import { onOff, withApp } from './context.js';
import {
  authFromFlags,
  type CredentialFlags,
  credentialsOf,
  hasCredentialFlags,
} from './credential-input.js';
import { printJson, printTable, say } from './output.js';

const onOffText = (b: boolean) => (b ? 'on' : 'off');

/** Whose credentials open the user's mailbox, for listings: never the secret. */
const credentialText = (u: UserRecord) =>
  u.hasSecret ? (u.mailboxUsername === null ? 'own token' : `own (${u.mailboxUsername})`) : 'server';

/**
 * Parses a firm sync preference. The flag given twice with different values is refused
 * rather than the last one silently winning: `user set` often changes many users at once.
 */
function preference<T extends string>(allowed: readonly T[]) {
  return (value: string, previous: T | undefined): T => {
    const chosen = allowed.find((a) => a === value);
    if (chosen === undefined) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    if (previous !== undefined && previous !== chosen) {
      throw new InvalidArgumentError(`conflicts with ${previous}, given before`);
    }
    return chosen;
  };
}

/** A user's own credential from the flags; users have no `--no-auth`. */
function userCredential(auth: DavAuth | undefined): UserCredential | undefined {
  if (auth?.kind === 'none') throw new LiaisonError('Usage', 'a user cannot be set to --no-auth');
  return auth;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('users and their mailbox settings');

  user
    .command('add')
    .description('add a user (sync is off until turned on)')
    .argument('<login>', 'the user login')
    .requiredOption('--name <name>', 'full name (required)')
    .requiredOption('--server <name>', 'mailbox server (required)')
    .requiredOption('--mailbox <account>', "the user's mailbox account on that server (required)")
    .option('--group <group>', 'server group of the user contact list')
    .addOption(new Option('--contacts <on|off>', 'sync contacts').argParser(onOff).default(false, 'off'))
    .addOption(new Option('--calendar <on|off>', 'sync the calendar').argParser(onOff).default(false, 'off'))
    .option('--username <login>', "dav: the user's own login, instead of the server's service account")
    .option(
      '--password-env <VAR>',
      "dav: env variable holding the user's password (prompted for on a terminal)",
    )
    .option('--token-env <VAR>', "dav: env variable holding the user's bearer token")
    .option(
      '--create-collections',
      "dav: create the user's address book and calendar when the server has none (e.g. Radicale)",
    )
    .option('--json', 'print JSON only')
    .action(
      async (
        login: string,
        opts: CredentialFlags & {
          createCollections?: boolean;
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
          if (await app.repos.users.get(login)) {
            throw new LiaisonError('Usage', `user ${login} exists already: see \`liaison user list\``);
          }
          // Two users on one mailbox would sync each other's items into their lists.
          const sharing = (await app.repos.users.list({ server: server.name })).find(
            (u) => u.mailboxAccount === opts.mailbox,
          );
          if (sharing) {
            throw new LiaisonError(
              'Usage',
              `mailbox ${opts.mailbox} on server ${server.name} belongs to user ${sharing.login} already`,
            );
          }
          const auth = userCredential(await authFromFlags(opts, `server ${server.name} for user ${login}`));
          const credential =
            auth === undefined ? undefined : await credentialsOf(app).sealUserCredential(server, login, auth);
          // Create the mailbox first, so that a user whose mailbox cannot be made is not
          // added: always for vdir folders; on a DAV server only when asked, since adding
          // users in bulk must not depend on the server being up and most servers make a
          // user's collections themselves (`server test NAME --user LOGIN` checks them).
          if (server.kind === 'vdir' || opts.createCollections) {
            await (await app.mailboxServer(server)).ensureMailbox(
              opts.mailbox,
              syncedKinds(opts.contacts, opts.calendar),
            );
          }
          const rec = await app.repos.users.add({
            login,
            displayName: opts.name,
            server: opts.server,
            mailboxAccount: opts.mailbox,
            ...(opts.group !== undefined ? { serverGroup: opts.group } : {}),
            contactsEnabled: opts.contacts,
            calendarEnabled: opts.calendar,
            ...(credential !== undefined ? { credential } : {}),
          });
          if (opts.json) await printJson(rec);
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
        // The stored preferences hold raw keys; firm sync reads them with the defaults filled in.
        const firmUsers = await app.firmDeps().users.byIds(list.map((u) => u.id));
        const prefs = new Map(firmUsers.map((u) => [u.id, u.preferences]));
        const firmOf = (u: UserRecord): FirmPreferences | null => prefs.get(u.id) ?? null;
        if (opts.json) await printJson(list.map((u) => ({ ...u, firmSync: firmOf(u) })));
        else {
          printTable(
            [
              'LOGIN',
              'NAME',
              'SERVER',
              'MAILBOX',
              'CREDENTIALS',
              'GROUP',
              'CONTACTS',
              'CALENDAR',
              'UPDATES',
              'NEW CONTACTS',
            ],
            list.map((u) => {
              const firm = firmOf(u);
              return [
                u.login,
                u.displayName,
                u.server,
                u.mailboxAccount,
                credentialText(u),
                u.serverGroup,
                onOffText(u.contactsEnabled),
                onOffText(u.calendarEnabled),
                firm?.updates ?? '',
                firm?.newContacts ?? '',
              ];
            }),
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
    .option('--username <login>', "dav: the user's own login (one user at a time)")
    .option(
      '--password-env <VAR>',
      "dav: env variable holding the user's password (prompted for on a terminal)",
    )
    .option('--token-env <VAR>', "dav: env variable holding the user's bearer token")
    .option('--server-account', "forget the user's own credentials: use the server's service account again")
    .option(
      '--create-collections',
      "dav: create the users' address book and calendar where the server has none (e.g. Radicale)",
    )
    .option(
      `--updates <${UPDATES_PREFERENCES.join('|')}>`,
      "firm sync: firm changes reach the user's contacts at once (auto, the default) or wait for review",
      preference(UPDATES_PREFERENCES),
    )
    .option(
      `--new-contacts <${NEW_CONTACTS_PREFERENCES.join('|')}>`,
      "firm sync: the user's new contacts go to the firm list (firm, the default), stay in the user's list (private), or wait for review (ask)",
      preference(NEW_CONTACTS_PREFERENCES),
    )
    .option('--json', 'print JSON only')
    .action(
      async (
        logins: string[],
        opts: CredentialFlags & {
          group?: string;
          contacts?: boolean;
          calendar?: boolean;
          serverAccount?: boolean;
          createCollections?: boolean;
          updates?: UpdatesPreference;
          newContacts?: NewContactsPreference;
          json?: boolean;
        },
        cmd: Command,
      ) => {
        const credentials = hasCredentialFlags(opts) || opts.serverAccount === true;
        const patch: PreferencesPatch = {
          ...(opts.updates !== undefined ? { updates: opts.updates } : {}),
          ...(opts.newContacts !== undefined ? { newContacts: opts.newContacts } : {}),
        };
        const preferences = Object.keys(patch).length > 0;
        if (
          opts.group === undefined &&
          opts.contacts === undefined &&
          opts.calendar === undefined &&
          !credentials &&
          !preferences &&
          !opts.createCollections
        ) {
          throw new LiaisonError(
            'Usage',
            'nothing to change: give --group, --contacts, --calendar, --updates, --new-contacts, credentials, --server-account or --create-collections',
          );
        }
        if (credentials && logins.length !== 1) {
          throw new LiaisonError('Usage', 'credentials are set for one user at a time');
        }
        if (opts.serverAccount && hasCredentialFlags(opts)) {
          throw new LiaisonError('Usage', '--server-account cannot be combined with new credentials');
        }
        await withApp(cmd, async (app) => {
          const probe = await app.repos.users.setMany(logins, {});
          if (probe.unknown.length > 0)
            throw new LiaisonError('Usage', `unknown user: ${probe.unknown.join(', ')}`);
          // Credentials first: they are the part that can fail (key, server kind), and a
          // failure then changes nothing.
          let changed: UserRecord | undefined;
          const [login] = logins;
          if (credentials && login !== undefined) {
            const before = await app.repos.users.get(login);
            const auth = userCredential(
              await authFromFlags(
                opts,
                `server ${before?.server ?? '?'} for user ${login}`,
                before?.mailboxUsername,
              ),
            );
            changed = await credentialsOf(app).setUserCredential(login, auth ?? null);
          }
          const result = await app.repos.users.setMany(logins, {
            ...(opts.group !== undefined ? { serverGroup: opts.group } : {}),
            ...(opts.contacts !== undefined ? { contactsEnabled: opts.contacts } : {}),
            ...(opts.calendar !== undefined ? { calendarEnabled: opts.calendar } : {}),
          });
          if (preferences) await setPreferences(app.firmDeps(), logins, patch);
          const created: string[] = [];
          // What is in place, in words ("address book and calendar") → for which users.
          const inPlace = new Map<string, string[]>();
          if (opts.createCollections) {
            for (const l of logins) {
              const u = (await app.repos.users.get(l))!;
              const server = (await app.repos.servers.get(u.server))!;
              const kinds = syncedKinds(u.contactsEnabled, u.calendarEnabled);
              await (await app.mailboxServer(server, u)).ensureMailbox(u.mailboxAccount, kinds);
              created.push(l);
              const words = kinds.map((k) => (k === 'contacts' ? 'address book' : 'calendar')).join(' and ');
              inPlace.set(words, [...(inPlace.get(words) ?? []), l]);
            }
          }
          const own = changed && {
            login: changed.login,
            mailboxUsername: changed.mailboxUsername,
            hasSecret: changed.hasSecret,
          };
          if (opts.json) {
            await printJson({
              ...result,
              ...(own ? { credentials: own } : {}),
              ...(preferences ? { firmSync: patch } : {}),
              ...(opts.createCollections ? { collectionsEnsured: created } : {}),
            });
          } else {
            say(`Updated ${result.updated.length} user(s): ${result.updated.join(', ')}`);
            if (patch.updates !== undefined) say(`  firm updates: ${patch.updates}`);
            if (patch.updates === 'auto') {
              // Reviews held before stay to be decided: the firm changes in them are not taken up again.
              for (const login of logins) {
                const held = await listReviews(app.firmDeps(), { user: login });
                const updates = held.filter((r) => r.kind === 'update').length;
                if (updates > 0)
                  say(
                    `  ${login}: ${updates} update review(s) held before stay held: liaison review list --user ${login}`,
                  );
              }
            }
            if (patch.newContacts !== undefined) say(`  new contacts: ${patch.newContacts}`);
            for (const [words, users] of inPlace) say(`  ${words} in place for: ${users.join(', ')}`);
            if (changed) {
              say(
                changed.hasSecret
                  ? `User ${changed.login} now opens their mailbox with their own credentials (${changed.mailboxUsername === null ? 'a token' : `login ${changed.mailboxUsername}`}), stored encrypted`
                  : `User ${changed.login} now opens their mailbox with the server's service account`,
              );
            }
          }
        });
      },
    );
}

/** The collections a user syncs, or both when none is on yet (the administrator asked for them). */
function syncedKinds(contacts: boolean, calendar: boolean): CollectionKind[] {
  const kinds: CollectionKind[] = [];
  if (contacts) kinds.push('contacts');
  if (calendar) kinds.push('calendar');
  return kinds.length > 0 ? kinds : ['contacts', 'calendar'];
}
