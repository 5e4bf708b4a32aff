import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLiaisonError, type LiaisonError } from '../../src/domain/errors.js';
import { asEtag, asHref, asSyncToken, asUid, type Href } from '../../src/domain/ids.js';
import type { DavServerConfig } from '../../src/mailbox/dav/dav-config.js';
import { type DavMailboxOptions, DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import type { DavRequestEvent } from '../../src/mailbox/dav/dav-transport.js';
import { testDavServer } from '../../src/mailbox/dav/test-dav-server.js';
import type { MailboxCollection, ReadResult } from '../../src/mailbox/port.js';
import { itemText } from '../contract/contract-items.js';
import { startDavProxy } from '../support/dav-servers/dav-proxy.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { freePort } from '../support/dav-servers/server-process.js';

let radicale: RadicaleServer;
let users = 0;
const servers: DavMailboxServer[] = [];

beforeAll(async () => {
  radicale = await startRadicale();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await radicale?.stop();
});

function davServer(overrides: Partial<DavServerConfig> = {}, options: DavMailboxOptions = {}) {
  const server = new DavMailboxServer(davTestConfig(radicale, overrides), { backoffMs: 10, ...options });
  servers.push(server);
  return server;
}

/** A user with an empty address book and calendar. */
async function newUser(prefix = 'user'): Promise<string> {
  users += 1;
  const name = `${prefix}${users}`;
  await radicale.addUser(name);
  await davServer().ensureMailbox(name);
  return name;
}

/** A request as the service account, outside Liaison's client. */
async function raw(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, radicale.url), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      'content-type': 'application/xml; charset=utf-8',
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, text: await response.text() };
}

async function readAll(results: AsyncIterable<ReadResult>): Promise<ReadResult[]> {
  const out: ReadResult[] = [];
  for await (const r of results) out.push(r);
  return out;
}

async function failure(promise: Promise<unknown>): Promise<LiaisonError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isLiaisonError(e)) throw new Error(`expected a LiaisonError, got ${String(e)}`);
  return e;
}

describe('discovery on Radicale', () => {
  it('follows the well-known redirect to the service principal, then finds another user by the principal collection', async () => {
    const alice = await newUser('alice');
    const events: DavRequestEvent[] = [];
    const server = davServer({}, { onRequest: (e) => events.push(e) });
    const mailbox = await server.mailbox(alice);
    expect(events.slice(0, 2).map((e) => [e.method, new URL(e.url).pathname, e.status])).toEqual([
      ['PROPFIND', '/.well-known/caldav', 301],
      ['PROPFIND', '/', 207],
    ]);
    expect((await server.discovery.service()).principal).toBe(`/${radicale.username}/`);
    expect(mailbox).toMatchObject({
      principal: `/${alice}/`,
      homes: { contacts: `/${alice}/`, calendar: `/${alice}/` },
      collections: {
        contacts: { href: `/${alice}/contacts/`, syncCollection: true, multiget: true },
        calendar: { href: `/${alice}/calendar/`, syncCollection: true, multiget: true },
      },
      autoSchedule: false,
    });
    // Cached: a second look costs nothing.
    const before = events.length;
    await server.mailbox(alice);
    expect(events.length).toBe(before);
  });

  it('takes an absolute path or URL as the principal', async () => {
    const bob = await newUser('bob');
    for (const account of [`/${bob}/`, new URL(`/${bob}/`, radicale.url).href]) {
      expect((await davServer().mailbox(account)).collections.contacts?.href).toBe(`/${bob}/contacts/`);
    }
  });

  it('says NotFound, naming the user, for a user without a principal', async () => {
    const e = await failure(davServer().mailbox('never-logged-in'));
    expect(e.kind).toBe('NotFound');
    expect(e.message).toContain('never-logged-in');
    expect(e.message).toContain('test-dav');
  });

  it('prefers a default-named collection, or the configured one, and never a task list', async () => {
    const carol = await newUser('carol');
    await raw(
      'MKCOL',
      `/${carol}/aaa-work/`,
      '<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav"><D:set><D:prop><D:resourcetype><D:collection/><A:addressbook/></D:resourcetype><D:displayname>Work people</D:displayname></D:prop></D:set></D:mkcol>',
    );
    await raw(
      'MKCALENDAR',
      `/${carol}/aaa-tasks/`,
      '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><C:supported-calendar-component-set><C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>',
    );
    const chosen = await davServer().mailbox(carol);
    expect(chosen.collections.contacts?.href).toBe(`/${carol}/contacts/`);
    expect(chosen.collections.calendar?.href).toBe(`/${carol}/calendar/`);
    for (const name of ['aaa-work', 'work people']) {
      expect((await davServer({ addressbook: name }).mailbox(carol)).collections.contacts?.href).toBe(
        `/${carol}/aaa-work/`,
      );
    }
    expect((await davServer({ calendar: 'aaa-tasks' }).mailbox(carol)).collections.calendar).toBeNull();
  });
});

