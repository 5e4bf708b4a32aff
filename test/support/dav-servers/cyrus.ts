/**
 * A throwaway Cyrus IMAP server with CalDAV and CardDAV, for the tests and the benchmarks.
 *
 * Cyrus is the production-like DAV server of the three the suite runs: fast, it pages
 * sync-collection results with 507 (when the client sends DAV:limit), and it refuses one
 * UID in two calendars of a user. Debian's packages (`cyrus-imapd`, `cyrus-caldav`,
 * `cyrus-common`, `sasl2-bin`) are built to run as a system service reading /etc; this
 * harness runs a private instance instead, and what follows is what it takes (measured
 * on Debian 12, Cyrus 3.6.1).
 *
 * ## Layout
 *
 * Everything lives in one fresh folder, owned by the server's account, under /dev/shm when
 * there is one (Cyrus fsyncs every write: 1,200 PUTs took 2.6 s there, 8.7 s on disk),
 * else under the temporary directory (/tmp when a parent of that is not searchable):
 *
 *     imapd.conf  cyrus.conf  sasldb2  syslog-to-file.{c,so}
 *     config/{db,socket,proc,lock}   configdirectory: mailboxes.db, per-service lock files
 *     spool/                         partition-default: the mailboxes, hence the DAV items
 *     run/                           master.pid and the unix socket paths nobody listens on
 *     log/cyrus.log                  every process's syslog lines (see "Logging")
 *     log/master.log                 master's own stdout and stderr
 *
 * ## Starting
 *
 * `master -C imapd.conf -M cyrus.conf -p run/master.pid -D`, spawned directly as the
 * `cyrus` user and group `mail` (the package creates both) when the tests run as root, as
 * the current user otherwise; it is the leader of a process group of its own, which every
 * service it forks shares (see "Stopping"). `-D` keeps master in the foreground with its
 * stdio open (`-d` would daemonize). master does NOT hand its `-C` on to the processes it
 * starts: without `-C` in each `cmd=` of cyrus.conf the services and the START tasks
 * read /etc/imapd.conf and work on the system's /var/lib/cyrus.
 *
 * cyrus.conf has only what the tests use:
 * - START `recover` (`ctl_cyrusdb -r`): opens or repairs the databases; after a kill it
 *   is what makes the restart clean.
 * - SERVICES `imap` on 127.0.0.1 (a user's first IMAP LOGIN creates the user's INBOX, see
 *   "Users") and `http` on 127.0.0.1 (CalDAV, CardDAV). Both on free ports, `prefork=0`:
 *   master forks a process at the first connection.
 * - No EVENTS, no lmtp, idled, notifyd or sieve: nothing delivers mail, nothing sends any.
 *
 * ## imapd.conf, line by line
 *
 * - `configdirectory`, `partition-default`, `defaultpartition`: the private folders above.
 * - `lmtpsocket`, `idlesocket`, `notifysocket`: moved into run/ so nothing points at
 *   /run/cyrus; no process listens on them.
 * - `servername: localhost`: the name in greetings, and the SASL realm that users are
 *   stored under in sasldb2 (`saslpasswd2 -u localhost`); without it the realm is the
 *   host name and every login fails with "user not found".
 * - `cyrus_user`, `cyrus_group`: the account the server already runs as, so it never
 *   tries to switch (it would need root).
 * - `admins: <admin>`: the administrator. A Cyrus admin may do everything over IMAP
 *   (create mailboxes, set ACLs) but does NOT get read rights on mailboxes through DAV:
 *   `addUser` grants them with IMAP SETACL (see "Users").
 * - `sasl_pwcheck_method: auxprop`, `sasl_auxprop_plugin: sasldb`, `sasl_sasldb_path`:
 *   passwords in a private sasldb2 written with `saslpasswd2 -f`, so a wrong password is
 *   refused (401) as on a real server. Debian's libsasl2 also has `alwaystrue` (accepts
 *   any password), rejected here because tests of "wrong password" need a real check.
 * - `sasl_mech_list: PLAIN LOGIN`: plaintext mechanisms only; the others (SCRAM, DIGEST)
 *   would need secrets the sasldb does not store this way and are never used.
 * - `allowplaintext: yes`: plaintext passwords without TLS; httpd offers HTTP Basic only
 *   when this is on (or over TLS). Fine on loopback.
 * - `virtdomains: off`: user names without @domain.
 * - `unixhierarchysep: yes`: '/' separates mailbox levels (the 3.x default, written out
 *   because the IMAP mailbox names below depend on it: `user/alice/#calendars/Default`).
 * - `httpmodules: caldav carddav`: the DAV services (`/dav/calendars/...`,
 *   `/dav/addressbooks/...`, `/dav/principals/...`, `/.well-known/caldav|carddav`).
 * - `caldav_allowscheduling: off` (`on` with `scheduling: true`): no RFC 6638 implicit
 *   scheduling; with it on, an event with attendees written here is delivered to the
 *   other local users' scheduling inboxes. No `imipnotifier` is set and notifyd does not
 *   run, so no iMIP mail can leave the machine either way.
 * - `fastmailsharing: yes`: lets a user other than the owner (the admin) use the owner's
 *   URLs. Without it Cyrus 3.6 answers 301 to any request for another user's collection,
 *   redirecting to a sharing URL of the requester's own (`/dav/addressbooks/user/admin/
 *   alice.Default`; for a home set `alice.(null)`, which does not work).
 * - `autocreate_quota: 0`: an IMAP LOGIN creates the user's INBOX (below 0, the default,
 *   it does not); 0 means no quota.
 * - `imapidlepoll: 0`: no IMAP IDLE, so imapd does not try to notify the idled that is
 *   not running (one error line per mailbox change otherwise).
 * - `master_bind_errors_fatal: yes`: a port taken between probing and binding makes
 *   master exit ("unable to bind") instead of running on without that service; the
 *   harness then tries other ports.
 *
 * ## Users
 *
 * `addUser(name)` does what it takes for both DAV homes to answer 207 with a `Default`
 * calendar and a `Default` address book, for the user and for the admin:
 * 1. `saslpasswd2` stores the password (run as the server account, so the file keeps its
 *    owner).
 * 2. One IMAP LOGIN as the user creates the INBOX (autocreate). Until then every DAV
 *    request of the user fails with 500 ("could not autoprovision ... Invalid user").
 * 3. One PROPFIND as the user: httpd creates the calendar home with its `Default` calendar
 *    (and `Attachments`), and the address book home with `Default`, at the first
 *    authenticated request of that user. An admin's requests never provision anything.
 * 4. One IMAP session as the admin sets an ACL entry for the admin on both homes and on
 *    every collection under them. Collections created later (by MKCALENDAR, by the user or
 *    by the admin) copy their parent's ACL, so the admin keeps access to them.
 *
 * What the admin then can and cannot do over DAV: everything on a collection or an item
 * addressed by URL (PROPFIND, REPORT, GET, PUT, DELETE, MKCALENDAR in the home). But a
 * PROPFIND Depth 1 on ANOTHER user's home lists only the home itself: with fastmailsharing
 * Cyrus lists the collections of the authenticated user plus those found through its
 * reverse ACL index, and admins are left out of that index. Cyrus's own way for a service
 * account, the `Authorize-As` header, is refused outside a Murder ("proxy authz attempted
 * on non-Murder backend"). Discovery as the admin therefore has to name `Default/` (or
 * log in as the user).
 *
 * ## sync-collection (RFC 6578)
 *
 * Cyrus 3.6 truncates a sync-collection only when the client sends DAV:limit/nresults:
 * its own limit is UINT32_MAX - 1 (imap/http_dav.c, report_sync_col), and 1,200 contacts
 * came back here in one 207 without a 507 (in 14 ms; 7 ms with a current token). With a
 * limit it returns at most that many responses plus one `507` response for the collection
 * (error DAV:number-of-matches-within-limits) and a token to continue from. Tokens look
 * like `data:,<uidvalidity>-<modseq>`; one from an initial sync that was cut short carries
 * a third number, the modseq the initial sync started from. A bad or stale token answers
 * 403 with DAV:valid-sync-token.
 *
 * ## Stopping and restarting
 *
 * SIGTERM goes to master alone; master passes it on to its process group and exits once
 * its children have. Two traps, both measured here:
 * - When SIGTERM arrives while master is forking a service for a fresh connection, master
 *   leaves that child unreaped and spins in select() for good. So readiness is probed
 *   over HTTP only (never with a bare connection to the IMAP port right before returning),
 *   and whatever is still alive 3 s after SIGTERM is killed through the group.
 * - After SIGKILL, the services are reparented to PID 1, and this machine's PID 1 reaps
 *   them only every second or two; kill(-pgid, 0) keeps finding those zombies. The
 *   harness reads /proc instead and waits for live processes only (a kill-restart then
 *   takes about 70 ms instead of 1-2 s).
 * `restart()` starts master again with the same files, hence the same ports and data; its
 * START `recover` repairs the databases after a SIGKILL.
 *
 * ## Logging
 *
 * Cyrus logs through syslog(3) only, and this machine has no syslog daemon (no
 * /dev/log): glibc then drops every line. `syslog_prefix` only renames the lines, master's
 * `-L` only catches master's own stdout and stderr, and `CYRUSINIT_PERROR` exists for
 * command-line tools only. So the harness compiles a small preload library
 * (cyrus-syslog-shim.ts, with `cc`, about 0.1 s) that replaces syslog(3) and appends each
 * line to log/cyrus.log; master passes LD_PRELOAD on to everything it starts. When no C
 * compiler is found (env `CC`, else `cc`) the server runs without it and log/README says
 * that Cyrus's own lines are lost.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { ImapSession, listedMailbox, quote } from './cyrus-imap-session.js';
import { buildSyslogShim, SYSLOG_FILE_VARIABLE } from './cyrus-syslog-shim.js';
import { freePort, scratchBase } from './server-process.js';

const execFileAsync = promisify(execFile);

/** Folder holding Cyrus's programs, when they are not where Debian puts them. */
export const CYRUS_BIN_VARIABLE = 'LIAISON_CYRUS_BIN';

