import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asSyncToken, asUid, type Href } from '../../src/domain/ids.js';
import type { MarkerPlacement } from '../../src/mailbox/dav/dav-config.js';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import type { DavRequestEvent } from '../../src/mailbox/dav/dav-transport.js';
import { testDavServer } from '../../src/mailbox/dav/test-dav-server.js';
import type { MailboxCollection } from '../../src/mailbox/port.js';
import { itemText } from '../contract/contract-items.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import { startXandikos, type XandikosServer } from '../support/dav-servers/xandikos.js';

let xandikos: XandikosServer;
let users = 0;
const servers: DavMailboxServer[] = [];

beforeAll(async () => {
  xandikos = await startXandikos();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await xandikos?.stop();
});

function davServer(markerPlacement?: MarkerPlacement) {
  const server = new DavMailboxServer(davTestConfig(xandikos), {
    backoffMs: 10,
    ...(markerPlacement ? { markerPlacement } : {}),
  });
  servers.push(server);
  return server;
}

async function newUser(): Promise<string> {
  users += 1;
  const name = `xuser${users}`;
  await xandikos.addUser(name);
  await davServer().ensureMailbox(name);
  return name;
}

/** Puts a Latin-1 vCard (not UTF-8) and a plain one named `name` into the address book `book`. */
async function putLatin1Beside(book: URL, name: string, fn: string): Promise<void> {
  const latin1 = Buffer.from(
    'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:latin1\r\nFN:Jos\xe9 L\xf3pez\r\nEND:VCARD\r\n',
    'latin1',
  );
  for (const [file, body] of [
    ['latin1.vcf', latin1],
    [`${name}.vcf`, itemText('contacts', name, fn)],
  ] as const) {
    const put = await fetch(new URL(file, book), {
      method: 'PUT',
      headers: { 'content-type': 'text/vcard' },
      body,
    });
    expect(put.status).toBe(201);
  }
}

