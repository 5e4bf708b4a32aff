import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { MailboxServerRecord } from '../db/index.js';
import { LiaisonError } from '../domain/errors.js';
import type { DavAuth } from '../mailbox/dav/dav-config.js';
import { davOptionsOf } from '../secrets/dav-server-options.js';
import { oneOf, withApp } from './context.js';
import {
  authFromFlags,
  type CredentialFlags,
  credentialsOf,
  hasCredentialFlags,
} from './credential-input.js';
import { printJson, printTable, say } from './output.js';
import { registerServerTest } from './server-test-command.js';

interface DavFlags extends CredentialFlags {
  readonly insecureSkipTlsVerify?: boolean;
  readonly addressbook?: string;
  readonly calendar?: string;
}

const NEEDS_AUTH =
  'a DAV server needs its service account: --username U --password-env VAR, or --token-env VAR, or --no-auth';

/** Refuses DAV-only flags on a vdir server. */
function refuseDavFlags(flags: DavFlags & { verifyTls?: boolean }): void {
  const collections = flags.addressbook !== undefined || flags.calendar !== undefined;
  if (hasCredentialFlags(flags) || flags.insecureSkipTlsVerify || flags.verifyTls || collections) {
    throw new LiaisonError(
      'Usage',
      'a vdir server takes no credentials, TLS settings nor collection names: those flags are for --kind dav',
    );
  }
}

/** How the server's account logs in, for listings: never the secret. */
function authText(record: MailboxServerRecord): string {
  if (record.kind !== 'dav') return '';
  const o = davOptionsOf(record);
  return o.auth === 'basic' ? `basic (${o.username ?? '?'})` : o.auth;
}

function secretText(record: MailboxServerRecord): string {
  if (record.kind !== 'dav' || davOptionsOf(record).auth === 'none') return '';
  return record.hasSecret ? 'stored' : 'MISSING';
}

function tlsText(record: MailboxServerRecord): string {
  if (record.kind !== 'dav' || !record.url.startsWith('https:')) return '';
  return davOptionsOf(record).tlsSkipVerify ? 'NOT VERIFIED' : 'verified';
}

function addedText(record: MailboxServerRecord, auth: DavAuth): string {
  const login =
    auth.kind === 'basic'
      ? `service account ${auth.username}, password stored encrypted`
      : auth.kind === 'bearer'
        ? 'bearer token stored encrypted'
        : 'no login';
  const tls = davOptionsOf(record).tlsSkipVerify ? '; TLS certificate NOT verified' : '';
  return `Added mailbox server ${record.name} (dav, ${record.url}); ${login}${tls}`;
}