export interface CyrusOptions {
  /** Users whose mailboxes exist when the server is returned. */
  readonly users?: readonly string[];
  /**
   * RFC 6638 implicit scheduling (`caldav_allowscheduling`): off unless asked for. Even on,
   * nothing leaves the machine (no iMIP notifier runs); invitations land in the other local
   * users' scheduling inboxes.
   */
  readonly scheduling?: boolean;
}

export interface CyrusRestartOptions {
  /**
   * SIGTERM (the default) lets master end its children; SIGKILL kills every Cyrus process
   * at once, as a crash would. Either way the START `recover` task runs on the way up.
   */
  readonly signal?: 'SIGTERM' | 'SIGKILL';
}

export interface CyrusServer {
  /** Root of the HTTP service, `http://127.0.0.1:PORT/`; DAV lives under `dav/`. */
  readonly url: string;
  /** IMAP port on 127.0.0.1 (plaintext LOGIN allowed). */
  readonly imapPort: number;
  /** A Cyrus admin, granted full rights on every user's DAV collections by `addUser`. */
  readonly adminUser: string;
  readonly adminPassword: string;
  /** Users added so far, in order. */
  readonly users: readonly string[];
  userPassword(user: string): string;
  /** Creates a user and the user's mailbox, default calendar and default address book. */
  addUser(user: string): Promise<void>;
  /** `${url}dav/principals/user/NAME/` */
  principalUrl(user: string): string;
  /** `${url}dav/calendars/user/NAME/` (the calendar-home-set) */
  calendarHomeUrl(user: string): string;
  /** `${url}dav/addressbooks/user/NAME/` (the addressbook-home-set) */
  addressBookHomeUrl(user: string): string;
  /** Stops every Cyrus process and removes the folder. */
  stop(): Promise<void>;
  /** Stops and starts again on the same ports with the same data. */
  restart(options?: CyrusRestartOptions): Promise<void>;
  /** `cyrus.log` (all Cyrus processes) and `master.log`; removed by `stop()`. */
  readonly logDir: string;
}