describe('change lists on Radicale', () => {
  it('reports changes incrementally from each token, with one small request for token and probe', async () => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    const coll = await davServer({}, { onRequest: (e) => events.push(e) })
      .open(user)
      .collection('contacts');
    const a = await coll.create(asUid('a'), itemText('contacts', 'a', 'A'));
    const b = await coll.create(asUid('b'), itemText('contacts', 'b', 'B'));
    events.length = 0;
    const t1 = await coll.currentToken();
    const p1 = await coll.probe();
    expect(events.map((e) => e.method)).toEqual(['PROPFIND', 'PROPFIND']);
    if (t1 === null) throw new Error('Radicale keeps change lists');
    expect(p1).toBe(`sync:${t1}`);

    const etagB = (await coll.list()).find((r) => r.href === b.href)?.etag ?? asEtag('');
    await coll.update(b.href, itemText('contacts', 'b', 'B2'), etagB);
    const c = await coll.create(asUid('c'), itemText('contacts', 'c', 'C'));
    await coll.delete(a.href, (await coll.list()).find((r) => r.href === a.href)?.etag ?? asEtag(''));
    const first = await coll.changesSince(t1);
    expect(first?.changed.map((r) => r.href).sort()).toEqual([b.href, c.href].sort());
    expect(first?.removed).toEqual([a.href]);
    const second = await coll.changesSince(first?.token ?? asSyncToken(''));
    expect(second).toMatchObject({ changed: [], removed: [] });
    expect(await coll.probe()).toBe(`sync:${first?.token}`);

    const e = await failure(coll.changesSince(asSyncToken('http://radicale.org/ns/sync/bogus')));
    expect(e.kind).toBe('InvalidSyncToken');
    expect(e.message).toContain(`/${user}/contacts/`);
  });
});

/**
 * Each asks with the items (`make` creates them, as the change list or the listing must
 * name them) and returns the etag the answer gave each item, by href.
 */
const askedWithItems: [
  string,
  (coll: MailboxCollection, make: () => Promise<void>) => Promise<ReadonlyMap<string, string>>,
][] = [
  [
    'a change list that carries the changed items',
    async (coll, make) => {
      const token = await coll.currentToken();
      if (token === null) throw new Error('Radicale keeps change lists');
      await make();
      const changes = await coll.changesSince(token, { withItems: true });
      return new Map((changes?.changed ?? []).map((c) => [c.href, c.etag]));
    },
  ],
  [
    "a full listing with every item's data, as a first sync asks",
    async (coll, make) => {
      await make();
      const all = await coll.listAll({ withItems: true });
      return new Map(all.refs.map((c) => [c.href, c.etag]));
    },
  ],
];

describe.each(askedWithItems)('%s', (_, ask) => {
  it('hands over contacts and events, so that reading them costs no request', async () => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    for (const kind of ['contacts', 'calendar'] as const) {
      const coll = await davServer({}, { onRequest: (e) => events.push(e) })
        .open(user)
        .collection(kind);
      const made: Href[] = [];
      const etags = await ask(coll, async () => {
        for (const name of ['a', 'b'])
          made.push(
            (
              await coll.create(
                asUid(`${kind}-${name}`),
                itemText(kind, `${kind}-${name}`, `Handed ${name.toUpperCase()}`),
              )
            ).href,
          );
        events.length = 0;
      });
      const [a, b] = made as [Href, Href];
      // Besides the REPORT, only the sync marker is asked for (ahead after a change list, as
      // a sync reads it next).
      const ofCollection = () =>
        events.filter((e) => new URL(e.url).pathname.startsWith(`/${user}/${kind}/`));
      expect(ofCollection().map((e) => e.method)).toEqual(['REPORT']);
      const results = await readAll(coll.read([b, a]));
      expect(ofCollection()).toHaveLength(1);
      expect(results.map((r) => ('text' in r ? /Handed [AB]/.exec(r.text)?.[0] : r))).toEqual([
        'Handed B',
        'Handed A',
      ]);
      expect(results.map((r) => ('etag' in r ? r.etag : null))).toEqual([b, a].map((h) => etags.get(h)));
      for (const r of results) if ('text' in r) expect(r.text).toMatch(/^BEGIN:V\w+\r\n/);
    }
  });
});

