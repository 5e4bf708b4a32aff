import { type Clock, isoAt, systemClock } from './clock.js';
import { fromJson, toJson } from './json-column.js';
import type { Database } from './open.js';

/** A row of `dav_discovery`: what discovery found for one account on one server. */
interface DiscoveryTable {
  server_id: string;
  account: string;
  /**
   * What the discovery depended on besides the account (the server's URL, the collections
   * its settings name): a row made on another basis is not used.
   */
  basis: string;
  /** The discovered mailbox, as JSON (its shape belongs to the DAV adapter). */
  data: string;
  discovered_at: string;
}

/** A stored discovery. */
export interface StoredDiscovery {
  readonly basis: string;
  readonly data: unknown;
  readonly discoveredAt: string;
}

/**
 * Discovered DAV mailboxes, kept between processes so that each run does not pay discovery
 * (several requests per user) again. Plain storage: freshness and shape are the caller's.
 */
export class DiscoveryRepo {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  private get db() {
    return this.database.db.withTables<{ dav_discovery: DiscoveryTable }>();
  }

  async get(serverId: string, account: string): Promise<StoredDiscovery | null> {
    const row = await this.db
      .selectFrom('dav_discovery')
      .select(['basis', 'data', 'discovered_at'])
      .where('server_id', '=', serverId)
      .where('account', '=', account)
      .executeTakeFirst();
    if (row === undefined) return null;
    return {
      basis: row.basis,
      data: fromJson(row.data, 'dav_discovery.data'),
      discoveredAt: row.discovered_at,
    };
  }

  /** Stores (or replaces) what discovery found for `account`. */
  async put(serverId: string, account: string, basis: string, data: unknown): Promise<void> {
    const row = {
      server_id: serverId,
      account,
      basis,
      data: toJson(data),
      discovered_at: isoAt(this.clock()),
    };
    await this.db
      .insertInto('dav_discovery')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['server_id', 'account']).doUpdateSet({
          basis: row.basis,
          data: row.data,
          discovered_at: row.discovered_at,
        }),
      )
      .execute();
  }

  async delete(serverId: string, account: string): Promise<void> {
    await this.db
      .deleteFrom('dav_discovery')
      .where('server_id', '=', serverId)
      .where('account', '=', account)
      .execute();
  }
}