const ADMIN = 'admin';
/** SASL realm the users are stored under; must be the `servername` of imapd.conf. */
const REALM = 'localhost';
/** Owner rights plus the scheduling ones (7 reply, 8 invite, 9 read free-busy). */
const ADMIN_RIGHTS = 'lrswipkxtecdan789';
/** IMAP atoms, URL path segments and mailbox names all at once; no dots, no '@'. */
const USER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const START_TIMEOUT_MS = 30_000;
/** How long master may take to end its children and itself after SIGTERM. */
const TERM_GRACE_MS = 3_000;

interface Programs {
  readonly master: string;
  readonly ctlCyrusdb: string;
  readonly imapd: string;
  readonly httpd: string;
  readonly saslpasswd2: string;
}

/** Cyrus's programs, or an error naming the Debian package that brings each missing one. */
export function findCyrusPrograms(): Programs {
  const fromEnv = process.env[CYRUS_BIN_VARIABLE];
  const bin = fromEnv !== undefined && fromEnv !== '' ? fromEnv : '/usr/lib/cyrus/bin';
  const saslpasswd2 = ['/usr/sbin/saslpasswd2', '/usr/bin/saslpasswd2'].find((p) => existsSync(p));
  const wanted: [keyof Programs, string | undefined, string][] = [
    ['master', join(bin, 'master'), 'cyrus-common'],
    ['ctlCyrusdb', join(bin, 'ctl_cyrusdb'), 'cyrus-common'],
    ['imapd', join(bin, 'imapd'), 'cyrus-imapd'],
    ['httpd', join(bin, 'httpd'), 'cyrus-caldav'],
    ['saslpasswd2', saslpasswd2, 'sasl2-bin'],
  ];
  const missing = wanted.filter(([, path]) => path === undefined || !existsSync(path));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map(([, , pkg]) => pkg))];
    throw new Error(
      `Cyrus IMAP is not installed: missing ${missing.map(([name, path]) => path ?? name).join(', ')}. ` +
        `Install the Debian packages ${packages.join(', ')} (apt-get install cyrus-imapd cyrus-caldav sasl2-bin; ` +
        `.ci/run does), or set ${CYRUS_BIN_VARIABLE} to the folder holding master, imapd and httpd.`,
    );
  }
  return {
    master: join(bin, 'master'),
    ctlCyrusdb: join(bin, 'ctl_cyrusdb'),
    imapd: join(bin, 'imapd'),
    httpd: join(bin, 'httpd'),
    saslpasswd2: saslpasswd2!,
  };
}