describe('a change list whose items are larger than what is handed over', () => {
  it('is dropped as it comes in and asked for alone; the items are read by multiget', async () => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    const coll = await davServer({}, { onRequest: (e) => events.push(e) })
      .open(user)
      .collection('contacts');
    const token = await coll.currentToken();
    if (token === null) throw new Error('Radicale keeps change lists');
    // Five contacts of 900,000 characters each: past the 4,000,000 handed over.
    const note = 'x'.repeat(900_000);
    const made: Href[] = [];
    for (let i = 0; i < 5; i++) {
      const text = itemText('contacts', `big${i}`, `Big ${i}`).replace(
        'END:VCARD',
        `NOTE:${note}\r\nEND:VCARD`,
      );
      made.push((await coll.create(asUid(`big${i}`), text)).href);
    }
    events.length = 0;
    const changes = await coll.changesSince(token, { withItems: true });
    expect(changes?.changed.map((c) => c.href).sort()).toEqual([...made].sort());
    const ofBook = () => events.filter((e) => new URL(e.url).pathname === `/${user}/contacts/`);
    expect(ofBook().map((e) => e.method)).toEqual(['REPORT', 'REPORT']);
    const results = await readAll(coll.read(made));
    expect(ofBook().length).toBeGreaterThan(2);
    expect(results.map((r) => ('text' in r ? r.text.length > 900_000 : r))).toEqual(made.map(() => true));
  });
});

describe('reads and writes on Radicale', () => {
  it('multigets in batches, in the order asked, gone hrefs reported missing', async () => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    const coll = await davServer({ multigetBatch: 2 }, { onRequest: (e) => events.push(e) })
      .open(user)
      .collection('calendar');
    const hrefs: Href[] = [];
    for (const uid of ['m1', 'm2', 'm3', 'm4'])
      hrefs.push((await coll.create(asUid(uid), itemText('calendar', uid, `Event ${uid}`))).href);
    const gone = asHref(`/${user}/calendar/never-there.ics`);
    const asked = [hrefs[3], gone, hrefs[0], hrefs[2], gone, hrefs[1], hrefs[1]] as Href[];
    events.length = 0;
    const results = await readAll(coll.read(asked));
    expect(results.map((r) => r.href)).toEqual(asked);
    expect(
      results.map((r) =>
        'missing' in r ? 'missing' : 'text' in r && /SUMMARY:Event (m\d)/.exec(r.text)?.[1],
      ),
    ).toEqual(['m4', 'missing', 'm1', 'm3', 'missing', 'm2', 'm2']);
    expect(events.filter((e) => e.method === 'REPORT')).toHaveLength(4);
    for (const r of results) if ('text' in r) expect(r.text).toMatch(/^BEGIN:VCALENDAR\r\n/);
  });

  it('refuses a second create, a UID held elsewhere, and stale etags; deleting twice is fine', async () => {
    const user = await newUser();
    const coll = await davServer().open(user).collection('contacts');
    const first = await coll.create(asUid('dup'), itemText('contacts', 'dup', 'One'));
    expect(await failure(coll.create(asUid('dup'), itemText('contacts', 'dup', 'Two')))).toMatchObject({
      kind: 'AlreadyExists',
      context: { href: first.href, server: 'test-dav', user },
    });
    // Another client stored UID "elsewhere" under a name of its own.
    const put = await raw(
      'PUT',
      `/${user}/contacts/by-another-client.vcf`,
      itemText('contacts', 'elsewhere', 'X'),
      {
        'content-type': 'text/vcard',
      },
    );
    expect(put.status).toBe(201);
    const conflict = await failure(coll.create(asUid('elsewhere'), itemText('contacts', 'elsewhere', 'Y')));
    expect(conflict.kind).toBe('AlreadyExists');
    expect(conflict.message).toContain('UID');
    // Radicale does not say which item holds the UID; our own href is not it.
    expect(conflict.context.href).toBeUndefined();

    const etag = (await coll.list()).find((r) => r.href === first.href)?.etag ?? asEtag('');
    await coll.update(first.href, itemText('contacts', 'dup', 'Changed'), etag);
    expect((await failure(coll.update(first.href, itemText('contacts', 'dup', 'Lost'), etag))).kind).toBe(
      'PreconditionFailed',
    );
    expect((await failure(coll.delete(first.href, etag))).kind).toBe('PreconditionFailed');
    const current = (await coll.list()).find((r) => r.href === first.href)?.etag ?? asEtag('');
    await coll.delete(first.href, current);
    await coll.delete(first.href, current);
    expect((await coll.list()).map((r) => r.href)).toEqual([
      asHref(`/${user}/contacts/by-another-client.vcf`),
    ]);
  });
});

