import type { Selectable } from 'kysely';
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

/** A mailbox server as stored; the credential itself never leaves the repository. */
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
      secret: null,
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