interface Account {
  readonly uid: number;
  readonly gid: number;
  readonly user: string;
  readonly group: string;
}

/** As root: the package's `cyrus` user in group `mail`. Otherwise whoever runs the tests. */
async function serverAccount(): Promise<Account> {
  const id = async (...args: string[]) =>
    (await execFileAsync('id', args, { encoding: 'utf8' })).stdout.trim();
  if (process.getuid?.() === 0) {
    try {
      const uid = Number(await id('-u', 'cyrus'));
      const group = 'mail';
      const gid = Number(
        (await execFileAsync('getent', ['group', group], { encoding: 'utf8' })).stdout.split(':')[2],
      );
      if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('bad id');
      return { uid, gid, user: 'cyrus', group };
    } catch {
      throw new Error(
        'The system user "cyrus" (group "mail") is missing: it comes with the Debian package cyrus-common ' +
          '(apt-get install cyrus-imapd cyrus-caldav sasl2-bin).',
      );
    }
  }
  const me = userInfo();
  return { uid: me.uid, gid: me.gid, user: me.username, group: await id('-gn') };
}

/** scratchBase() (/dev/shm: Cyrus fsyncs every write), if the server account can reach it. */
function tempBase(): string {
  const base = scratchBase();
  for (let dir = base; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return '/tmp';
    if (dirname(dir) === dir) return base;
  }
}