describe('a server that answers writes without an etag', () => {
  it('gives null for the etag, which the next listing supplies', async () => {
    const user = await newUser();
    const proxy = await startDavProxy(radicale.url, { stripPutEtags: true });
    try {
      const coll = await davServer({ url: proxy.url }).open(user).collection('contacts');
      const written = await coll.create(asUid('quiet'), itemText('contacts', 'quiet', 'Quiet'));
      expect(written.etag).toBeNull();
      const listed = (await coll.list()).find((r) => r.href === written.href)?.etag;
      expect(listed).toMatch(/^".+"$/);
      const updated = await coll.update(
        written.href,
        itemText('contacts', 'quiet', 'Louder'),
        listed ?? asEtag(''),
      );
      expect(updated).toEqual({ href: written.href, etag: null });
      const [read] = await readAll(coll.read([written.href]));
      expect(read && 'text' in read && read.text).toContain('FN:Louder');
    } finally {
      await proxy.close();
    }
  });
});

describe('access problems', () => {
  it('reports a wrong password as AccessDenied naming the server, never the password', async () => {
    const password = 'Wr0ng-and-Secret';
    const server = davServer({
      name: 'radicale-prod',
      auth: { kind: 'basic', username: radicale.username, password },
    });
    const e = await failure(server.open('anyone').collection('contacts'));
    expect(e.kind).toBe('AccessDenied');
    expect(e.message).toContain('radicale-prod');
    const shown = [e.message, e.stack, JSON.stringify(e), JSON.stringify(e.context), String(e.cause)].join(
      '\n',
    );
    expect(shown).not.toContain(password);
    expect(shown).not.toContain(Buffer.from(`${radicale.username}:${password}`).toString('base64'));
    await expect(
      testDavServer(davTestConfig(radicale, { auth: { kind: 'basic', username: 'x', password } })),
    ).rejects.toMatchObject({
      kind: 'AccessDenied',
    });
  });

  it('reports an unreachable server as Unavailable within the short timeout', async () => {
    const port = await freePort();
    const server = davServer({ url: `http://127.0.0.1:${port}/`, retries: 1, timeoutMs: 300 });
    const started = Date.now();
    const e = await failure(server.open('anyone').collection('calendar'));
    expect(e.kind).toBe('Unavailable');
    expect(e.message).toContain(`127.0.0.1:${port}`);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe('a restarted server', () => {
  it('is reached again by the same server object, with its data', async () => {
    const user = await newUser();
    const coll = await davServer().open(user).collection('contacts');
    const { href } = await coll.create(asUid('kept'), itemText('contacts', 'kept', 'Kept'));
    await radicale.restart();
    expect((await coll.list()).map((r) => r.href)).toEqual([href]);
  });
});

describe('server test on Radicale', () => {
  it('reports what Radicale supports and the marker placement it will use', async () => {
    const user = await newUser();
    const caps = await testDavServer(davTestConfig(radicale), user);
    expect(caps).toEqual({
      server: 'test-dav',
      account: user,
      principal: `/${user}/`,
      addressbook: `/${user}/contacts/`,
      calendar: `/${user}/calendar/`,
      syncCollection: true,
      ctag: true,
      multiget: true,
      vjournal: true,
      deadProperties: true,
      autoSchedule: false,
      markerPlacement: 'collection',
    });
    // The trials left nothing behind.
    const listing = await raw('PROPFIND', `/${user}/`, undefined, { depth: '1' });
    expect(listing.text).not.toContain('liaison-capability-test');
  });
});
