import type { Selectable, Updateable } from 'kysely';
import { LiaisonError } from '../domain/errors.js';
import type { FieldValue } from '../domain/fields.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { fromJson, toJson } from './json-column.js';
import { newId } from './new-id.js';
import type { Database } from './open.js';
import type { MailboxServerTable } from './schema.js';
import { isUniqueViolation } from './sql-errors.js';

/** The kinds of mailbox server Liaison connects to (SPEC §3). */
export type MailboxServerKind = 'vdir' | 'dav' | 'memory';
export const MAILBOX_SERVER_KINDS: readonly MailboxServerKind[] = ['vdir', 'dav', 'memory'];

/** Adapter options (TLS exceptions, batch sizes, …), as JSON. */
export type ServerOptions = { readonly [key: string]: FieldValue };

/**
 * A mailbox server as stored. The encrypted credential is not part of it (only
 * `getSecret` returns it), so a record can be printed or serialized as it is.
 */
export interface MailboxServerRecord {
  readonly id: string;
  readonly name: string;
  readonly kind: MailboxServerKind;
  readonly url: string;
  readonly options: ServerOptions;
  /** Whether an encrypted credential is stored. */
  readonly hasSecret: boolean;
  readonly createdAt: string;
}

export interface NewMailboxServer {
  readonly name: string;
  readonly kind: MailboxServerKind;
  readonly url: string;
  readonly options?: ServerOptions;
  /** The credential, already encrypted: the repository stores text, it never encrypts. */
  readonly secret?: string | null;
}

/** Changes to a server; absent fields stay as they are. */
export interface ServerChanges {
  readonly url?: string;
  /** Replaces the whole options object. */
  readonly options?: ServerOptions;
  /** The new encrypted credential, or null to remove it. */
  readonly secret?: string | null;
  /**
   * New encrypted secrets for users of this server who carry their own credentials
   * (re-encrypted for a new URL), written in the same transaction.
   */
  readonly userSecrets?: readonly { readonly login: string; readonly secret: string }[];
}

function toRecord(row: Selectable<MailboxServerTable>): MailboxServerRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind as MailboxServerKind,
    url: row.url,
    options: fromJson<ServerOptions>(row.options, 'mailbox_servers.options'),
    hasSecret: row.secret !== null,
    createdAt: row.created_at,
  };
}

function notFound(name: string): LiaisonError {
  return new LiaisonError('NotFound', `There is no mailbox server named ${name}`, {
    context: { server: name },
  });
}

/** Mailbox servers: users' mailboxes live on one of them. */
export class ServerRepo {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Adds a server. Throws `AlreadyExists` when the name is taken, `Usage` for an unknown kind. */
  async add(server: NewMailboxServer): Promise<MailboxServerRecord> {
    if (!MAILBOX_SERVER_KINDS.includes(server.kind)) {
      throw new LiaisonError('Usage', `Unknown mailbox server kind ${String(server.kind)}`, {
        context: { server: server.name },
      });
    }
    const now = isoAt(this.clock());
    const row = {
      id: newId(),
      name: server.name,
      kind: server.kind,
      url: server.url,
      options: toJson(server.options ?? {}),
      secret: server.secret ?? null,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.database.db.insertInto('mailbox_servers').values(row).execute();
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw new LiaisonError('AlreadyExists', `A mailbox server named ${server.name} already exists`, {
          cause: e,
          context: { server: server.name },
        });
      }
      throw e;
    }
    return toRecord(row);
  }

  /** Every server, by name. */
  async list(): Promise<MailboxServerRecord[]> {
    const rows = await this.database.db.selectFrom('mailbox_servers').selectAll().orderBy('name').execute();
    return rows.map(toRecord);
  }

  /**
   * Changes a server and, in the same transaction, the secrets of its users listed in
   * `changes.userSecrets`. Throws `NotFound` when there is no server of that name.
   */
  async update(name: string, changes: ServerChanges): Promise<MailboxServerRecord> {
    const set: Updateable<MailboxServerTable> = {};
    if (changes.url !== undefined) set.url = changes.url;
    if (changes.options !== undefined) set.options = toJson(changes.options);
    if (changes.secret !== undefined) set.secret = changes.secret;
    await this.database.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('mailbox_servers')
        .set({ ...set, updated_at: isoAt(this.clock()) })
        .where('name', '=', name)
        .returning('id')
        .executeTakeFirst();
      if (row === undefined) throw notFound(name);
      for (const user of changes.userSecrets ?? []) {
        await trx
          .updateTable('users')
          .set({ mailbox_secret: user.secret, updated_at: isoAt(this.clock()) })
          .where('server_id', '=', row.id)
          .where('login', '=', user.login)
          .execute();
      }
    });
    const updated = await this.get(name);
    if (updated === null) throw notFound(name);
    return updated;
  }

  /** Stores the server's encrypted credential (null removes it). Throws `NotFound` for an unknown server. */
  async setSecret(name: string, secret: string | null): Promise<void> {
    await this.update(name, { secret });
  }

  /** The server's encrypted credential, or null when none is stored. Throws `NotFound` for an unknown server. */
  async getSecret(name: string): Promise<string | null> {
    const row = await this.database.db
      .selectFrom('mailbox_servers')
      .select('secret')
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) throw notFound(name);
    return row.secret;
  }

  /**
   * Any one encrypted secret stored in the database (a server's or a user's), or null when
   * there is none: lets the credentials service check a key against what is stored before
   * it encrypts anything new with it.
   */
  async anySecret(): Promise<string | null> {
    const db = this.database.db;
    const server = await db
      .selectFrom('mailbox_servers')
      .select('secret')
      .where('secret', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    if (server?.secret) return server.secret;
    const user = await db
      .selectFrom('users')
      .select('mailbox_secret')
      .where('mailbox_secret', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    return user?.mailbox_secret ?? null;
  }

  /** The server of that name, or null. */
  async get(name: string): Promise<MailboxServerRecord | null> {
    const row = await this.database.db
      .selectFrom('mailbox_servers')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? null : toRecord(row);
  }
}