/** What `file` holds past byte `from`, at most its last `chars` characters. */
function tail(file: string, from = 0, chars = 3000): string {
  try {
    return readFileSync(file).subarray(from).toString('utf8').slice(-chars);
  } catch {
    return '';
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

interface Paths {
  readonly root: string;
  readonly config: string;
  readonly spool: string;
  readonly run: string;
  readonly logDir: string;
  readonly imapdConf: string;
  readonly cyrusConf: string;
  readonly sasldb: string;
  readonly pidFile: string;
}

function layout(root: string): Paths {
  return {
    root,
    config: join(root, 'config'),
    spool: join(root, 'spool'),
    run: join(root, 'run'),
    logDir: join(root, 'log'),
    imapdConf: join(root, 'imapd.conf'),
    cyrusConf: join(root, 'cyrus.conf'),
    sasldb: join(root, 'sasldb2'),
    pidFile: join(root, 'run', 'master.pid'),
  };
}

function imapdConf(paths: Paths, account: Account, scheduling: boolean): string {
  // Each line is explained in the comment at the top of this file.
  return `${[
    `configdirectory: ${paths.config}`,
    `partition-default: ${paths.spool}`,
    'defaultpartition: default',
    `lmtpsocket: ${join(paths.run, 'lmtp')}`,
    `idlesocket: ${join(paths.run, 'idle')}`,
    `notifysocket: ${join(paths.run, 'notify')}`,
    `servername: ${REALM}`,
    `cyrus_user: ${account.user}`,
    `cyrus_group: ${account.group}`,
    `admins: ${ADMIN}`,
    'sasl_pwcheck_method: auxprop',
    'sasl_auxprop_plugin: sasldb',
    `sasl_sasldb_path: ${paths.sasldb}`,
    'sasl_mech_list: PLAIN LOGIN',
    'allowplaintext: yes',
    'virtdomains: off',
    'unixhierarchysep: yes',
    'httpmodules: caldav carddav',
    `caldav_allowscheduling: ${scheduling ? 'on' : 'off'}`,
    'fastmailsharing: yes',
    'autocreate_quota: 0',
    'imapidlepoll: 0',
    'master_bind_errors_fatal: yes',
  ].join('\n')}\n`;
}

function cyrusConf(paths: Paths, programs: Programs, imapPort: number, httpPort: number): string {
  const conf = paths.imapdConf;
  return [
    'START {',
    `  recover cmd="${programs.ctlCyrusdb} -C ${conf} -r"`,
    '}',
    'SERVICES {',
    `  imap cmd="${programs.imapd} -C ${conf}" listen="127.0.0.1:${imapPort}" prefork=0`,
    `  http cmd="${programs.httpd} -C ${conf}" listen="127.0.0.1:${httpPort}" prefork=0`,
    '}',
    'EVENTS {',
    '}',
    '',
  ].join('\n');
}

/** Runs a program as the server account, feeding `input` on stdin. */
async function runAs(account: Account, file: string, args: string[], input: string): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const child = spawn(file, args, {
    stdio: ['pipe', 'ignore', 'pipe'],
    ...(asRoot ? { uid: account.uid, gid: account.gid } : {}),
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${file} ${args.join(' ')} failed (${code}): ${stderr.trim()}`);
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const PROPFIND_RESOURCETYPE =
  '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>';

/** Hex only: safe inside IMAP quoted strings and Basic credentials alike. */
function randomSecret(): string {
  return randomBytes(12).toString('hex');
}

/**
 * Starts Cyrus on free ports of 127.0.0.1 in a fresh folder, with `options.users` ready
 * for DAV. Throws, naming the Debian package to install, when Cyrus is missing.
 */
export async function startCyrus(options: CyrusOptions = {}): Promise<CyrusServer> {
  const programs = findCyrusPrograms();
  for (const user of options.users ?? []) checkUserName(user);
  const account = await serverAccount();
  const paths = layout(mkdtempSync(join(tempBase(), 'liaison-cyrus-')));
  const asRoot = process.getuid?.() === 0;
  const own = (p: string) => {
    if (asRoot) chownSync(p, account.uid, account.gid);
  };

  const adminPassword = randomSecret();
  const passwords = new Map<string, string>([[ADMIN, adminPassword]]);
  const users: string[] = [];
  let child: ChildProcess | undefined;
  let imapPort = 0;
  let httpPort = 0;
  let shim: string | undefined;

  // If the test runner exits without stopping the server, do not leave Cyrus behind.
  const onExit = () => {
    if (child?.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(paths.root, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const masterLog = join(paths.logDir, 'master.log');
  const cyrusLog = join(paths.logDir, 'cyrus.log');
  // Where the current master's lines begin: a restart appends to the same files.
  let logStart = { master: 0, cyrus: 0 };
  const logs = () =>
    `\n--- ${masterLog}:\n${tail(masterLog, logStart.master)}\n--- ${cyrusLog}:\n${tail(cyrusLog, logStart.cyrus)}`;

  const launch = async () => {
    logStart = { master: sizeOf(masterLog), cyrus: sizeOf(cyrusLog) };
    const logFd = openSync(masterLog, 'a');
    own(masterLog);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      LC_ALL: 'C',
      LANG: 'C',
      [SYSLOG_FILE_VARIABLE]: cyrusLog,
    };
    delete env.CYRUS_VERBOSE;
    if (shim !== undefined) env.LD_PRELOAD = shim;
    const started = spawn(
      programs.master,
      ['-C', paths.imapdConf, '-M', paths.cyrusConf, '-p', paths.pidFile, '-D'],
      {
        cwd: paths.root,
        env,
        stdio: ['ignore', logFd, logFd],
        // A process group of its own: stop() signals master and every child at once.
        detached: true,
        ...(asRoot ? { uid: account.uid, gid: account.gid } : {}),
      },
    );
    closeSync(logFd);
    child = started;
    await waitUntilReady(started, httpPort, logs);
  };

  const halt = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const running = child;
    child = undefined;
    if (running?.pid === undefined) return;
    await stopGroup(running, running.pid, signal);
  };

  const addUser = async (user: string) => {
    checkUserName(user);
    if (user === ADMIN) throw new Error(`"${ADMIN}" is the Cyrus admin, not a user`);
    if (passwords.has(user)) throw new Error(`Cyrus user ${user} exists already`);
    const password = randomSecret();
    // saslpasswd2 runs as the server account so that the database keeps its owner.
    await runAs(account, programs.saslpasswd2, ['-f', paths.sasldb, '-u', REALM, '-p', '-c', user], password);

    // The first IMAP LOGIN creates the INBOX; DAV refuses users without one.
    const asUser = await ImapSession.open(imapPort);
    try {
      await asUser.login(user, password);
    } finally {
      await asUser.logout().catch(() => {});
    }

    // The user's first authenticated DAV request creates both homes and their Default collections.
    for (const home of [calendarHomeUrl(user), addressBookHomeUrl(user)]) {
      const response = await fetch(home, {
        method: 'PROPFIND',
        headers: { Authorization: basic(user, password), Depth: '0', 'Content-Type': 'application/xml' },
        body: PROPFIND_RESOURCETYPE,
      });
      await response.arrayBuffer();
      if (response.status !== 207) {
        throw new Error(`Cyrus did not provision ${home} for ${user}: ${response.status}${logs()}`);
      }
    }

    // Admins get no DAV read rights from being admins: grant them on the homes and what is in them.
    const asAdmin = await ImapSession.open(imapPort);
    try {
      await asAdmin.login(ADMIN, adminPassword);
      const listed = await asAdmin.command(`LIST "" ${quote(`user/${user}/*`)}`);
      const collections = listed
        .map(listedMailbox)
        .filter((name): name is string => name !== undefined)
        .filter((name) => /^user\/[^/]+\/#(calendars|addressbooks)(\/|$)/.test(name));
      for (const home of [`user/${user}/#calendars`, `user/${user}/#addressbooks`]) {
        if (!collections.includes(home)) throw new Error(`Cyrus has no ${home} after provisioning${logs()}`);
      }
      for (const name of collections) {
        await asAdmin.command(`SETACL ${quote(name)} ${quote(ADMIN)} ${ADMIN_RIGHTS}`);
      }
    } finally {
      await asAdmin.logout().catch(() => {});
    }
    passwords.set(user, password);
    users.push(user);
  };

  const root = () => `http://127.0.0.1:${httpPort}/`;
  const calendarHomeUrl = (user: string) => `${root()}dav/calendars/user/${user}/`;
  const addressBookHomeUrl = (user: string) => `${root()}dav/addressbooks/user/${user}/`;

  try {
    for (const dir of [
      paths.config,
      ...['db', 'socket', 'proc', 'lock'].map((d) => join(paths.config, d)),
      paths.spool,
      paths.run,
      paths.logDir,
    ]) {
      mkdirSync(dir, { recursive: true });
    }
    shim = await buildSyslogShim(paths.root, paths.logDir);
    writeFileSync(paths.imapdConf, imapdConf(paths, account, options.scheduling === true));
    // Cyrus writes everywhere in the folder: it must own all of it.
    if (asRoot) chownTree(paths.root, account);
    // The admin's password; users are added one by one below.
    await runAs(
      account,
      programs.saslpasswd2,
      ['-f', paths.sasldb, '-u', REALM, '-p', '-c', ADMIN],
      adminPassword,
    );

    // A port can be taken between probing and binding: try a few.
    for (let attempt = 1; ; attempt += 1) {
      imapPort = await freePort();
      httpPort = await freePort();
      writeFileSync(paths.cyrusConf, cyrusConf(paths, programs, imapPort, httpPort));
      own(paths.cyrusConf);
      try {
        await launch();
        break;
      } catch (e) {
        // master exits with EX_UNAVAILABLE (69) when it cannot bind; the log says so too.
        const bindFailed = child?.exitCode === 69 || /unable to bind/i.test(logs());
        await halt('SIGKILL');
        if (attempt < 3 && bindFailed) continue;
        throw e;
      }
    }

    for (const user of options.users ?? []) await addUser(user);
  } catch (e) {
    await halt('SIGKILL');
    process.removeListener('exit', onExit);
    rmSync(paths.root, { recursive: true, force: true });
    throw e;
  }

  return {
    url: root(),
    imapPort,
    adminUser: ADMIN,
    adminPassword,
    users,
    userPassword(user: string): string {
      const password = user === ADMIN ? undefined : passwords.get(user);
      if (password === undefined) throw new Error(`No Cyrus user ${user}`);
      return password;
    },
    addUser,
    principalUrl: (user: string) => `${root()}dav/principals/user/${user}/`,
    calendarHomeUrl,
    addressBookHomeUrl,
    async stop() {
      await halt('SIGTERM');
      process.removeListener('exit', onExit);
      rmSync(paths.root, { recursive: true, force: true });
    },
    async restart(restartOptions: CyrusRestartOptions = {}) {
      await halt(restartOptions.signal ?? 'SIGTERM');
      await launch();
    },
    logDir: paths.logDir,
  };
}

