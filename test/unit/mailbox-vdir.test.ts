import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asEtag, asHref, asUid } from '../../src/domain/ids.js';
import { parseMarkerNote } from '../../src/mailbox/marker-note-text.js';
import type { MailboxCollection, MailboxStore } from '../../src/mailbox/port.js';
import { VdirMailboxServer } from '../../src/mailbox/vdir/vdir-mailbox-server.js';
import { itemText } from '../contract/contract-items.js';

const card = (uid: string, name = uid) => itemText('contacts', uid, name);

describe('VdirMailboxServer', () => {
  let dir: string;
  let server: VdirMailboxServer;
  let store: MailboxStore;
  let contacts: MailboxCollection;
  let folder: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-vdir-unit-'));
    server = new VdirMailboxServer(dir, { fsync: false });
    await server.ensureMailbox('alice');
    store = server.open('alice');
    contacts = await store.collection('contacts');
    folder = join(dir, 'alice', 'contacts');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('reading', () => {
    it('reports a file that is not UTF-8 as not read, and leaves it as it is', async () => {
      const latin1 = Buffer.from(
        'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:latin1-1\r\nFN:Jos\xe9 L\xf3pez\r\nEND:VCARD\r\n',
        'latin1',
      );
      await writeFile(join(folder, 'latin1.vcf'), latin1);
      await writeFile(join(folder, 'ann.vcf'), card('ann'));
      const results = [];
      for await (const r of contacts.read([asHref('latin1.vcf'), asHref('ann.vcf')])) results.push(r);
      expect(results[0]).toEqual({ href: 'latin1.vcf', failed: 'the file is not valid UTF-8 text' });
      expect(results[1]).toMatchObject({ href: 'ann.vcf', text: card('ann') });
      expect(await readFile(join(folder, 'latin1.vcf'))).toEqual(latin1);
    });
  });

  describe('layout', () => {
    it('ensureMailbox makes DIR/ACCOUNT/contacts and DIR/ACCOUNT/calendar, and nothing else', async () => {
      await server.ensureMailbox('bob');
      expect((await readdir(join(dir, 'bob'))).sort()).toEqual(['calendar', 'contacts']);
      expect(store.location).toBe(join(dir, 'alice'));
      expect((await store.collection('calendar')).location).toBe(join(dir, 'alice', 'calendar'));
    });

    it('collection of a mailbox without its folder fails with NotFound naming the path', async () => {
      const missing = join(dir, 'carol', 'contacts');
      await expect(server.open('carol').collection('contacts')).rejects.toMatchObject({
        kind: 'NotFound',
        context: { collection: missing },
      });
      await rm(join(dir, 'alice', 'calendar'), { recursive: true });
      await expect(store.collection('calendar')).rejects.toMatchObject({ kind: 'NotFound' });
    });

    it.each(['', '.', '..', '../bob', 'a/b', '.hidden', ' padded '])('refuses account name %j', (account) => {
      expect(() => server.open(account)).toThrow(expect.objectContaining({ kind: 'Config' }));
    });

    it('names files after the UID: plain, not hidden, directly in the folder', async () => {
      const uids = ['a/b', '../up', '.dot', 'ünï', 'x'.repeat(400)];
      for (const uid of uids) await contacts.create(asUid(uid), card(uid));
      const names = await readdir(folder);
      expect(names).toHaveLength(uids.length);
      for (const name of names) {
        expect(name.startsWith('.')).toBe(false);
        expect(name.endsWith('.vcf')).toBe(true);
      }
      expect(await readdir(dir)).toEqual(['alice']);
    });
  });

  describe('listing', () => {
    it('lists only item files: not hidden, temporary, other-extension files or folders', async () => {
      await contacts.create(asUid('real'), card('real'));
      await writeFile(join(folder, 'by-khard.VCF'), card('khard'));
      await writeFile(join(folder, '.hidden.vcf'), card('h'));
      await writeFile(join(folder, '.real.vcf.abc123.tmp'), card('t'));
      await writeFile(join(folder, 'notes.txt'), 'x');
      await writeFile(join(folder, '.vcf'), 'x');
      await mkdir(join(folder, 'sub.vcf'));
      expect((await contacts.list()).map((ref) => ref.href).sort()).toEqual(['by-khard.VCF', 'real.vcf']);
    });

    it('reads a file another program wrote, as UTF-8', async () => {
      await writeFile(join(folder, 'other.vcf'), card('other', 'Zoë Ünal'));
      const results = [];
      for await (const result of contacts.read([asHref('other.vcf')])) results.push(result);
      expect(results).toEqual([
        { href: 'other.vcf', etag: (await contacts.list())[0]?.etag, text: card('other', 'Zoë Ünal') },
      ]);
    });

    it('reports hrefs that are not items of the folder as missing, without reading outside it', async () => {
      await writeFile(join(dir, 'alice', 'secret.vcf'), 'secret');
      await writeFile(join(folder, '.hidden.vcf'), 'hidden');
      const asked = ['../secret.vcf', '.hidden.vcf', 'nope.vcf'].map(asHref);
      const results = [];
      for await (const result of contacts.read(asked)) results.push(result);
      expect(results).toEqual(asked.map((href) => ({ href, missing: true })));
    });

    it('lists a symbolic link and reports it not read, without following it', async () => {
      await writeFile(join(dir, 'alice', 'secret.vcf'), card('secret', 'Outside the folder'));
      await symlink(join(dir, 'alice', 'secret.vcf'), join(folder, 'linked.vcf'));
      await writeFile(join(folder, 'plain.vcf'), card('plain'));
      const listed = await contacts.list();
      expect(listed.map((r) => r.href).sort()).toEqual(['linked.vcf', 'plain.vcf']);
      const results = [];
      for await (const result of contacts.read(listed.map((r) => r.href).sort())) results.push(result);
      expect(results[0]).toEqual({
        href: 'linked.vcf',
        failed: 'the file is a symbolic link, which is not followed: put the file itself here',
      });
      expect(results[1]).toMatchObject({ href: 'plain.vcf', text: card('plain') });
    });

    it('refuses to update or delete an href that is not an item of the folder', async () => {
      await writeFile(join(dir, 'alice', 'secret.vcf'), 'secret');
      const etag = asEtag('whatever');
      await expect(contacts.update(asHref('../secret.vcf'), 'x', etag)).rejects.toMatchObject({
        kind: 'InvalidData',
      });
      await expect(contacts.delete(asHref('../secret.vcf'), etag)).rejects.toMatchObject({
        kind: 'InvalidData',
      });
      expect(await readFile(join(dir, 'alice', 'secret.vcf'), 'utf8')).toBe('secret');
    });
  });

  describe('writes', () => {
    it('leave no temporary file behind, after success or refusal', async () => {
      const { href } = await contacts.create(asUid('a'), card('a'));
      await contacts.update(href, card('a', 'A2'), (await contacts.list())[0]!.etag);
      await expect(contacts.create(asUid('a'), card('a'))).rejects.toMatchObject({ kind: 'AlreadyExists' });
      await store.writeMarker({ collections: { contacts: 't' } });
      expect(await readdir(folder)).toEqual(['a.vcf']);
      expect(await readdir(join(dir, 'alice', '.liaison-sync'))).toEqual(['marker.ics']);
      expect(await readFile(join(folder, 'a.vcf'), 'utf8')).toBe(card('a', 'A2'));
    });

    it('of many creates of one UID at once, exactly one wins', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => contacts.create(asUid('race'), card('race', `Racer ${i}`))),
      );
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of outcomes) {
        if (o.status === 'rejected')
          expect(o.reason).toMatchObject({ kind: 'AlreadyExists', context: { href: 'race.vcf' } });
      }
      expect(await readdir(folder)).toEqual(['race.vcf']);
    });

    it('an update replaces the file (new inode), so its etag changes even for identical size', async () => {
      const { href, etag } = await contacts.create(asUid('same'), card('same', 'AAAA'));
      const ino = (await stat(join(folder, href))).ino;
      const next = await contacts.update(href, card('same', 'BBBB'), etag!);
      expect(next.etag).not.toBe(etag);
      expect((await stat(join(folder, href))).ino).not.toBe(ino);
      expect((await contacts.list())[0]?.etag).toBe(next.etag);
    });
  });

  describe('edits in place by another program', () => {
    it('show in the etag and the probe, and make our stale update fail', async () => {
      const { href, etag } = await contacts.create(asUid('e'), card('e', 'Before'));
      const probe = await contacts.probe();
      await writeFile(join(folder, href), card('e', 'After, and longer'));
      expect((await contacts.list())[0]?.etag).not.toBe(etag);
      expect(await contacts.probe()).not.toBe(probe);
      await expect(contacts.update(href, card('e', 'Ours'), etag!)).rejects.toMatchObject({
        kind: 'PreconditionFailed',
      });
    });

    it('show even when the size stays the same, once the modification time differs', async () => {
      const { href, etag } = await contacts.create(asUid('t'), card('t', 'AAAA'));
      const probe = await contacts.probe();
      await writeFile(join(folder, href), card('t', 'BBBB'));
      // The file-system clock ticks in milliseconds; set a distinct time as a later edit would have.
      await utimes(join(folder, href), new Date('2030-01-01'), new Date('2030-01-01'));
      expect((await contacts.list())[0]?.etag).not.toBe(etag);
      expect(await contacts.probe()).not.toBe(probe);
    });

    it('show a file added or removed behind our back in the probe', async () => {
      const probe = await contacts.probe();
      await writeFile(join(folder, 'new.vcf'), card('new'));
      const added = await contacts.probe();
      expect(added).not.toBe(probe);
      await rm(join(folder, 'new.vcf'));
      expect(await contacts.probe()).not.toBe(added);
    });
  });

  describe('marker', () => {
    const markerPath = () => join(dir, 'alice', '.liaison-sync', 'marker.ics');

    it('is a VJOURNAL note in the hidden .liaison-sync folder', async () => {
      await store.writeMarker({ collections: { contacts: '2024-05-01T10:00:00.000Z' } });
      const text = await readFile(markerPath(), 'utf8');
      expect(text).toContain('BEGIN:VJOURNAL\r\n');
      expect(text).toContain('X-LIAISON-LAST-SYNC-CONTACTS:2024-05-01T10:00:00.000Z\r\n');
      expect(text).toContain('SUMMARY:Liaison sync marker - do not delete\r\n');
      expect(parseMarkerNote(text)).toEqual({ collections: { contacts: '2024-05-01T10:00:00.000Z' } });
    });

    it('that cannot be read fails with InvalidData naming the file', async () => {
      await store.writeMarker({ collections: { contacts: 't' } });
      await writeFile(markerPath(), 'BEGIN:VCALENDAR\r\nBEGIN:VJOURNAL\r\nX-LIAISON-LAST-SYNC-CONT');
      await expect(store.readMarker()).rejects.toMatchObject({
        kind: 'InvalidData',
        context: { href: markerPath() },
      });
    });

    it('reads null for a mailbox without one or without a folder at all', async () => {
      expect(await store.readMarker()).toBeNull();
      expect(await server.open('nobody').readMarker()).toBeNull();
    });

    it('is not written for a mailbox that does not exist, and no folder is made for it', async () => {
      await expect(server.open('nobody').writeMarker({ collections: {} })).rejects.toMatchObject({
        kind: 'NotFound',
      });
      expect(await readdir(dir)).toEqual(['alice']);
    });
  });

  it('lists and reads a large folder completely and in order', async () => {
    const count = 1500;
    await Promise.all(
      Array.from({ length: count }, (_, i) => writeFile(join(folder, `f${i}.vcf`), card(`f${i}`, `N${i}`))),
    );
    const refs = await contacts.list();
    expect(refs).toHaveLength(count);
    const asked = Array.from({ length: count }, (_, i) => asHref(`f${i}.vcf`));
    let i = 0;
    for await (const result of contacts.read(asked)) {
      expect(result.href).toBe(`f${i}.vcf`);
      expect('text' in result && result.text).toBe(card(`f${i}`, `N${i}`));
      i += 1;
    }
    expect(i).toBe(count);
  });
});
