import { ContactRepo } from '../../src/db/contact-repo.js';
import { createFirmStore } from '../../src/db/firm-sync-store.js';
import { FirmUserRepo } from '../../src/db/firm-user-repo.js';
import { LockRepo } from '../../src/db/lock-repo.js';
import { newId } from '../../src/db/new-id.js';
import type { Database } from '../../src/db/open.js';
import { RunRepo } from '../../src/db/run-repo.js';
import { ServerRepo } from '../../src/db/server-repo.js';
import { UserRepo } from '../../src/db/user-repo.js';
import type { Contact } from '../../src/domain/contact.js';
import type { FirmItemId, UserId } from '../../src/domain/ids.js';
import type { FirmRunReport, FirmStepChoice } from '../../src/firm/firm-report.js';
import type { FirmSyncDeps } from '../../src/firm/ports.js';
import { runFirmSync } from '../../src/firm/run-firm-sync.js';

/** Firm sync's dependencies over a test database, with the real repositories. */
export function firmDeps(database: Database, over: Partial<FirmSyncDeps> = {}): FirmSyncDeps {
  const locks = new LockRepo(database);
  const runs = new RunRepo(database);
  return {
    store: createFirmStore(database),
    users: new FirmUserRepo(database),
    locks: {
      tryAcquire: (u, h, ms) => locks.tryAcquire(u, h, ms),
      renew: async (u, h, ms) => {
        await locks.renew(u, h, ms);
      },
      release: (u, h) => locks.release(u, h),
    },
    runs: {
      start: (kind, settings) => runs.start(kind, settings),
      finish: (id, status, report) => runs.finish(id, status, report),
    },
    now: () => new Date(),
    holder: 'test:firm-sync',
    newId,
    ...over,
  };
}

/** A small world of users and their contacts on a test database. */
export class FirmWorld {
  readonly contacts: ContactRepo;
  readonly users = new Map<string, UserId>();

  constructor(
    readonly database: Database,
    readonly deps: FirmSyncDeps = firmDeps(database),
  ) {
    this.contacts = new ContactRepo(database);
  }

  async user(login: string, group = ''): Promise<UserId> {
    const known = this.users.get(login);
    if (known !== undefined) return known;
    const servers = new ServerRepo(this.database);
    if ((await servers.get('mem')) === null) await servers.add({ name: 'mem', kind: 'memory', url: '' });
    const id = (await new UserRepo(this.database).add({ login, server: 'mem', serverGroup: group })).id;
    this.users.set(login, id);
    return id;
  }

  async add(login: string, contact: Contact): Promise<FirmItemId> {
    return this.contacts.add(await this.user(login), contact, { actor: login });
  }

  async edit(id: FirmItemId, patch: Partial<Omit<Contact, 'uid'>>): Promise<Contact> {
    return this.contacts.edit(id, patch);
  }

  async contact(id: FirmItemId): Promise<Contact> {
    const rec = await this.contacts.get(id);
    if (rec === null) throw new Error(`no user contact ${id}`);
    return rec.item;
  }

  /** The firm contact a user contact is connected to, or null. */
  async linkOf(id: FirmItemId): Promise<string | null> {
    const [uc] = await this.deps.store.userContacts([id]);
    return uc?.firmContactId ?? null;
  }

  run(
    step: FirmStepChoice = 'both',
    options: { groups?: string[]; dryRun?: boolean } = {},
  ): Promise<FirmRunReport> {
    return runFirmSync(this.deps, { step, groups: options.groups ?? [], dryRun: options.dryRun ?? false });
  }
}

/** A phone number as contacts hold it. */
export const phone = (value: string, types: string[] = ['work']) => ({ types, value });
