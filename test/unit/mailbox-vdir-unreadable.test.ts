import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asHref } from '../../src/domain/ids.js';
import { VdirMailboxServer } from '../../src/mailbox/vdir/vdir-mailbox-server.js';
import { itemText } from '../contract/contract-items.js';

// The tests run as root, whom file permissions do not stop: the refusal a user without
// read permission gets from open() is made here, for one file.
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: (path: string, ...rest: Parameters<typeof real.open> extends [unknown, ...infer R] ? R : never) => {
      if (String(path).endsWith('locked.vcf')) {
        return Promise.reject(
          Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' }),
        );
      }
      return real.open(path, ...rest);
    },
  };
});

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a vdir file that cannot be read', () => {
  it('is reported not read, and the other files are read', async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-vdir-locked-'));
    const server = new VdirMailboxServer(dir, { fsync: false });
    await server.ensureMailbox('alice');
    const folder = join(dir, 'alice', 'contacts');
    await writeFile(join(folder, 'locked.vcf'), itemText('contacts', 'locked', 'Locked'));
    await writeFile(join(folder, 'open.vcf'), itemText('contacts', 'open', 'Open'));
    const contacts = await server.open('alice').collection('contacts');
    const results = [];
    for await (const r of contacts.read([asHref('locked.vcf'), asHref('open.vcf')])) results.push(r);
    expect(results[0]).toEqual({
      href: 'locked.vcf',
      failed: 'the file cannot be read (EACCES): check its permissions',
    });
    expect(results[1]).toMatchObject({ href: 'open.vcf', text: itemText('contacts', 'open', 'Open') });
  });
});
