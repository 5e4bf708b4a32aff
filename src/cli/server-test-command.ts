import { randomBytes } from 'node:crypto';
import { stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { type MailboxServerRecord, redactUrl, type UserRecord } from '../db/index.js';
import { errorMessage, isLiaisonError, LiaisonError } from '../domain/errors.js';
import { COLLECTION_KINDS } from '../domain/ids.js';
import type { DavServerConfig, ServerCapabilities } from '../mailbox/dav/dav-config.js';
import { VDIR_COLLECTION_FOLDER } from '../mailbox/vdir/vdir-mailbox-server.js';
import type { App } from '../main.js';
import { redactCredential } from '../secrets/server-credentials.js';
import { withApp } from './context.js';
import { credentialsOf } from './credential-input.js';
import { printJson, printTable, say } from './output.js';

/**
 * What `liaison server test` needs from the application to test a CardDAV/CalDAV server:
 * connect with `config`, discover, and report what the server supports — for `account`'s
 * mailbox when given, else for the service account's own. Rejects with a `LiaisonError`
 * (`AccessDenied` for refused credentials, `Unavailable` when the server cannot be
 * reached) whose message holds no credential.
 */
export interface ServerTester {
  testServer(config: DavServerConfig, account?: string): Promise<ServerCapabilities>;
}

/** One check of a vdir server. */
interface Check {
  readonly check: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The outcome of `server test`, as printed with `--json`. */
interface TestResult {
  readonly ok: boolean;
  readonly server: string;
  readonly kind: string;
  readonly url: string;
  readonly account: string | null;
  readonly checks?: readonly Check[];
  readonly capabilities?: ServerCapabilities;
  readonly error?: { readonly kind: string; readonly message: string };
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** Writes and removes a small file: the only honest test of writability (read-only mounts, ACLs). */
async function canWrite(dir: string): Promise<string | null> {
  const probe = join(dir, `.liaison-write-test-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeFile(probe, 'liaison server test\n', { flag: 'wx' });
    await unlink(probe);
    return null;
  } catch (e) {
    return errorMessage(e);
  }
}

/** Checks that a vdir server's folder exists and is writable, and the user's mailbox folders when one is named. */
async function testVdir(record: MailboxServerRecord, user: UserRecord | null): Promise<TestResult> {
  const checks: Check[] = [];
  const folderOk = await isFolder(record.url);
  checks.push({
    check: 'folder',
    ok: folderOk,
    detail: folderOk ? `${record.url} exists` : `${record.url} does not exist or is not a folder`,
  });
  if (folderOk) {
    const failure = await canWrite(record.url);
    checks.push({
      check: 'writable',
      ok: failure === null,
      detail: failure === null ? 'yes' : `cannot write in ${record.url}: ${failure}`,
    });
  }
  if (user !== null) {
    for (const kind of COLLECTION_KINDS) {
      const dir = join(record.url, user.mailboxAccount, VDIR_COLLECTION_FOLDER[kind]);
      const ok = await isFolder(dir);
      checks.push({ check: `mailbox ${kind}`, ok, detail: ok ? `${dir} exists` : `${dir} is missing` });
    }
  }
  const failed = checks.find((c) => !c.ok);
  return {
    ok: failed === undefined,
    server: record.name,
    kind: record.kind,
    url: record.url,
    account: user?.mailboxAccount ?? null,
    checks,
    ...(failed
      ? { error: { kind: 'Unavailable', message: `mailbox server ${record.name}: ${failed.detail}` } }
      : {}),
  };
}

/** The plain sentence for a failed DAV test; never a credential, whatever the error text holds. */
function failureMessage(
  e: unknown,
  record: MailboxServerRecord,
  config: DavServerConfig,
  account: string | null,
) {
  const detail = redactCredential(errorMessage(e), config.auth);
  const url = redactUrl(record.url);
  const login = config.auth.kind === 'basic' ? ` (account ${config.auth.username})` : '';
  if (isLiaisonError(e, 'AccessDenied')) {
    const mailbox = account === null ? '' : `, or that account may not open mailbox ${account}`;
    return `wrong password for server ${record.name}${login}${mailbox}: ${detail}`;
  }
  if (isLiaisonError(e, 'Unavailable') || isLiaisonError(e, 'RateLimited')) {
    return `server ${record.name} unreachable at ${url}: ${detail}`;
  }
  if (isLiaisonError(e, 'NotFound')) {
    return `server ${record.name} at ${url} has no CardDAV/CalDAV mailbox${account === null ? '' : ` for ${account}`}: ${detail}`;
  }
  return `testing server ${record.name} at ${url} failed: ${detail}`;
}

async function testDav(app: App, record: MailboxServerRecord, user: UserRecord | null): Promise<TestResult> {
  // Decrypt first: a missing or wrong key is reported as such, whatever this build can test.
  const config = await credentialsOf(app).davConfig(record, user);
  const tester = (app as App & Partial<ServerTester>).testServer;
  if (typeof tester !== 'function') {
    throw new LiaisonError('Config', `this build cannot test servers of kind ${record.kind}`, {
      context: { server: record.name },
    });
  }
  const account = user?.mailboxAccount ?? null;
  const base = { server: record.name, kind: record.kind, url: record.url, account };
  try {
    const capabilities = await tester.call(app, config, account ?? undefined);
    const missing = user === null ? [] : missingCollections(user, capabilities);
    if (missing.length > 0) {
      const where = capabilities.principal === null ? '' : ` (looked in ${capabilities.principal})`;
      const message = `mailbox ${account} on server ${record.name} has no ${missing.join(' and no ')} to sync${where}: create it in a mail client, or run \`liaison user set ${user!.login} --create-collections\``;
      return { ok: false, ...base, capabilities, error: { kind: 'NotFound', message } };
    }
    return { ok: true, ...base, capabilities };
  } catch (e) {
    const kind = isLiaisonError(e) ? e.kind : 'Unavailable';
    return { ok: false, ...base, error: { kind, message: failureMessage(e, record, config, account) } };
  }
}

/** The collections a user syncs that the examined mailbox does not have. */
function missingCollections(user: UserRecord, c: ServerCapabilities): string[] {
  const missing: string[] = [];
  if (user.contactsEnabled && c.addressbook === null) missing.push('address book');
  if (user.calendarEnabled && c.calendar === null) missing.push('calendar');
  return missing;
}

/** What a capability asked of collections reads when there was none to ask. */
function unknown(forUser: boolean): string {
  return forUser
    ? 'unknown: the mailbox has no address book or calendar to ask'
    : 'unknown: no such collection to ask (name a user with --user)';
}

function printCapabilities(c: ServerCapabilities, forUser: boolean): void {
  const yesNo = (b: boolean | null) => (b === null ? unknown(forUser) : b ? 'yes' : 'no');
  printTable(
    ['CAPABILITY', 'VALUE'],
    [
      ['account', c.account ?? '(the service account)'],
      ['principal', c.principal ?? '-'],
      ['address book', c.addressbook ?? '-'],
      ['calendar', c.calendar ?? '-'],
      ['sync-collection', yesNo(c.syncCollection)],
      ['ctag', yesNo(c.ctag)],
      ['multiget', yesNo(c.multiget)],
      ['VJOURNAL', yesNo(c.vjournal)],
      ['dead properties', yesNo(c.deadProperties)],
      ['auto-scheduling', yesNo(c.autoSchedule)],
      ['marker placement', c.markerPlacement ?? unknown(forUser)],
    ],
  );
}

/** Registers `liaison server test NAME [--user LOGIN] [--json]`. */
export function registerServerTest(server: Command): void {
  server
    .command('test')
    .description('connect to a server and show what it supports (exit 1 when it cannot be used)')
    .argument('<name>', 'the server')
    .option('--user <login>', "examine this user's mailbox, with their own credentials when they have some")
    .option('--json', 'print JSON only')
    .action(async (name: string, opts: { user?: string; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const record = await app.repos.servers.get(name);
        if (!record)
          throw new LiaisonError('Usage', `unknown mailbox server ${name}: see \`liaison server list\``);
        let user: UserRecord | null = null;
        if (opts.user !== undefined) {
          user = await app.repos.users.get(opts.user);
          if (!user) throw new LiaisonError('Usage', `unknown user ${opts.user}: see \`liaison user list\``);
          if (user.server !== name) {
            throw new LiaisonError(
              'Usage',
              `user ${user.login} is on mailbox server ${user.server}, not ${name}`,
            );
          }
        }
        let result: TestResult;
        if (record.kind === 'vdir') result = await testVdir(record, user);
        else if (record.kind === 'dav') result = await testDav(app, record, user);
        else throw new LiaisonError('Config', `this build cannot test servers of kind ${record.kind}`);

        if (opts.json) await printJson(result);
        else if (result.capabilities) {
          say(`Connected to mailbox server ${record.name} (${record.kind}) at ${redactUrl(record.url)}`);
          printCapabilities(result.capabilities, user !== null);
        } else if (result.checks) {
          say(`Mailbox server ${record.name} (${record.kind})`);
          printTable(
            ['CHECK', 'RESULT'],
            result.checks.map((c) => [c.check, c.ok ? c.detail : `FAILED: ${c.detail}`]),
          );
        }
        if (result.error) {
          // With --json the error is in the JSON printed above, and nowhere else.
          if (!opts.json) process.stderr.write(`liaison: ${result.error.message}\n`);
          process.exitCode = 1;
        }
      });
    });
}
