import { describe, expect, it } from 'vitest';
import { asHref } from '../../src/domain/ids.js';
import { contactCodec } from '../../src/formats/contact-codec.js';
import { memoryItemSync } from '../support/memory-sync.js';

const NO_UID = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nora Nouid\r\nN:Nouid;Nora;;;\r\nEND:VCARD\r\n';

describe('a mailbox item without a UID', () => {
  it('gets a UUID-shaped UID that names nothing of the server, the same on every read', async () => {
    const { server, firm, sync } = await memoryItemSync(contactCodec);
    server.put('acct', 'contacts', 'nouid.vcf', NO_UID);
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
