import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import { errorMessage, LiaisonError } from '../domain/errors.js';

/*
 * One migration set for SQLite and PostgreSQL. Only portable column types are used
 * (text, integer, bigint); booleans are 0/1 integers and JSON is text, so the same
 * query code reads both. Never edit a migration that has shipped: add a new one.
 */

// Kysely's migration interface is typed over an unknown schema.
// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
type AnyDb = Kysely<any>;

const initial: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('mailbox_servers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('options', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('secret', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('login', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('server_id', 'text', (c) => c.notNull().references('mailbox_servers.id'))
      .addColumn('mailbox_account', 'text', (c) => c.notNull())
      .addColumn('server_group', 'text', (c) => c.notNull().defaultTo(''))
      // SPEC §1: sync is off for new users until an administrator enables it.
      .addColumn('contacts_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('calendar_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('preferences', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('users_server').on('users').columns(['server_id']).execute();
    await db.schema.createIndex('users_group').on('users').columns(['server_group']).execute();

    await db.schema
      .createTable('collection_state')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('last_sync', 'text')
      .addColumn('pending_sync', 'text')
      .addColumn('out_of_sync', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('out_of_sync_reason', 'text')
      .addColumn('probe', 'text')
      .addColumn('token', 'text')
      .addColumn('firm_counter', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('change_counter', 'bigint', (c) => c.notNull().defaultTo(0))
      .addPrimaryKeyConstraint('collection_state_pk', ['user_id', 'kind'])
      .execute();

    await db.schema
      .createTable('firm_contacts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('provenance', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('email_norm', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('name_norm', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('org_norm', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('firm_contacts_seq').on('firm_contacts').columns(['seq']).execute();
    await db.schema.createIndex('firm_contacts_email').on('firm_contacts').columns(['email_norm']).execute();
    await db.schema
      .createIndex('firm_contacts_name')
      .on('firm_contacts')
      .columns(['name_norm', 'org_norm'])
      .execute();

    // UIDs are indexed, not unique: a mailbox holding two items with one UID must not
    // make a whole sync batch fail; the planner reports such duplicates instead.
    await db.schema
      .createTable('user_contacts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('uid', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('private', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('email_norm', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('name_norm', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('org_norm', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('firm_contact_id', 'text', (c) => c.references('firm_contacts.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('change_seq', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('user_contacts_uid')
      .on('user_contacts')
      .columns(['user_id', 'uid'])
      .execute();
    await db.schema
      .createIndex('user_contacts_email')
      .on('user_contacts')
      .columns(['user_id', 'email_norm'])
      .execute();
    await db.schema.createIndex('user_contacts_seq').on('user_contacts').columns(['change_seq']).execute();
    await db.schema
      .createIndex('user_contacts_firm_contact')
      .on('user_contacts')
      .columns(['firm_contact_id'])
      .execute();

    await db.schema
      .createTable('user_appointments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('uid', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('private', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('start_utc', 'bigint')
      .addColumn('end_utc', 'bigint')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('change_seq', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('user_appointments_uid')
      .on('user_appointments')
      .columns(['user_id', 'uid'])
      .execute();
    await db.schema
      .createIndex('user_appointments_start')
      .on('user_appointments')
      .columns(['user_id', 'start_utc'])
      .execute();
    await db.schema
      .createIndex('user_appointments_seq')
      .on('user_appointments')
      .columns(['change_seq'])
      .execute();

    // No foreign key on firm_id: it points at a user contact or a user appointment, and a
    // status row must outlive its firm item so that the next sync sees the deletion.
    await db.schema
      .createTable('sync_status')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('firm_id', 'text', (c) => c.notNull())
      .addColumn('href', 'text', (c) => c.notNull())
      .addColumn('firm_hash', 'text', (c) => c.notNull())
      .addColumn('firm_revision', 'text')
      .addColumn('mailbox_etag', 'text')
      .addColumn('mailbox_hash', 'text', (c) => c.notNull())
      .addColumn('base', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sync_status_pk', ['user_id', 'kind', 'firm_id'])
      .addUniqueConstraint('sync_status_href', ['user_id', 'kind', 'href'])
      .execute();

    await db.schema
      .createTable('held_plans')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('plan', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('resolved_at', 'text')
      .execute();
    await db.schema
      .createIndex('held_plans_user')
      .on('held_plans')
      .columns(['user_id', 'kind', 'state'])
      .execute();

    // The journal keeps no foreign keys: it must survive the deletion of what it describes.
    await db.schema
      .createTable('journal')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('run_id', 'text')
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text')
      .addColumn('kind', 'text')
      .addColumn('firm_id', 'text')
      .addColumn('firm_contact_id', 'text')
      .addColumn('href', 'text')
      .addColumn('uid', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('direction', 'text', (c) => c.notNull())
      .addColumn('before', 'text')
      .addColumn('after', 'text')
      .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema.createIndex('journal_user').on('journal').columns(['user_id', 'id']).execute();
    await db.schema.createIndex('journal_run').on('journal').columns(['run_id', 'id']).execute();

    await db.schema
      .createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('process', 'text')
      .addColumn('started_at', 'text', (c) => c.notNull())
      .addColumn('finished_at', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('settings', 'text')
      .addColumn('report', 'text')
      .execute();
    await db.schema.createIndex('runs_started').on('runs').columns(['started_at']).execute();

    await db.schema
      .createTable('user_locks')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('sequences')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();
  },

  async down(db: AnyDb) {
    for (const table of [
      'sequences',
      'user_locks',
      'runs',
      'journal',
      'held_plans',
      'sync_status',
      'user_appointments',
      'user_contacts',
      'firm_contacts',
      'collection_state',
      'users',
      'mailbox_servers',
    ]) {
      await db.schema.dropTable(table).ifExists().execute();
    }
  },
};

/**
 * Users may carry mailbox credentials of their own instead of the server's service
 * account. Both columns are nullable: null means "use the server's account". The secret is
 * encrypted by the credentials service before it reaches the database.
 */
const userCredentials: Migration = {
  async up(db: AnyDb) {
    // One column per statement: SQLite's ALTER TABLE adds a single column at a time.
    await db.schema.alterTable('users').addColumn('mailbox_username', 'text').execute();
    await db.schema.alterTable('users').addColumn('mailbox_secret', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('users').dropColumn('mailbox_secret').execute();
    await db.schema.alterTable('users').dropColumn('mailbox_username').execute();
  },
};

/**
 * Firm sync (SPEC §7). Matching at scale needs every e-mail address of a firm contact indexed
 * (a side table) and the name with the organization in one indexed column. A connected user
 * contact keeps the base of the three-way comparison; per-user cursors say how far each step
 * went, so a user skipped as busy is caught up on the next run; reviews hold updates and new
 * contacts for a decision. The (user_id, change_seq) index serves the up step's per-user scan,
 * and the journal indexes serve listing by firm contact and undo's "changed since" check.
 */
const firmSync: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .alterTable('firm_contacts')
      .addColumn('name_key', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    await db.schema
      .alterTable('firm_contacts')
      .addColumn('possible_duplicate', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('firm_contacts')
      .addColumn('duplicate_candidates', 'text', (c) => c.notNull().defaultTo('[]'))
      .execute();
    await db.schema.createIndex('firm_contacts_name_key').on('firm_contacts').columns(['name_key']).execute();

    await db.schema
      .createTable('firm_contact_emails')
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('firm_contact_id', 'text', (c) =>
        c.notNull().references('firm_contacts.id').onDelete('cascade'),
      )
      .addPrimaryKeyConstraint('firm_contact_emails_pk', ['email', 'firm_contact_id'])
      .execute();
    await db.schema
      .createIndex('firm_contact_emails_contact')
      .on('firm_contact_emails')
      .columns(['firm_contact_id'])
      .execute();

    await db.schema.alterTable('user_contacts').addColumn('firm_base', 'text').execute();
    await db.schema
      .alterTable('user_contacts')
      .addColumn('firm_detached', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('user_contacts_user_seq')
      .on('user_contacts')
      .columns(['user_id', 'change_seq'])
      .execute();

    await db.schema
      .createTable('firm_sync_cursors')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('up_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('down_seq', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();

    // A review dies with its user contact or firm contact: it would have nothing left to apply.
    await db.schema
      .createTable('firm_reviews')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('user_contact_id', 'text', (c) =>
        c.notNull().references('user_contacts.id').onDelete('cascade'),
      )
      .addColumn('firm_contact_id', 'text', (c) => c.references('firm_contacts.id').onDelete('cascade'))
      .addColumn('firm_seq', 'bigint')
      .addColumn('proposed', 'text', (c) => c.notNull())
      .addColumn('current', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('resolved_at', 'text')
      .execute();
    await db.schema.createIndex('firm_reviews_state').on('firm_reviews').columns(['state', 'id']).execute();
    await db.schema
      .createIndex('firm_reviews_user_contact')
      .on('firm_reviews')
      .columns(['user_contact_id'])
      .execute();
    await db.schema
      .createIndex('firm_reviews_firm_contact')
      .on('firm_reviews')
      .columns(['firm_contact_id'])
      .execute();

    await db.schema
      .createIndex('journal_firm_contact')
      .on('journal')
      .columns(['firm_contact_id', 'id'])
      .execute();
    await db.schema.createIndex('journal_firm_item').on('journal').columns(['firm_id', 'id']).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('journal_firm_item').ifExists().execute();
    await db.schema.dropIndex('journal_firm_contact').ifExists().execute();
    await db.schema.dropTable('firm_reviews').ifExists().execute();
    await db.schema.dropTable('firm_sync_cursors').ifExists().execute();
    await db.schema.dropIndex('user_contacts_user_seq').ifExists().execute();
    await db.schema.alterTable('user_contacts').dropColumn('firm_detached').execute();
    await db.schema.alterTable('user_contacts').dropColumn('firm_base').execute();
    await db.schema.dropTable('firm_contact_emails').ifExists().execute();
    await db.schema.dropIndex('firm_contacts_name_key').ifExists().execute();
    await db.schema.alterTable('firm_contacts').dropColumn('duplicate_candidates').execute();
    await db.schema.alterTable('firm_contacts').dropColumn('possible_duplicate').execute();
    await db.schema.alterTable('firm_contacts').dropColumn('name_key').execute();
  },
};

/**
 * Why firm sync connected or disconnected a user contact (matched by e-mail, by name and
 * organization, created, flagged, merged, undone…): an administrator reading the journal must
 * be able to tell a match from a creation without replaying the run. Null on every other line.
 */
const journalReason: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('journal').addColumn('reason', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('journal').dropColumn('reason').execute();
  },
};

/**
 * What DAV discovery found per server and account, so that a run does not rediscover every
 * user's mailbox (principal, home sets, collections, capabilities: several requests each).
 */
const davDiscovery: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('dav_discovery')
      .addColumn('server_id', 'text', (c) => c.notNull().references('mailbox_servers.id').onDelete('cascade'))
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('basis', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('discovered_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('dav_discovery_pk', ['server_id', 'account'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('dav_discovery').execute();
  },
};

/**
 * Partial indexes over the rare status rows an express sync must find — those without a
 * mailbox etag, those without a firm revision — so that it finds them without reading
 * every status row of the collection.
 */
const statusGaps: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createIndex('sync_status_no_etag')
      .on('sync_status')
      .columns(['user_id', 'kind'])
      .where(sql.ref('mailbox_etag'), 'is', null)
      .execute();
    await db.schema
      .createIndex('sync_status_no_revision')
      .on('sync_status')
      .columns(['user_id', 'kind'])
      .where(sql.ref('firm_revision'), 'is', null)
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('sync_status_no_revision').execute();
    await db.schema.dropIndex('sync_status_no_etag').execute();
  },
};

/**
 * Mailbox items that could not be synced (unreadable, or the server would not hand them
 * over), kept until a run reads them fine or finds them gone: a run that does not look at
 * an item (an express run, for an item that did not change) must not make it look fine.
 */
const quarantine: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('quarantine')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('href', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('since', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('quarantine_pk', ['user_id', 'kind', 'href'])
      .execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropTable('quarantine').execute();
  },
};

/**
 * The last failure of a collection's sync (when and why), kept until a run syncs it: a user
 * whose every run fails would otherwise look fine in `liaison status`.
 */
const lastFailure: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('collection_state').addColumn('last_failure_at', 'text').execute();
    await db.schema.alterTable('collection_state').addColumn('last_failure', 'text').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('collection_state').dropColumn('last_failure').execute();
    await db.schema.alterTable('collection_state').dropColumn('last_failure_at').execute();
  },
};

/**
 * How many items the last change list of a collection named: an express run asks the change
 * list for the items' data only after a small one (see `collection-sync.ts`).
 */
const lastChanges: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable('collection_state').addColumn('last_changes', 'integer').execute();
  },
  async down(db: AnyDb) {
    await db.schema.alterTable('collection_state').dropColumn('last_changes').execute();
  },
};

/** Every migration, in order; keys sort in the order they apply. Exported for upgrade tests. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': initial,
  '0002_user_credentials': userCredentials,
  '0003_firm_sync': firmSync,
  '0004_journal_reason': journalReason,
  '0005_dav_discovery': davDiscovery,
  '0006_status_gaps': statusGaps,
  '0007_quarantine': quarantine,
  '0008_last_failure': lastFailure,
  '0009_last_changes': lastChanges,
};

const provider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
};

/**
 * Brings the schema to the latest migration. Safe to run again and from several
 * processes at once (Kysely takes a migration lock). Throws `LiaisonError` of kind
 * `Database` naming the migration that failed.
 */
export async function migrateToLatest(db: AnyDb): Promise<void> {
  await repairFirstBuild(db);
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  if (failed !== undefined) {
    throw new LiaisonError(
      'Database',
      `Migrating the firm database failed at ${failed}: ${errorMessage(error)}`,
      {
        cause: error,
      },
    );
  }
  const unknown = await unknownMigrations(db);
  if (unknown.length > 0) {
    throw new LiaisonError(
      'Database',
      `The firm database was upgraded by a newer version of Liaison (migration ${unknown.join(', ')} is unknown to this one): run that version or a later one`,
      { cause: error },
    );
  }
  throw new LiaisonError('Database', `Migrating the firm database failed: ${errorMessage(error)}`, {
    cause: error,
  });
}

/**
 * A database made by the very first build lacks `sync_status.firm_revision`, which 0001
 * created only from the next build on; 0006 indexes it. Added before the migrations run,
 * only while 0006 is still to come (one small query otherwise).
 */
async function repairFirstBuild(db: AnyDb): Promise<void> {
  let applied: string[];
  try {
    applied = (await db.selectFrom('kysely_migration').select('name').execute()).map((r) => r.name);
  } catch {
    return; // a new database: nothing to repair
  }
  if (!applied.includes('0001_initial') || applied.includes('0006_status_gaps')) return;
  const status = (await db.introspection.getTables()).find((t) => t.name === 'sync_status');
  if (status === undefined || status.columns.some((c) => c.name === 'firm_revision')) return;
  await db.schema.alterTable('sync_status').addColumn('firm_revision', 'text').execute();
}

/** Migrations the database records as applied that this version does not have. */
async function unknownMigrations(db: AnyDb): Promise<string[]> {
  try {
    const rows = await db.selectFrom('kysely_migration').select('name').execute();
    return rows.map((r: { name: string }) => r.name).filter((name: string) => !(name in MIGRATIONS));
  } catch {
    return []; // no migration table: the failure was something else
  }
}
