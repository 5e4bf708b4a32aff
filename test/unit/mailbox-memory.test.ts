import { beforeEach, describe, expect, it } from 'vitest';
import type { Href } from '../../src/domain/ids.js';
import { asHref, asUid } from '../../src/domain/ids.js';
import { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import type { MailboxCollection } from '../../src/mailbox/port.js';
import { itemText } from '../contract/contract-items.js';

const card = (uid: string, name = uid) => itemText('contacts', uid, name);

async function hrefs(coll: MailboxCollection): Promise<Href[]> {
  return (await coll.list()).map((ref) => ref.href).sort();
}

describe('MemoryMailboxServer', () => {
  let server: MemoryMailboxServer;
  let contacts: MailboxCollection;

  beforeEach(async () => {
    server = new MemoryMailboxServer();
    await server.ensureMailbox('alice');
    contacts = await server.open('alice').collection('contacts');
  });

  it('has no collections for an account before ensureMailbox, and no marker', async () => {
    const store = server.open('bob');
    await expect(store.collection('contacts')).rejects.toMatchObject({ kind: 'NotFound' });
    expect(await store.readMarker()).toBeNull();
    await expect(store.writeMarker({ collections: {} })).rejects.toMatchObject({ kind: 'NotFound' });
  });

  it('keeps accounts apart', async () => {
    await server.ensureMailbox('bob');
    await contacts.create(asUid('a'), card('a'));
    expect(server.items('bob', 'contacts').size).toBe(0);
    expect([...server.items('alice', 'contacts').values()]).toEqual([card('a')]);
  });

  describe('direct edits (a user at their client)', () => {
    it('put and remove show in listings, etags, probes and the change list', async () => {
      const token = await contacts.currentToken();
      const probe = await contacts.probe();
      const etag = server.put('alice', 'contacts', 'by-user.vcf', card('u'));
      expect(await contacts.list()).toEqual([{ href: 'by-user.vcf', etag }]);
      expect(await contacts.probe()).not.toBe(probe);
      expect((await contacts.changesSince(token!))?.changed).toEqual([{ href: 'by-user.vcf', etag }]);
      expect(server.remove('alice', 'contacts', 'by-user.vcf')).toBe(true);
      expect(server.remove('alice', 'contacts', 'by-user.vcf')).toBe(false);
      expect((await contacts.changesSince(token!))?.removed).toEqual(['by-user.vcf']);
    });

    it('a create whose UID a user stored under another href fails, naming that href', async () => {
      server.put('alice', 'contacts', 'odd-name.vcf', card('same-uid'));
      await expect(contacts.create(asUid('same-uid'), card('same-uid'))).rejects.toMatchObject({
        kind: 'AlreadyExists',
        context: { href: 'odd-name.vcf' },
      });
    });

    it('items returns a copy', async () => {
      server.items('alice', 'contacts').set(asHref('x.vcf'), 'x');
      expect(server.items('alice', 'contacts').size).toBe(0);
    });
  });

  describe('etag faults', () => {
    it('flaky etags: each listing shows new etags for unchanged text, and writes need the latest', async () => {
      const { href } = await contacts.create(asUid('f'), card('f'));
      server.setFlakyEtags(true);
      const first = (await contacts.list())[0]?.etag;
      const second = (await contacts.list())[0]?.etag;
      expect(first).toBeDefined();
      expect(second).not.toBe(first);
      expect(server.items('alice', 'contacts').get(href)).toBe(card('f'));
      await expect(contacts.update(href, card('f', 'New'), first!)).rejects.toMatchObject({
        kind: 'PreconditionFailed',
      });
      await contacts.update(href, card('f', 'New'), second!);
      server.setFlakyEtags(false);
      expect((await contacts.list())[0]?.etag).toBe((await contacts.list())[0]?.etag);
    });

    it('missing etags after write: create and update answer null, listings still carry etags', async () => {
      server.setEtagsMissingAfterWrite(true);
      const created = await contacts.create(asUid('m'), card('m'));
      expect(created.etag).toBeNull();
      const etag = (await contacts.list())[0]!.etag;
      expect((await contacts.update(created.href, card('m', 'M2'), etag)).etag).toBeNull();
      expect((await contacts.list())[0]?.etag).not.toBe(etag);
    });
  });

  describe('failNthOperation', () => {
    it('fails the n-th operation before its effect, once, and counts every operation', async () => {
      const before = server.operationCount;
      server.failNthOperation(2);
      await contacts.list();
      await expect(contacts.create(asUid('lost'), card('lost'))).rejects.toMatchObject({
        kind: 'Unavailable',
      });
      expect(server.items('alice', 'contacts').size).toBe(0);
      await contacts.create(asUid('kept'), card('kept'));
      expect(server.operationCount - before).toBe(3);
    });

    it('after the effect: the write is stored although the caller sees Unavailable', async () => {
      server.failNthOperation(1, { afterEffect: true });
      await expect(contacts.create(asUid('stored'), card('stored'))).rejects.toMatchObject({
        kind: 'Unavailable',
      });
      expect([...server.items('alice', 'contacts').keys()]).toEqual(['stored.vcf']);
    });

    it('counts only the operations named', async () => {
      server.failNthOperation(2, { operations: ['update', 'delete'] });
      const { href } = await contacts.create(asUid('a'), card('a'));
      let etag = (await contacts.list())[0]!.etag;
      etag = (await contacts.update(href, card('a', 'A2'), etag)).etag!;
      await expect(contacts.delete(href, etag)).rejects.toMatchObject({ kind: 'Unavailable' });
      expect(await hrefs(contacts)).toEqual([href]);
    });

    it('fails reads and marker operations too, and can be cancelled', async () => {
      server.failNthOperation(1, { operations: ['read'] });
      const read = async () => {
        for await (const _ of contacts.read([asHref('x.vcf')])) break;
      };
      await expect(read()).rejects.toMatchObject({ kind: 'Unavailable' });
      server.failNthOperation(1, { operations: ['writeMarker'] });
      await expect(server.open('alice').writeMarker({ collections: {} })).rejects.toMatchObject({
        kind: 'Unavailable',
      });
      server.failNthOperation(1);
      server.clearFault();
      await expect(contacts.list()).resolves.toEqual([]);
    });

    it('refuses a count below 1', () => {
      expect(() => server.failNthOperation(0)).toThrow(RangeError);
    });
  });

  describe('sync tokens', () => {
    it('refuses a token lagging more changes behind than the horizon', async () => {
      const limited = new MemoryMailboxServer({ tokenHorizon: 2 });
      await limited.ensureMailbox('alice');
      const coll = await limited.open('alice').collection('contacts');
      const token = (await coll.currentToken())!;
      await coll.create(asUid('a'), card('a'));
      await coll.create(asUid('b'), card('b'));
      expect((await coll.changesSince(token))?.changed).toHaveLength(2);
      await coll.create(asUid('c'), card('c'));
      await expect(coll.changesSince(token)).rejects.toMatchObject({ kind: 'InvalidSyncToken' });
    });

    it('invalidateTokens refuses every earlier token, also the current one', async () => {
      const token = (await contacts.currentToken())!;
      server.invalidateTokens('alice', 'contacts');
      await expect(contacts.changesSince(token)).rejects.toMatchObject({ kind: 'InvalidSyncToken' });
      const fresh = (await contacts.currentToken())!;
      expect((await contacts.changesSince(fresh))?.changed).toEqual([]);
    });

    it('a token of one collection is refused by another', async () => {
      const calendar = await server.open('alice').collection('calendar');
      const token = (await calendar.currentToken())!;
      await expect(contacts.changesSince(token)).rejects.toMatchObject({ kind: 'InvalidSyncToken' });
    });
  });

  describe('wipe and restore', () => {
    it('wipe empties items and marker and kills tokens; restore brings them back with new etags', async () => {
      const store = server.open('alice');
      await contacts.create(asUid('a'), card('a'));
      await store.writeMarker({ collections: { contacts: 't1' } });
      const oldEtag = (await contacts.list())[0]!.etag;
      const backup = server.snapshot('alice');
      const token = (await contacts.currentToken())!;
      const probe = await contacts.probe();

      server.wipe('alice');
      expect(await contacts.list()).toEqual([]);
      expect(await store.readMarker()).toBeNull();
      await expect(contacts.changesSince(token)).rejects.toMatchObject({ kind: 'InvalidSyncToken' });

      await contacts.create(asUid('b'), card('b'));
      server.restore('alice', backup);
      expect([...server.items('alice', 'contacts').keys()]).toEqual(['a.vcf']);
      expect(await store.readMarker()).toEqual({ collections: { contacts: 't1' } });
      expect((await contacts.list())[0]?.etag).not.toBe(oldEtag);
      expect(await contacts.probe()).not.toBe(probe);
      await expect(contacts.changesSince(token)).rejects.toMatchObject({ kind: 'InvalidSyncToken' });
    });

    it('restore with keepEtags keeps the backed-up etags', async () => {
      await contacts.create(asUid('a'), card('a'));
      const listing = await contacts.list();
      const backup = server.snapshot('alice');
      server.wipe('alice');
      server.restore('alice', backup, { keepEtags: true });
      expect(await contacts.list()).toEqual(listing);
    });
  });

  it('stores markers by value', async () => {
    const store = server.open('alice');
    const collections: Record<string, string> = { contacts: 't1' };
    await store.writeMarker({ collections });
    collections.contacts = 'changed';
    expect(await store.readMarker()).toEqual({ collections: { contacts: 't1' } });
    server.setMarker('alice', null);
    expect(await store.readMarker()).toBeNull();
    expect(server.marker('alice')).toBeNull();
  });
});
