import type { FieldValue } from '../domain/fields.js';
import type { UserId } from '../domain/ids.js';
import type { FirmUser } from '../firm/firm-types.js';
import type { FirmUserDirectory } from '../firm/ports.js';
import { readPreferences } from '../firm/preferences.js';
import { chunks } from './chunks.js';
import { type Clock, isoAt, systemClock } from './clock.js';
import { fromJson, toJson } from './json-column.js';
import type { Database } from './open.js';

interface Row {
  id: string;
  login: string;
  server_group: string;
  preferences: string;
}

function toUser(r: Row): FirmUser {
  return {
    id: r.id as UserId,
    login: r.login,
    group: r.server_group === '' ? null : r.server_group,
    preferences: readPreferences(fromJson<Record<string, FieldValue>>(r.preferences, 'users.preferences')),
  };
}

/** Users as firm sync sees them: login, server group, firm sync preferences. */
export class FirmUserRepo implements FirmUserDirectory {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock = systemClock,
  ) {}

  private query() {
    return this.database.db.selectFrom('users').select(['id', 'login', 'server_group', 'preferences']);
  }

  async list(groups: readonly string[]): Promise<FirmUser[]> {
    let q = this.query();
    if (groups.length > 0) q = q.where('server_group', 'in', [...groups]);
    return (await q.orderBy('login').execute()).map(toUser);
  }

  async byIds(ids: readonly UserId[]): Promise<FirmUser[]> {
    const out: FirmUser[] = [];
    for (const part of chunks([...new Set(ids)])) {
      out.push(...(await this.query().where('id', 'in', part).execute()).map(toUser));
    }
    return out;
  }

  async byLogins(logins: readonly string[]): Promise<{ found: FirmUser[]; unknown: string[] }> {
    const found: FirmUser[] = [];
    for (const part of chunks([...new Set(logins)])) {
      found.push(...(await this.query().where('login', 'in', part).execute()).map(toUser));
    }
    const known = new Set(found.map((u) => u.login));
    return { found, unknown: logins.filter((l) => !known.has(l)) };
  }

  /** Merges the entries into each user's preferences object, in one transaction. */
  async setPreferences(users: readonly UserId[], entries: Readonly<Record<string, string>>): Promise<void> {
    const now = isoAt(this.clock());
    await this.database.db.transaction().execute(async (trx) => {
      for (const part of chunks([...new Set(users)])) {
        const rows = await trx
          .selectFrom('users')
          .select(['id', 'preferences'])
          .where('id', 'in', part)
          .execute();
        for (const r of rows) {
          const merged = {
            ...fromJson<Record<string, FieldValue>>(r.preferences, 'users.preferences'),
            ...entries,
          };
          await trx
            .updateTable('users')
            .set({ preferences: toJson(merged), updated_at: now })
            .where('id', '=', r.id)
            .execute();
        }
      }
    });
  }
}
