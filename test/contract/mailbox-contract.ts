import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Href } from '../../src/domain/ids.js';
import { asEtag, asSyncToken, asUid, COLLECTION_KINDS } from '../../src/domain/ids.js';
import type {
  ItemRef,
  MailboxCollection,
  MailboxServer,
  MailboxStore,
  ReadResult,
} from '../../src/mailbox/port.js';
import { itemText, unfold } from './contract-items.js';

/** What a contract factory hands the suite: a server and an account on it. */
export interface MailboxContractFixture {
  readonly server: MailboxServer;
  /** An account whose mailbox is empty or absent; the suite calls `ensureMailbox` itself. */
  readonly account: string;
  /** Releases what the factory made (a temporary folder, a server account). */
  cleanup?(): Promise<void>;
}

/** What the adapter claims; the suite checks each claim rather than skipping on it. */
export interface MailboxContractOptions {
  /** Whether collections keep a change list (`currentToken` is not null). */
  readonly changeList: boolean;
  /**
   * Whether `read` returns exactly the text written. Default true. A server that rewrites
   * items (adding PRODID, reordering) says false; the suite then checks the content survives.
   */
  readonly preservesText?: boolean;
}

/**
 * Declares the MailboxStore contract suite (SPEC §3) for one adapter. `factory` is called
 * before every test, so each test starts from an empty mailbox.
 */