/** chown -R, without a dependency: the folder is shallow and new. */
function chownTree(dir: string, account: Account): void {
  chownSync(dir, account.uid, account.gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, account);
    else chownSync(path, account.uid, account.gid);
  }
}

function checkUserName(user: string): void {
  if (!USER_NAME.test(user)) {
    throw new Error(`Cyrus user name ${JSON.stringify(user)}: use lower-case letters, digits, '-' and '_'`);
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * master binds every listener (IMAP too) before it reports "ready for work", after the
 * START tasks (database recovery), and forks httpd at the first connection: an HTTP answer
 * (404 for `/`) means all of that happened. No IMAP probe on purpose: a connection that
 * makes master fork imapd just before a SIGTERM is what makes master spin (see stopGroup).
 */
async function waitUntilReady(child: ChildProcess, httpPort: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited(child)) {
      throw new Error(`Cyrus master exited while starting (${child.exitCode ?? child.signalCode}):${logs()}`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${httpPort}/`, { signal: AbortSignal.timeout(2_000) });
      // Cyrus signs its error pages; anything else is a stranger that took the port first.
      if ((await response.text()).includes('Cyrus-HTTP')) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Cyrus did not answer on http://127.0.0.1:${httpPort}/ in ${START_TIMEOUT_MS} ms:${logs()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/**
 * Stops master and every service it forked (they share master's process group), waiting
 * until none is left. SIGTERM goes to master alone: master then sends SIGTERM to its group
 * and waits for its children. Cyrus 3.6's master sometimes never exits after that: when
 * SIGTERM comes while it is forking a service for a new connection, it leaves that child
 * unreaped and spins in select(). Whatever is left after TERM_GRACE_MS is therefore
 * killed through the group, as is everything at once when asked for SIGKILL.
 */
async function stopGroup(child: ChildProcess, pgid: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const masterGone = exited(child) ? Promise.resolve() : once(child, 'exit').then(() => {});
  const killGroup = () => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // nothing left in the group
    }
  };
  if (signal === 'SIGKILL') killGroup();
  else child.kill('SIGTERM');
  const deadline = Date.now() + TERM_GRACE_MS;
  let killed = signal === 'SIGKILL';
  while (groupAlive(pgid)) {
    if (!killed && Date.now() > deadline) {
      killGroup();
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await masterGone;
}