describe('Xandikos', () => {
  it('discovers its default principal and the collections --defaults made', async () => {
    const server = davServer();
    expect((await server.discovery.service()).principal).toBe('/user/');
    expect(await server.mailbox('user')).toMatchObject({
      principal: '/user/',
      homes: { contacts: '/user/contacts/', calendar: '/user/calendars/' },
      collections: {
        contacts: { href: '/user/contacts/addressbook/', syncCollection: true },
        calendar: { href: '/user/calendars/calendar/', syncCollection: true },
      },
      // Xandikos advertises "calendar-auto-scheduling"; Liaison takes it at its word.
      autoSchedule: true,
    });
  });

  it('finds another principal at /ACCOUNT/ (it has no principal-collection-set), after making its homes', async () => {
    const user = await newUser();
    expect(await davServer().mailbox(user)).toMatchObject({
      principal: `/${user}/`,
      collections: {
        contacts: { href: `/${user}/contacts/contacts/` },
        calendar: { href: `/${user}/calendars/calendar/` },
      },
    });
  });

  it('reads the 500 it answers to an unknown sync token as an invalid token', async () => {
    const user = await newUser();
    const coll = await davServer().open(user).collection('calendar');
    await coll.create(asUid('x'), itemText('calendar', 'x', 'X'));
    const token = await coll.currentToken();
    expect(token).toMatch(/^[0-9a-f]{40}$/);
    await expect(
      coll.changesSince(asSyncToken('0000000000000000000000000000000000000000')),
    ).rejects.toMatchObject({
      kind: 'InvalidSyncToken',
    });
    await coll.create(asUid('y'), itemText('calendar', 'y', 'Y'));
    const changes = await coll.changesSince(token ?? asSyncToken(''));
    expect(changes?.changed.map((r) => r.href)).toEqual([`/${user}/calendars/calendar/y.ics`]);
  });

  it('reports a UID held by another href as AlreadyExists without claiming our href', async () => {
    const user = await newUser();
    const elsewhere = new URL(`/${user}/calendars/calendar/by-another-client.ics`, xandikos.url);
    const put = await fetch(elsewhere, {
      method: 'PUT',
      headers: { 'content-type': 'text/calendar' },
      body: itemText('calendar', 'shared-uid', 'Theirs'),
    });
    expect(put.status).toBe(201);
    const coll = await davServer().open(user).collection('calendar');
    const e = await coll
      .create(asUid('shared-uid'), itemText('calendar', 'shared-uid', 'Ours'))
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ kind: 'AlreadyExists' });
    expect((e as { context: { href?: string } }).context.href).not.toBe(
      `/${user}/calendars/calendar/shared-uid.ics`,
    );
    expect((await coll.list()).map((r) => r.href)).toEqual([
      `/${user}/calendars/calendar/by-another-client.ics`,
    ]);
  });

  it('serves the other items of a multiget it fails for a vCard that is not UTF-8; that one is reported', async () => {
    const user = await newUser();
    const { collections } = await davServer().mailbox(user);
    const book = new URL(collections.contacts!.href, xandikos.url);
    await putLatin1Beside(book, 'ann', 'Ann');
    const coll = await davServer().open(user).collection('contacts');
    const hrefs = (await coll.list()).map((r) => r.href).sort();
    const results = [];
    for await (const r of coll.read(hrefs)) results.push(r);
    expect(results.map((r) => ('failed' in r ? `${r.href}: ${r.failed}` : r.href))).toEqual([
      `${book.pathname}ann.vcf`,
      `${book.pathname}latin1.vcf: the server answered with text that is not valid UTF-8`,
    ]);
  });

  // Each asks with the items, and returns the hrefs of the items made in between.
  const askedWithItems: [
    string,
    (coll: MailboxCollection, make: () => Promise<Href[]>) => Promise<Href[]>,
  ][] = [
    [
      'a change list (404 for it)',
      async (coll, make) => {
        const token = await coll.currentToken();
        if (token === null) throw new Error('Xandikos keeps change lists');
        const made = await make();
        await coll.changesSince(token, { withItems: true });
        return made;
      },
    ],
    [
      'a full listing either, as a first sync asks',
      async (coll, make) => {
        const made = await make();
        const all = await coll.listAll({ withItems: true });
        expect(all.refs.map((r) => r.href).sort()).toEqual([...made].sort());
        return made;
      },
    ],
  ];

  it.each(askedWithItems)('gives no item data in %s: the items are read by one multiget', async (_, ask) => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    const coll = await new DavMailboxServer(davTestConfig(xandikos), { onRequest: (e) => events.push(e) })
      .open(user)
      .collection('contacts');
    const made = await ask(coll, async () => {
      const hrefs: Href[] = [];
      for (const name of ['Ann', 'Ben'])
        hrefs.push((await coll.create(asUid(name), itemText('contacts', name, name))).href);
      events.length = 0;
      return hrefs;
    });
    const results = [];
    for await (const r of coll.read(made)) results.push(r);
    // The REPORT asked with items, then the multiget; the sync marker's requests (asked
    // ahead after a change list) go elsewhere.
    const book = new URL(made[0]!, xandikos.url).pathname.replace(/[^/]*$/, '');
    expect(events.filter((e) => new URL(e.url).pathname.startsWith(book)).map((e) => e.method)).toEqual([
      'REPORT',
      'REPORT',
    ]);
    expect(results.map((r) => ('text' in r ? /FN:(\w+)/.exec(r.text)?.[1] : r))).toEqual(['Ann', 'Ben']);
  });

  it('lists a change whose items include a vCard that is not UTF-8; reading then reports that one alone', async () => {
    const user = await newUser();
    const { collections } = await davServer().mailbox(user);
    const book = new URL(collections.contacts!.href, xandikos.url);
    const coll = await davServer().open(user).collection('contacts');
    const token = await coll.currentToken();
    if (token === null) throw new Error('Xandikos keeps change lists');
    await putLatin1Beside(book, 'bob', 'Bob');
    const changes = await coll.changesSince(token, { withItems: true });
    const hrefs = (changes?.changed ?? []).map((r) => r.href).sort();
    expect(hrefs).toEqual([`${book.pathname}bob.vcf`, `${book.pathname}latin1.vcf`]);
    const results = [];
    for await (const r of coll.read(hrefs)) results.push(r);
    expect(
      results.map((r) =>
        'failed' in r ? `${r.href}: ${r.failed}` : 'text' in r && /FN:(\w+)/.exec(r.text)?.[1],
      ),
    ).toEqual(['Bob', `${book.pathname}latin1.vcf: the server answered with text that is not valid UTF-8`]);
  });

  it('is reached again after a restart, with its data and its principals', async () => {
    const user = await newUser();
    const coll = await davServer().open(user).collection('contacts');
    const { href } = await coll.create(asUid('kept'), itemText('contacts', 'kept', 'Kept'));
    await xandikos.restart();
    expect((await coll.list()).map((r) => r.href)).toEqual([href]);
    expect((await davServer().mailbox(user)).principal).toBe(`/${user}/`);
  });

  it('reports its capabilities: no dead properties, so the marker goes into a collection', async () => {
    const user = await newUser();
    expect(await testDavServer(davTestConfig(xandikos), user)).toMatchObject({
      principal: `/${user}/`,
      syncCollection: true,
      ctag: true,
      multiget: true,
      vjournal: true,
      deadProperties: false,
      autoSchedule: true,
      markerPlacement: 'collection',
    });
  });

  it('holds the marker as a collection or an item, and refuses the property placement', async () => {
    const user = await newUser();
    const note = { collections: { calendar: '2026-05-01T10:00:00.000Z' } };
    await davServer().open(user).writeMarker(note);
    expect(await davServer('collection').open(user).readMarker()).toEqual(note);
    expect((await davServer().mailbox(user)).collections.calendar?.href).toBe(`/${user}/calendars/calendar/`);

    const other = await newUser();
    await expect(davServer('property').open(other).writeMarker(note)).rejects.toMatchObject({
      kind: 'Config',
    });
    await davServer('item').open(other).writeMarker(note);
    expect(await davServer().open(other).readMarker()).toEqual(note);
    expect(await (await davServer().open(other).collection('calendar')).list()).toEqual([]);
  });
});