export function defineMailboxContract(
  name: string,
  factory: () => Promise<MailboxContractFixture>,
  options: MailboxContractOptions,
): void {
  const preservesText = options.preservesText ?? true;

  describe(`MailboxStore contract: ${name}`, () => {
    let fixture: MailboxContractFixture | undefined;
    let store: MailboxStore;

    beforeEach(async () => {
      fixture = await factory();
      await fixture.server.ensureMailbox(fixture.account);
      store = fixture.server.open(fixture.account);
    });

    afterEach(async () => {
      await fixture?.cleanup?.();
      fixture = undefined;
    });

    const expectText = (actual: string, written: string, label: string) => {
      if (preservesText) expect(actual).toBe(written);
      else expect(unfold(actual)).toContain(label);
    };

    for (const kind of COLLECTION_KINDS) {
      describe(kind, () => {
        const open = () => store.collection(kind);

        it('an empty collection lists nothing', async () => {
          expect(await (await open()).list()).toEqual([]);
        });

        it('a created item is listed with the etag the create answered', async () => {
          const coll = await open();
          const written = await coll.create(asUid('item-1'), itemText(kind, 'item-1', 'First'));
          const listing = await coll.list();
          expect(listing.map((ref) => ref.href)).toEqual([written.href]);
          const etag = listing[0]?.etag;
          expect(typeof etag === 'string' && etag.length > 0).toBe(true);
          if (written.etag !== null) expect(etag).toBe(written.etag);
        });

        it('read returns the text that was written, with the listed etag', async () => {
          const coll = await open();
          const text = itemText(kind, 'item-1', 'First');
          const { href } = await coll.create(asUid('item-1'), text);
          const [result] = await readAll(coll, [href]);
          if (result === undefined || !('text' in result)) throw new Error(`${href} was not read`);
          expect(result.href).toBe(href);
          expect(result.etag).toBe(await etagOf(coll, href));
          expectText(result.text, text, 'First');
        });

        it('read of an href that is gone reports it missing', async () => {
          const coll = await open();
          const { href } = await coll.create(asUid('gone'), itemText(kind, 'gone', 'Gone'));
          await coll.delete(href, await etagOf(coll, href));
          expect(await readAll(coll, [href])).toEqual([{ href, missing: true }]);
        });

        it('a second create with the same UID fails with AlreadyExists naming the existing href', async () => {
          const coll = await open();
          const first = await coll.create(asUid('twice'), itemText(kind, 'twice', 'One'));
          await expect(coll.create(asUid('twice'), itemText(kind, 'twice', 'Two'))).rejects.toMatchObject({
            kind: 'AlreadyExists',
            context: { href: first.href },
          });
          expect(await readText(coll, first.href)).toContain('One');
          expect(await coll.list()).toHaveLength(1);
        });

        it('update with the current etag stores the text under a new etag', async () => {
          const coll = await open();
          const { href } = await coll.create(asUid('upd'), itemText(kind, 'upd', 'Before'));
          const before = await etagOf(coll, href);
          const text = itemText(kind, 'upd', 'After');
          const written = await coll.update(href, text, before);
          expect(written.href).toBe(href);
          const after = await etagOf(coll, href);
          expect(after).not.toBe(before);
          if (written.etag !== null) expect(written.etag).toBe(after);
          expectText(await readText(coll, href, { raw: true }), text, 'After');
        });

        it('update with a stale etag fails with PreconditionFailed and changes nothing', async () => {
          const coll = await open();
          const { href } = await coll.create(asUid('stale'), itemText(kind, 'stale', 'V1'));
          const stale = await etagOf(coll, href);
          await coll.update(href, itemText(kind, 'stale', 'V2'), stale);
          const current = await etagOf(coll, href);
          await expect(coll.update(href, itemText(kind, 'stale', 'V3'), stale)).rejects.toMatchObject({
            kind: 'PreconditionFailed',
          });
          expect(await etagOf(coll, href)).toBe(current);
          expect(await readText(coll, href)).toContain('V2');
        });

        it('delete with a stale etag fails with PreconditionFailed and keeps the item', async () => {
          const coll = await open();
          const { href } = await coll.create(asUid('keep'), itemText(kind, 'keep', 'V1'));
          const stale = await etagOf(coll, href);
          await coll.update(href, itemText(kind, 'keep', 'V2'), stale);
          await expect(coll.delete(href, stale)).rejects.toMatchObject({ kind: 'PreconditionFailed' });
          expect((await coll.list()).map((ref) => ref.href)).toEqual([href]);
        });

        it('delete with the current etag empties the listing; deleting again is not an error', async () => {
          const coll = await open();
          const { href } = await coll.create(asUid('del'), itemText(kind, 'del', 'Doomed'));
          const etag = await etagOf(coll, href);
          await coll.delete(href, etag);
          expect(await coll.list()).toEqual([]);
          await expect(coll.delete(href, etag)).resolves.toBeUndefined();
        });

        it('probe stays equal while nothing changes and moves on create, update and delete', async () => {
          const coll = await open();
          const empty = await coll.probe();
          expect(await coll.probe()).toBe(empty);
          const { href } = await coll.create(asUid('p'), itemText(kind, 'p', 'One'));
          const created = await coll.probe();
          expect(created).not.toBe(empty);
          expect(await coll.probe()).toBe(created);
          await coll.update(href, itemText(kind, 'p', 'Two'), await etagOf(coll, href));
          const updated = await coll.probe();
          expect(updated).not.toBe(created);
          await coll.delete(href, await etagOf(coll, href));
          expect(await coll.probe()).not.toBe(updated);
        });

        if (options.changeList) {
          it('changesSince (change list kept) reports creates, updates and deletes since a token', async () => {
            const coll = await open();
            const a = await coll.create(asUid('a'), itemText(kind, 'a', 'A'));
            const b = await coll.create(asUid('b'), itemText(kind, 'b', 'B'));
            await coll.create(asUid('untouched'), itemText(kind, 'untouched', 'U'));
            const token = await coll.currentToken();
            if (token === null)
              throw new Error('currentToken answered null although a change list was claimed');
            const c = await coll.create(asUid('c'), itemText(kind, 'c', 'C'));
            await coll.update(a.href, itemText(kind, 'a', 'A2'), await etagOf(coll, a.href));
            await coll.delete(b.href, await etagOf(coll, b.href));
            const changes = await coll.changesSince(token);
            if (changes === null)
              throw new Error('changesSince answered null although a change list was claimed');
            const listing = new Map((await coll.list()).map((ref) => [ref.href, ref.etag]));
            expect(sorted(changes.changed.map((ref) => ref.href))).toEqual(sorted([a.href, c.href]));
            for (const ref of changes.changed) expect(ref.etag).toBe(listing.get(ref.href));
            expect(changes.removed).toEqual([b.href]);
            const none = await coll.changesSince(changes.token);
            expect(none?.changed).toEqual([]);
            expect(none?.removed).toEqual([]);
          });

          it('changesSince with items (change list kept): the next read gives them in the order asked, then the server is asked again', async () => {
            const coll = await open();
            const a = await coll.create(asUid('a'), itemText(kind, 'a', 'A'));
            const kept = await coll.create(asUid('kept'), itemText(kind, 'kept', 'Kept'));
            const token = await coll.currentToken();
            if (token === null)
              throw new Error('currentToken answered null although a change list was claimed');
            const c = await coll.create(asUid('c'), itemText(kind, 'c', 'C'));
            const a2 = itemText(kind, 'a', 'A2');
            await coll.update(a.href, a2, await etagOf(coll, a.href));
            const changes = await coll.changesSince(token, { withItems: true });
            const etags = new Map(changes?.changed.map((r) => [r.href, r.etag]));
            expect(sorted([...etags.keys()])).toEqual(sorted([a.href, c.href]));

            const read = await readAll(coll, [c.href, kept.href, a.href, c.href]);
            expect(read.map((r) => r.href)).toEqual([c.href, kept.href, a.href, c.href]);
            const texts = read.map((r) => ('text' in r ? r.text : `not read: ${JSON.stringify(r)}`));
            expectText(texts[0] as string, itemText(kind, 'c', 'C'), 'C');
            expectText(texts[1] as string, itemText(kind, 'kept', 'Kept'), 'Kept');
            expectText(texts[2] as string, a2, 'A2');
            const etagRead = (r: ReadResult | undefined) => (r !== undefined && 'etag' in r ? r.etag : null);
            expect(etagRead(read[0])).toBe(etags.get(c.href));
            expect(etagRead(read[2])).toBe(etags.get(a.href));

            // Changed again by another client: a second read is the server's answer, not the list's.
            const other = await open();
            const a3 = itemText(kind, 'a', 'A3');
            await other.update(a.href, a3, await etagOf(other, a.href));
            const [again] = await readAll(coll, [a.href]);
            if (again === undefined || !('text' in again)) throw new Error(`${a.href} was not read again`);
            expectText(again.text, a3, 'A3');
            expect(again.etag).toBe(await etagOf(coll, a.href));
          });

          it('changesSince (change list kept) does not report an item made and removed since the token as changed', async () => {
            const coll = await open();
            const token = await coll.currentToken();
            if (token === null)
              throw new Error('currentToken answered null although a change list was claimed');
            const { href } = await coll.create(asUid('brief'), itemText(kind, 'brief', 'Brief'));
            await coll.delete(href, await etagOf(coll, href));
            const changes = await coll.changesSince(token);
            expect(changes?.changed).toEqual([]);
            // RFC 6578 §3.5.2 allows reporting it removed or not at all.
            expect(changes?.removed.filter((h) => h !== href)).toEqual([]);
          });

          it('listAll (change list kept) lists everything with a token whose changes start after the listing', async () => {
            const coll = await open();
            const a = await coll.create(asUid('a'), itemText(kind, 'a', 'A'));
            const all = await coll.listAll();
            expect(all.refs.map((r) => r.href)).toEqual([a.href]);
            expect(all.refs[0]?.etag).toBe(a.etag ?? all.refs[0]?.etag);
            if (all.token === null)
              throw new Error('listAll gave no token although a change list was claimed');
            const b = await coll.create(asUid('b'), itemText(kind, 'b', 'B'));
            const changes = await coll.changesSince(all.token);
            expect(changes?.changed.map((r) => r.href)).toEqual([b.href]);
          });

          it('listAll with items (change list kept): the next read gives every item in the order asked, then the server is asked again', async () => {
            const coll = await open();
            const a = await coll.create(asUid('a'), itemText(kind, 'a', 'A'));
            const b = await coll.create(asUid('b'), itemText(kind, 'b', 'B'));
            const all = await coll.listAll({ withItems: true });
            const etags = new Map(all.refs.map((r) => [r.href, r.etag]));
            expect(sorted([...etags.keys()])).toEqual(sorted([a.href, b.href]));

            const read = await readAll(coll, [b.href, a.href]);
            expect(read.map((r) => r.href)).toEqual([b.href, a.href]);
            const texts = read.map((r) => ('text' in r ? r.text : `not read: ${JSON.stringify(r)}`));
            expectText(texts[0] as string, itemText(kind, 'b', 'B'), 'B');
            expectText(texts[1] as string, itemText(kind, 'a', 'A'), 'A');
            expect(read.map((r) => ('etag' in r ? r.etag : null))).toEqual([
              etags.get(b.href),
              etags.get(a.href),
            ]);

            // Changed by another client since: a second read is the server's answer, not the listing's.
            const other = await open();
            const a2 = itemText(kind, 'a', 'A2');
            await other.update(a.href, a2, await etagOf(other, a.href));
            const [again] = await readAll(coll, [a.href]);
            if (again === undefined || !('text' in again)) throw new Error(`${a.href} was not read again`);
            expectText(again.text, a2, 'A2');
            if (all.token === null)
              throw new Error('listAll gave no token although a change list was claimed');
            const changes = await coll.changesSince(all.token);
            expect(changes?.changed.map((r) => r.href)).toEqual([a.href]);
          });

          it('changesSince (change list kept) refuses a token it never issued with InvalidSyncToken', async () => {
            const coll = await open();
            await expect(
              coll.changesSince(asSyncToken('http://liaison.invalid/sync/never-issued')),
            ).rejects.toMatchObject({ kind: 'InvalidSyncToken' });
          });
        } else {
          it('listAll (no change list) lists everything with a null token', async () => {
            const coll = await open();
            const a = await coll.create(asUid('a'), itemText(kind, 'a', 'A'));
            const all = await coll.listAll();
            expect(all.token).toBeNull();
            expect(all.refs.map((r) => r.href)).toEqual([a.href]);
          });

          it('changesSince (no change list) answers null, as does currentToken', async () => {
            const coll = await open();
            await coll.create(asUid('x'), itemText(kind, 'x', 'X'));
            expect(await coll.currentToken()).toBeNull();
            expect(await coll.changesSince(asSyncToken('http://liaison.invalid/sync/1'))).toBeNull();
          });
        }

        it('awkward UIDs get distinct hrefs that list, read, update and delete', async () => {
          const coll = await open();
          const hrefs: Href[] = [];
          for (const [i, uid] of AWKWARD_UIDS.entries()) {
            hrefs.push((await coll.create(asUid(uid), itemText(kind, uid, `Awkward ${i}`))).href);
          }
          expect(new Set(hrefs).size).toBe(AWKWARD_UIDS.length);
          expect(sorted((await coll.list()).map((ref) => ref.href))).toEqual(sorted(hrefs));
          for (const [i, href] of hrefs.entries())
            expect(await readText(coll, href)).toContain(`Awkward ${i}`);
          const first = hrefs[0] as Href;
          await coll.update(
            first,
            itemText(kind, AWKWARD_UIDS[0] as string, 'Renamed'),
            await etagOf(coll, first),
          );
          for (const href of hrefs) await coll.delete(href, await etagOf(coll, href));
          expect(await coll.list()).toEqual([]);
        });
      });
    }

    it('bulk read of 500 items yields every result in the order asked, missing ones included', async () => {
      const coll = await store.collection('contacts');
      const uids = Array.from({ length: 501 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
      const hrefByUid = new Map<string, Href>();
      for (let i = 0; i < uids.length; i += 25) {
        await Promise.all(
          uids.slice(i, i + 25).map(async (uid) => {
            hrefByUid.set(
              uid,
              (await coll.create(asUid(uid), itemText('contacts', uid, `Name ${uid}`))).href,
            );
          }),
        );
      }
      const gone = hrefByUid.get('bulk-500') as Href;
      await coll.delete(gone, await etagOf(coll, gone));
      // Reverse order, with the deleted href asked for at three places.
      const asked = [
        gone,
        ...uids
          .slice(0, 500)
          .reverse()
          .map((uid) => hrefByUid.get(uid) as Href),
      ];
      asked.splice(250, 0, gone);
      asked.push(gone);
      const results = await readAll(coll, asked);
      expect(results.map((result) => result.href)).toEqual(asked);
      const etags = new Map((await coll.list()).map((ref) => [ref.href, ref.etag]));
      for (const result of results) {
        if (result.href === gone) {
          expect(result).toEqual({ href: gone, missing: true });
        } else {
          if (!('text' in result)) throw new Error(`${result.href} reported missing`);
          expect(result.etag).toBe(etags.get(result.href));
          const uid = [...hrefByUid].find(([, href]) => href === result.href)?.[0];
          expect(unfold(result.text)).toContain(`Name ${uid}`);
        }
      }
    });

    it('the marker reads null, then reads back what was written, then the overwrite', async () => {
      expect(await store.readMarker()).toBeNull();
      const first = { collections: { contacts: '2024-05-01T10:00:00.000Z' } };
      await store.writeMarker(first);
      expect(await store.readMarker()).toEqual(first);
      const second = {
        collections: { contacts: '2024-05-02T10:00:00.000Z', calendar: '2024-05-02T10:00:01.000Z' },
      };
      await store.writeMarker(second);
      expect(await store.readMarker()).toEqual(second);
    });

    it('the marker is not an item of either collection and leaves their probes alone', async () => {
      const probes = await Promise.all(
        COLLECTION_KINDS.map(async (k) => (await store.collection(k)).probe()),
      );
      await store.writeMarker({ collections: { contacts: '2024-05-01T10:00:00.000Z' } });
      for (const [i, kind] of COLLECTION_KINDS.entries()) {
        const coll = await store.collection(kind);
        expect(await coll.list()).toEqual([]);
        expect(await coll.probe()).toBe(probes[i]);
      }
    });

    it('contacts and calendar are independent, even for one UID', async () => {
      const contacts = await store.collection('contacts');
      const calendar = await store.collection('calendar');
      const calendarProbe = await calendar.probe();
      const card = await contacts.create(asUid('shared'), itemText('contacts', 'shared', 'Card'));
      expect(await calendar.list()).toEqual([]);
      expect(await calendar.probe()).toBe(calendarProbe);
      const event = await calendar.create(asUid('shared'), itemText('calendar', 'shared', 'Event'));
      await contacts.delete(card.href, await etagOf(contacts, card.href));
      expect(await contacts.list()).toEqual([]);
      expect((await calendar.list()).map((ref) => ref.href)).toEqual([event.href]);
    });

    it('ensureMailbox on an existing mailbox keeps its items', async () => {
      const coll = await store.collection('contacts');
      const { href } = await coll.create(asUid('kept'), itemText('contacts', 'kept', 'Kept'));
      await fixture?.server.ensureMailbox(fixture.account);
      expect((await (await store.collection('contacts')).list()).map((ref: ItemRef) => ref.href)).toEqual([
        href,
      ]);
    });

    it('update of an href that holds no item fails with PreconditionFailed', async () => {
      const coll = await store.collection('contacts');
      const { href } = await coll.create(asUid('vanish'), itemText('contacts', 'vanish', 'Vanish'));
      const etag = await etagOf(coll, href);
      await coll.delete(href, etag);
      await expect(coll.update(href, itemText('contacts', 'vanish', 'Back'), etag)).rejects.toMatchObject({
        kind: 'PreconditionFailed',
      });
      expect(await coll.list()).toEqual([]);
      await expect(coll.update(href, 'x', asEtag('never-issued'))).rejects.toMatchObject({
        kind: 'PreconditionFailed',
      });
    });
  });
}

/** UIDs that break naive href derivation: separators, escapes, dots, non-ASCII, length. */
const AWKWARD_UIDS: readonly string[] = [
  'a/b',
  'a%2Fb',
  'a b',
  '../escape',
  '.hidden',
  'urn:uuid:0b3f6c1e-2a8d-4e7a-9d1c-5f6e7a8b9c0d',
  'ünïcødé-日本語',
  'emoji-😀',
  'percent%',
  'x'.repeat(300),
  `${'x'.repeat(300)}y`,
  `${'é'.repeat(150)}`,
];

function sorted(values: readonly string[]): string[] {
  return [...values].sort();
}

async function readAll(coll: MailboxCollection, hrefs: readonly Href[]): Promise<ReadResult[]> {
  const results: ReadResult[] = [];
  for await (const result of coll.read(hrefs)) results.push(result);
  return results;
}

/** The text of one item, unfolded unless `raw`; fails the test when the item is missing. */
async function readText(
  coll: MailboxCollection,
  href: Href,
  options: { raw?: boolean } = {},
): Promise<string> {
  const [result] = await readAll(coll, [href]);
  if (result === undefined || !('text' in result)) throw new Error(`${href} could not be read`);
  return options.raw ? result.text : unfold(result.text);
}

/** The item's etag from a listing: the one source every adapter must give. */
async function etagOf(coll: MailboxCollection, href: Href) {
  const ref = (await coll.list()).find((r) => r.href === href);
  if (ref === undefined) throw new Error(`${href} is not listed in ${coll.location}`);
  return ref.etag;
}
