import type { ItemCodec } from '../../src/domain/codec.js';
import { asUserId, type Uid } from '../../src/domain/ids.js';
import { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import type { MailboxStore } from '../../src/mailbox/port.js';
import { syncCollection } from '../../src/sync/collection-sync.js';
import { emptyReport } from '../../src/sync/report.js';
import { DEFAULT_SETTINGS, type SyncMode, type SyncSettings } from '../../src/sync/settings.js';
import { MemoryFirmStore, MemoryHeldStore } from './memory-firm-store.js';
import { type Note, noteCodec } from './note-codec.js';

/**
 * One user's contacts synced between a memory mailbox (account `acct`) and a memory firm
 * store, for unit tests of one collection's sync. `sync` runs one, through `mailbox` when
 * given (a wrapper that races or refuses), else the account's own.
 */
export async function memorySync() {
  const server = new MemoryMailboxServer();
  await server.ensureMailbox('acct');
  const firm = new MemoryFirmStore<Note>();
  const held = new MemoryHeldStore();
  const target = { user: asUserId('u'), login: 'ann', kind: 'contacts' as const, runId: 'r' };
  const deps = (mailbox: MailboxStore = server.open('acct')) => ({
    codec: noteCodec,
    firm,
    held,
    mailbox,
    now: () => new Date(),
  });
  const sync = async (options: { mailbox?: MailboxStore; settings?: Partial<SyncSettings> } = {}) => {
    const report = emptyReport('ann', 'contacts', false);
    await syncCollection(target, deps(options.mailbox), { ...DEFAULT_SETTINGS, ...options.settings }, report);
    return report;
  };
  return { server, firm, held, target, deps, sync };
}

/**
 * One user's collection of `codec`'s kind synced between a memory mailbox (account
 * `acct`) and a memory firm store, for unit tests with real contacts or events; `sync`
 * runs one in `mode` (express by default) without a calendar window.
 */
export async function memoryItemSync<T extends { readonly uid: Uid }>(codec: ItemCodec<T>) {
  const server = new MemoryMailboxServer();
  await server.ensureMailbox('acct');
  const firm = new MemoryFirmStore<T>();
  const kind = codec.kind;
  const target = { user: asUserId('u'), login: 'ann', kind, runId: 'r' };
  const deps = {
    codec,
    firm,
    held: new MemoryHeldStore(),
    mailbox: server.open('acct'),
    now: () => new Date('2026-12-01T00:00:00Z'),
  };
  const sync = async (mode: SyncMode = 'express') => {
    const report = emptyReport('ann', kind, false);
    await syncCollection(target, deps, { ...DEFAULT_SETTINGS, mode, windowDays: null }, report);
    return report;
  };
  return { server, firm, sync };
}
