/**
 * Composition root: the only place that wires adapters (database, mailbox servers) into
 * services. Faces (the CLI, later the HTTP API) open an `App` and call services through it.
 */
import { hostname } from 'node:os';
import {
  createFirmStore,
  createRepositories,
  type Database,
  FirmUserRepo,
  type MailboxServerRecord,
  newId,
  openDatabase,
  type Repositories,
  type UserRecord,
} from './db/index.js';
import { LiaisonError } from './domain/errors.js';
import type { FirmSyncDeps } from './firm/ports.js';
import { appointmentCodec } from './formats/appointment-codec.js';
import type { DavServerConfig, ServerCapabilities } from './mailbox/dav/dav-config.js';
import { DavMailboxServer } from './mailbox/dav/dav-mailbox-server.js';
import type { DavTransportOptions } from './mailbox/dav/dav-transport.js';
import { ServerHealth } from './mailbox/dav/server-health.js';
import {
  type DiscoveryStore,
  discoveryBasis,
  StoredDiscoveryCache,
} from './mailbox/dav/stored-discovery-cache.js';
import { testDavServer } from './mailbox/dav/test-dav-server.js';
import type { MailboxServer } from './mailbox/port.js';
import { VdirMailboxServer } from './mailbox/vdir/vdir-mailbox-server.js';
import { davOptionsOf } from './secrets/dav-server-options.js';
import { ServerCredentials } from './secrets/server-credentials.js';
import type { RunLog, SyncRunDeps, SyncUser, UserLocks } from './sync/run-ports.js';

export interface App {
  readonly database: Database;
  readonly repos: Repositories;
  /**
   * The adapter for a configured mailbox server; with `user`, one that signs in with that
   * user's own credentials when they carry some.
   */
  mailboxServer(record: MailboxServerRecord, user?: UserRecord | null): Promise<MailboxServer>;
  /**
   * A new connection to a CardDAV/CalDAV server, as `mailboxServer` makes them (credentials,
   * discovery kept in the database), with transport options of the caller's; the caller closes it.
   */
  davServer(
    record: MailboxServerRecord,
    user: UserRecord | null,
    options?: DavTransportOptions,
  ): Promise<DavMailboxServer>;
  /** Connects to a CardDAV/CalDAV server and reports what it supports (`liaison server test`). */
  testServer(config: DavServerConfig, account?: string): Promise<ServerCapabilities>;
  readonly credentials: ServerCredentials;
  /** Everything a sync run needs. */
  syncDeps(onProgress?: SyncRunDeps['onProgress']): SyncRunDeps;
  /** Everything firm sync and its administration (firm contacts, reviews, journal) need. */
  firmDeps(): FirmSyncDeps;
  close(): Promise<void>;
}

/** Opens the firm database at `url`, migrating it to the current schema. */
export async function openApp(url: string): Promise<App> {
  const database = await openDatabase(url);
  try {
    await database.migrate();
  } catch (e) {
    await database.close();
    throw e;
  }
  const repos = createRepositories(database, { span: (a) => appointmentCodec.span(a) });
  const credentials = new ServerCredentials(repos);
  const servers = new Map<string, MailboxServer>();
  const davServers: DavMailboxServer[] = [];
  // One per configured server: a server found down is down for its every user.
  const health = new Map<string, ServerHealth>();
  const healthOf = (name: string) => {
    let known = health.get(name);
    if (known === undefined) {
      known = new ServerHealth();
      health.set(name, known);
    }
    return known;
  };

  const davServer = async (
    record: MailboxServerRecord,
    user: UserRecord | null,
    options: DavTransportOptions = {},
  ): Promise<DavMailboxServer> =>
    new DavMailboxServer(await credentials.davConfig(record, user?.hasSecret ? user : null), {
      health: healthOf(record.name),
      ...options,
      discoveryCache: new StoredDiscoveryCache(
        discoveryStore(repos, record.id),
        discoveryBasis(record.url, davOptionsOf(record)),
      ),
    });

  const mailboxServer = async (
    record: MailboxServerRecord,
    user?: UserRecord | null,
  ): Promise<MailboxServer> => {
    // A user with credentials of their own gets a connection of their own.
    const key = user?.hasSecret ? `${record.name}\0${user.login}` : record.name;
    const known = servers.get(key);
    if (known) return known;
    let made: MailboxServer;
    if (record.kind === 'vdir') made = new VdirMailboxServer(record.url);
    else if (record.kind === 'dav') {
      const dav = await davServer(record, user ?? null);
      davServers.push(dav);
      made = dav;
    } else {
      throw new LiaisonError(
        'Config',
        `mailbox server ${record.name} is of kind ${record.kind}, which this version cannot connect to`,
        { context: { server: record.name } },
      );
    }
    servers.set(key, made);
    return made;
  };

  const holder = `${hostname()}:${process.pid}`;
  const locks: UserLocks = {
    tryAcquire: (u, h, ms) => repos.locks.tryAcquire(u, h, ms),
    renew: async (u, h, ms) => {
      await repos.locks.renew(u, h, ms);
    },
    release: (u, h) => repos.locks.release(u, h),
  };
  const runs: RunLog = {
    start: (kind, settings) => repos.runs.start(kind, settings),
    finish: (id, status, report) => repos.runs.finish(id, status, report),
  };
  return {
    database,
    repos,
    credentials,
    mailboxServer,
    davServer,
    testServer: (config, account) => testDavServer(config, account),
    syncDeps: (onProgress) => ({
      outcomes: { note: (user, kind, failure) => repos.runs.noteCollectionOutcome(user, kind, failure) },
      listUsers: async () =>
        (await repos.users.list()).map(
          (u): SyncUser => ({
            id: u.id,
            login: u.login,
            server: u.server,
            account: u.mailboxAccount,
            group: u.serverGroup === '' ? null : u.serverGroup,
            contacts: u.contactsEnabled,
            calendar: u.calendarEnabled,
          }),
        ),
      openMailbox: async (user) => {
        const record = await repos.servers.get(user.server);
        if (!record)
          throw new LiaisonError(
            'Config',
            `mailbox server ${user.server} of user ${user.login} does not exist`,
          );
        return (await mailboxServer(record, await repos.users.get(user.login))).open(user.account);
      },
      contacts: repos.contactSync,
      calendar: repos.appointmentSync,
      held: repos.heldPlans,
      locks,
      runs,
      now: () => new Date(),
      holder,
      ...(onProgress ? { onProgress } : {}),
    }),
    firmDeps: () => ({
      store: createFirmStore(database),
      users: new FirmUserRepo(database),
      locks,
      runs,
      now: () => new Date(),
      // Not the mailbox sync's holder: a lease held by one must keep the other out, even here.
      holder: `${holder}:firm-sync`,
      newId,
    }),
    close: async () => {
      await Promise.all(davServers.map((d) => d.close()));
      await database.close();
    },
  };
}

/** One server's rows of the discovery table, as the DAV adapter's cache keeps them. */
function discoveryStore(repos: Repositories, serverId: string): DiscoveryStore {
  return {
    get: (account) => repos.discovery.get(serverId, account),
    put: (account, basis, data) => repos.discovery.put(serverId, account, basis, data),
    delete: (account) => repos.discovery.delete(serverId, account),
  };
}
