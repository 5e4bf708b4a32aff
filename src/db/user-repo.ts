import type { Selectable, Updateable } from 'kysely';
import { LiaisonError } from '../domain/errors.js';
import type { FieldValue } from '../domain/fields.js';
import { COLLECTION_KINDS, type CollectionKind, type UserId } from '../domain/ids.js';
import type { CollectionState } from '../sync/ports.js';
import { chunks } from './chunks.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { INITIAL_STATE, toCollectionState } from './collection-state.js';
import { fromJson } from './json-column.js';
import { newId } from './new-id.js';
import type { Database } from './open.js';
import type { UserTable } from './schema.js';
import { isUniqueViolation } from './sql-errors.js';

/** A collection's sync state as the administrator sees it, with its live change counter. */
export interface CollectionSummary extends CollectionState {
  readonly changeCounter: number;
  /** When and why the last sync of the collection failed; null once a run synced it. */
  readonly lastFailure: { readonly at: string; readonly reason: string } | null;
}

export type UserPreferences = { readonly [key: string]: FieldValue };

export interface UserRecord {
  readonly id: UserId;
  readonly login: string;
  readonly displayName: string;
  /** Name of the user's mailbox server. */
  readonly server: string;
  readonly serverId: string;
  readonly mailboxAccount: string;
  /** Server group of the user's contact list; '' when none. */
  readonly serverGroup: string;
  readonly contactsEnabled: boolean;
  readonly calendarEnabled: boolean;
  readonly preferences: UserPreferences;
  /**
   * The user's own login on the mailbox server, when they carry their own credentials
   * with basic auth; null otherwise.
   */
  readonly mailboxUsername: string | null;
  /** Whether the user carries an encrypted credential of their own (else the server's account is used). */
  readonly hasSecret: boolean;
  readonly collections: Readonly<Record<CollectionKind, CollectionSummary>>;
}

/**
 * A user's own mailbox credential, with the secret already encrypted. `username` null
 * means the secret is a bearer token.
 */
export interface StoredUserCredential {
  readonly username: string | null;
  readonly secret: string;
}

export interface NewUser {
  readonly login: string;
  /** Name of an existing mailbox server. */
  readonly server: string;
  readonly displayName?: string;
  /** Account on the mailbox server (default: the login). */
  readonly mailboxAccount?: string;
  readonly serverGroup?: string;
  /** Off unless given (SPEC §1). */
  readonly contactsEnabled?: boolean;
  readonly calendarEnabled?: boolean;
  /** The user's own credential, already encrypted; absent to use the server's account. */
  readonly credential?: StoredUserCredential | null;
}

/** Settings an administrator changes on many users at once; absent fields stay as they are. */
export interface UserChanges {
  readonly serverGroup?: string;
  readonly contactsEnabled?: boolean;
  readonly calendarEnabled?: boolean;
}

export interface UserFilter {
  /** Only users of this mailbox server (by name). */
  readonly server?: string;
  /** Only users whose list is in one of these server groups. */
  readonly groups?: readonly string[];
  /** Only users with sync of this collection enabled. */
  readonly enabled?: CollectionKind;
}

type UserRow = Selectable<UserTable> & { server_name: string };

function unknownUser(login: string): LiaisonError {
  return new LiaisonError('NotFound', `There is no user with login ${login}`, { context: { user: login } });
}