export function registerServer(program: Command): void {
  const server = program.command('server').description('mailbox servers');

  server
    .command('add')
    .description('add a mailbox server')
    .argument('<name>', 'a name for the server')
    .requiredOption(
      '--kind <kind>',
      'vdir (a folder of mailboxes) or dav (CardDAV/CalDAV)',
      oneOf('vdir', 'dav'),
    )
    .requiredOption(
      '--url <url>',
      'vdir: the folder holding one folder per mailbox; dav: the server address discovery starts from',
    )
    .option('--username <login>', 'dav: the service account, allowed into every mailbox')
    .option(
      '--password-env <VAR>',
      "dav: env variable holding the account's password (prompted for on a terminal)",
    )
    .option('--token-env <VAR>', 'dav: env variable holding a bearer token, instead of username and password')
    .option('--no-auth', 'dav: the server needs no login')
    .option('--insecure-skip-tls-verify', "dav: do not verify the server's TLS certificate")
    .option(
      '--addressbook <name>',
      "dav: sync this address book in each mailbox instead of the user's default",
    )
    .option('--calendar <name>', "dav: sync this calendar in each mailbox instead of the user's default")
    .option('--json', 'print JSON only')
    .action(
      async (
        name: string,
        opts: DavFlags & { kind: 'vdir' | 'dav'; url: string; json?: boolean },
        cmd: Command,
      ) => {
        if (opts.kind === 'vdir') {
          refuseDavFlags(opts);
          const url = resolve(opts.url);
          await mkdir(url, { recursive: true });
          await withApp(cmd, async (app) => {
            const rec = await app.repos.servers.add({ name, kind: opts.kind, url });
            if (opts.json) await printJson(rec);
            else say(`Added mailbox server ${rec.name} (${rec.kind}, ${rec.url})`);
          });
          return;
        }
        await withApp(cmd, async (app) => {
          if (await app.repos.servers.get(name)) {
            throw new LiaisonError('AlreadyExists', `A mailbox server named ${name} already exists`);
          }
          const auth = await authFromFlags(opts, `server ${name}`);
          if (auth === undefined) throw new LiaisonError('Usage', NEEDS_AUTH);
          const rec = await credentialsOf(app).addDavServer({
            name,
            url: opts.url,
            auth,
            tlsSkipVerify: opts.insecureSkipTlsVerify === true,
            ...(opts.addressbook !== undefined ? { addressbook: opts.addressbook } : {}),
            ...(opts.calendar !== undefined ? { calendar: opts.calendar } : {}),
          });
          if (opts.json) await printJson(rec);
          else say(addedText(rec, auth));
        });
      },
    );

  server
    .command('set')
    .description("change a server's URL, credential or TLS setting")
    .argument('<name>', 'the server')
    .option('--url <url>', 'a new folder (vdir) or address (dav); stored credentials are re-encrypted for it')
    .option('--username <login>', 'dav: a new service account (its password is needed too)')
    .option('--password-env <VAR>', 'dav: env variable holding the new password (prompted for on a terminal)')
    .option('--token-env <VAR>', 'dav: env variable holding a new bearer token')
    .option('--no-auth', 'dav: the server needs no login')
    .option('--insecure-skip-tls-verify', "dav: stop verifying the server's TLS certificate")
    .option('--verify-tls', "dav: verify the server's TLS certificate again")
    .option('--addressbook <name>', 'dav: the address book to sync in each mailbox ("" for the default)')
    .option('--calendar <name>', 'dav: the calendar to sync in each mailbox ("" for the default)')
    .option('--json', 'print JSON only')
    .action(
      async (
        name: string,
        opts: DavFlags & { url?: string; verifyTls?: boolean; json?: boolean },
        cmd: Command,
      ) => {
        if (opts.insecureSkipTlsVerify && opts.verifyTls) {
          throw new LiaisonError(
            'Usage',
            '--insecure-skip-tls-verify and --verify-tls contradict each other',
          );
        }
        const tlsSkipVerify = opts.insecureSkipTlsVerify ? true : opts.verifyTls ? false : undefined;
        const collections = opts.addressbook !== undefined || opts.calendar !== undefined;
        if (
          opts.url === undefined &&
          !hasCredentialFlags(opts) &&
          tlsSkipVerify === undefined &&
          !collections
        ) {
          throw new LiaisonError(
            'Usage',
            'nothing to change: give --url, a credential, a TLS flag, --addressbook or --calendar',
          );
        }
        await withApp(cmd, async (app) => {
          const rec = await app.repos.servers.get(name);
          if (!rec)
            throw new LiaisonError('Usage', `unknown mailbox server ${name}: see \`liaison server list\``);
          let updated: MailboxServerRecord;
          if (rec.kind === 'dav') {
            const auth = await authFromFlags(opts, `server ${name}`, davOptionsOf(rec).username);
            updated = await credentialsOf(app).updateDavServer(name, {
              ...(opts.url !== undefined ? { url: opts.url } : {}),
              ...(auth !== undefined ? { auth } : {}),
              ...(tlsSkipVerify !== undefined ? { tlsSkipVerify } : {}),
              ...(opts.addressbook !== undefined ? { addressbook: opts.addressbook || null } : {}),
              ...(opts.calendar !== undefined ? { calendar: opts.calendar || null } : {}),
            });
          } else {
            refuseDavFlags(opts);
            const url = resolve(opts.url ?? rec.url);
            await mkdir(url, { recursive: true });
            updated = await app.repos.servers.update(name, { url });
          }
          if (opts.json) await printJson(updated);
          else {
            say(
              `Updated mailbox server ${updated.name} (${updated.kind}, ${updated.url})${updated.kind === 'dav' ? `; auth ${authText(updated)}${updated.hasSecret ? ', credential stored encrypted' : ''}` : ''}`,
            );
          }
        });
      },
    );

  server
    .command('list')
    .description('list mailbox servers (credentials are never shown, only whether one is stored)')
    .option('--json', 'print JSON only')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.repos.servers.list();
        if (opts.json) await printJson(list);
        else
          printTable(
            ['NAME', 'KIND', 'URL', 'AUTH', 'SECRET', 'TLS'],
            list.map((s) => [s.name, s.kind, s.url, authText(s), secretText(s), tlsText(s)]),
          );
      });
    });

  registerServerTest(server);
}
