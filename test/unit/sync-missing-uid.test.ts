import { describe, expect, it } from 'vitest';
import type { Contact } from '../../src/domain/contact.js';
import { asHref, asUserId } from '../../src/domain/ids.js';
import { contactCodec } from '../../src/formats/contact-codec.js';
import { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import { syncCollection } from '../../src/sync/collection-sync.js';
import { emptyReport } from '../../src/sync/report.js';
import { DEFAULT_SETTINGS } from '../../src/sync/settings.js';
import { MemoryFirmStore, MemoryHeldStore } from '../support/memory-firm-store.js';

const NO_UID = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nora Nouid\r\nN:Nouid;Nora;;;\r\nEND:VCARD\r\n';

describe('a mailbox item without a UID', () => {
  it('gets a UUID-shaped UID that names nothing of the server, the same on every read', async () => {
    const server = new MemoryMailboxServer();
    await server.ensureMailbox('acct');
    server.put('acct', 'contacts', 'nouid.vcf', NO_UID);
    const firm = new MemoryFirmStore<Contact>();
    const target = { user: asUserId('u'), login: 'ann', kind: 'contacts' as const, runId: 'r' };
    const deps = {
      codec: contactCodec,
      firm,
      held: new MemoryHeldStore(),
      mailbox: server.open('acct'),
      now: () => new Date(),
    };
    const sync = async (mode: 'complete' | 'express') => {
      const report = emptyReport('ann', 'contacts', false);
      await syncCollection(target, deps, { ...DEFAULT_SETTINGS, mode }, report);
      return report;
    };
    await sync('complete');
    const [id, contact] = [...firm.items.entries()][0]!;
    expect(contact.uid).toMatch(/^liaison-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await sync('complete')).outcome).toBe('unchanged');

    firm.userPut(id, { ...contact, title: 'Counsel' });
    await sync('express');
    const written = server.items('acct', 'contacts').get(asHref('nouid.vcf'))!;
    expect(written).toContain(`UID:${contact.uid}\r\n`);
    expect(written).toContain('TITLE:Counsel');
  });
});