/** Users, their mailbox settings and their collections' sync state. */
export class UserRepo {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Adds a user. Throws `Config` when the mailbox server does not exist, `AlreadyExists`
   * when the login is taken.
   */
  async add(user: NewUser): Promise<UserRecord> {
    const db = this.database.db;
    const server = await db
      .selectFrom('mailbox_servers')
      .select('id')
      .where('name', '=', user.server)
      .executeTakeFirst();
    if (server === undefined) {
      throw new LiaisonError('Config', `Mailbox server ${user.server} does not exist; add it first`, {
        context: { user: user.login, server: user.server },
      });
    }
    const now = isoAt(this.clock());
    try {
      await db
        .insertInto('users')
        .values({
          id: newId(),
          login: user.login,
          display_name: user.displayName ?? '',
          server_id: server.id,
          mailbox_account: user.mailboxAccount ?? user.login,
          server_group: user.serverGroup ?? '',
          contacts_enabled: user.contactsEnabled === true ? 1 : 0,
          calendar_enabled: user.calendarEnabled === true ? 1 : 0,
          preferences: '{}',
          mailbox_username: user.credential?.username ?? null,
          mailbox_secret: user.credential?.secret ?? null,
          created_at: now,
          updated_at: now,
        })
        .execute();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new LiaisonError('AlreadyExists', `A user with login ${user.login} already exists`, {
          cause: e,
          context: { user: user.login },
        });
      }
      throw e;
    }
    const added = await this.get(user.login);
    if (added === null)
      throw new LiaisonError('Database', `User ${user.login} vanished right after it was added`);
    return added;
  }

  /** Users matching every given filter, by login. */
  async list(filter: UserFilter = {}): Promise<UserRecord[]> {
    let q = this.database.db
      .selectFrom('users')
      .innerJoin('mailbox_servers', 'mailbox_servers.id', 'users.server_id')
      .selectAll('users')
      .select('mailbox_servers.name as server_name');
    if (filter.server !== undefined) q = q.where('mailbox_servers.name', '=', filter.server);
    if (filter.groups !== undefined) {
      if (filter.groups.length === 0) return [];
      q = q.where('users.server_group', 'in', [...filter.groups]);
    }
    if (filter.enabled === 'contacts') q = q.where('users.contacts_enabled', '=', 1);
    if (filter.enabled === 'calendar') q = q.where('users.calendar_enabled', '=', 1);
    return this.withState(await q.orderBy('users.login').execute());
  }

  /** The user with that login, or null. */
  async get(login: string): Promise<UserRecord | null> {
    const row = await this.database.db
      .selectFrom('users')
      .innerJoin('mailbox_servers', 'mailbox_servers.id', 'users.server_id')
      .selectAll('users')
      .select('mailbox_servers.name as server_name')
      .where('users.login', '=', login)
      .executeTakeFirst();
    if (row === undefined) return null;
    const [user] = await this.withState([row]);
    return user ?? null;
  }

  /**
   * Applies the same changes to many users in one transaction (the guide's "Set server
   * group name" on marked lists). Returns the logins changed and those that do not exist.
   */
  async setMany(
    logins: readonly string[],
    changes: UserChanges,
  ): Promise<{ readonly updated: string[]; readonly unknown: string[] }> {
    const set: Updateable<UserTable> = {};
    if (changes.serverGroup !== undefined) set.server_group = changes.serverGroup;
    if (changes.contactsEnabled !== undefined) set.contacts_enabled = changes.contactsEnabled ? 1 : 0;
    if (changes.calendarEnabled !== undefined) set.calendar_enabled = changes.calendarEnabled ? 1 : 0;
    const wanted = [...new Set(logins)];
    const found = new Set<string>();
    await this.database.db.transaction().execute(async (trx) => {
      for (const chunk of chunks(wanted)) {
        const rows = await trx.selectFrom('users').select('login').where('login', 'in', chunk).execute();
        for (const r of rows) found.add(r.login);
        if (Object.keys(set).length > 0 && rows.length > 0) {
          await trx
            .updateTable('users')
            .set({ ...set, updated_at: isoAt(this.clock()) })
            .where('login', 'in', chunk)
            .execute();
        }
      }
    });
    return { updated: wanted.filter((l) => found.has(l)), unknown: wanted.filter((l) => !found.has(l)) };
  }

  /**
   * Stores the user's own credential (already encrypted), or removes it with null so that
   * the server's account is used again. Throws `NotFound` for an unknown login.
   */
  async setCredential(login: string, credential: StoredUserCredential | null): Promise<void> {
    const result = await this.database.db
      .updateTable('users')
      .set({
        mailbox_username: credential?.username ?? null,
        mailbox_secret: credential?.secret ?? null,
        updated_at: isoAt(this.clock()),
      })
      .where('login', '=', login)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw unknownUser(login);
  }

  /** The user's own encrypted credential, or null when they use the server's account. Throws `NotFound` for an unknown login. */
  async getCredential(login: string): Promise<StoredUserCredential | null> {
    const row = await this.database.db
      .selectFrom('users')
      .select(['mailbox_username', 'mailbox_secret'])
      .where('login', '=', login)
      .executeTakeFirst();
    if (row === undefined) throw unknownUser(login);
    return row.mailbox_secret === null
      ? null
      : { username: row.mailbox_username, secret: row.mailbox_secret };
  }

  private async withState(rows: readonly UserRow[]): Promise<UserRecord[]> {
    const states = new Map<string, CollectionSummary>();
    for (const ids of chunks(rows.map((r) => r.id))) {
      const stateRows = await this.database.db
        .selectFrom('collection_state')
        .selectAll()
        .where('user_id', 'in', ids)
        .execute();
      for (const s of stateRows) {
        states.set(`${s.user_id}/${s.kind}`, {
          ...toCollectionState(s),
          changeCounter: Number(s.change_counter),
          lastFailure:
            s.last_failure_at === null ? null : { at: s.last_failure_at, reason: s.last_failure ?? '' },
        });
      }
    }
    const initial: CollectionSummary = { ...INITIAL_STATE, changeCounter: 0, lastFailure: null };
    return rows.map((r) => {
      const collections = Object.fromEntries(
        COLLECTION_KINDS.map((k) => [k, states.get(`${r.id}/${k}`) ?? initial]),
      ) as Record<CollectionKind, CollectionSummary>;
      return {
        id: r.id as UserId,
        login: r.login,
        displayName: r.display_name,
        server: r.server_name,
        serverId: r.server_id,
        mailboxAccount: r.mailbox_account,
        serverGroup: r.server_group,
        contactsEnabled: r.contacts_enabled === 1,
        calendarEnabled: r.calendar_enabled === 1,
        preferences: fromJson<UserPreferences>(r.preferences, 'users.preferences'),
        mailboxUsername: r.mailbox_secret === null ? null : r.mailbox_username,
        hasSecret: r.mailbox_secret !== null,
        collections,
      };
    });
  }
}
