/**
 * The DAV adapter against Cyrus IMAP reached through its admin account, the way Liaison is
 * deployed (one service account allowed into every mailbox). What Cyrus does that Radicale
 * and Xandikos do not: the admin has no principal of its own, reads a wrong
 * calendar-home-set on users' principals, sees no collections in a Depth 1 listing of a
 * user's home, pages sync-collection answers with 507, refuses one UID in two calendars of
 * a user, and counts a PROPPATCH as a change. One Cyrus for the file; a user per test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLiaisonError, type LiaisonError } from '../../src/domain/errors.js';
import { asEtag, asSyncToken, asUid, type Href } from '../../src/domain/ids.js';
import type { DavServerConfig, MarkerPlacement } from '../../src/mailbox/dav/dav-config.js';
import { type DavMailboxOptions, DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import type { DavRequestEvent } from '../../src/mailbox/dav/dav-transport.js';
import { testDavServer } from '../../src/mailbox/dav/test-dav-server.js';
import type { ItemRef } from '../../src/mailbox/port.js';
import { itemText } from '../contract/contract-items.js';
import { type CyrusServer, startCyrus } from '../support/dav-servers/cyrus.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';

let cyrus: CyrusServer;
let users = 0;
const servers: DavMailboxServer[] = [];

beforeAll(async () => {
  cyrus = await startCyrus();
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await cyrus?.stop();
});

/** The configuration Liaison would hold for this Cyrus: its admin as the service account. */
function config(overrides: Partial<DavServerConfig> = {}): DavServerConfig {
  return davTestConfig(
    { url: cyrus.url, username: cyrus.adminUser, password: cyrus.adminPassword },
    overrides,
  );
}

function davServer(overrides: Partial<DavServerConfig> = {}, options: DavMailboxOptions = {}) {
  const server = new DavMailboxServer(config(overrides), { backoffMs: 10, ...options });
  servers.push(server);
  return server;
}

async function newUser(prefix = 'user'): Promise<string> {
  users += 1;
  const name = `${prefix}${users}`;
  await cyrus.addUser(name);
  return name;
}

/** A request outside Liaison's client, as the admin unless `as` names a user. */
async function raw(
  method: string,
  path: string,
  options: { body?: string; depth?: string; as?: string; type?: string } = {},
) {
  const user = options.as ?? cyrus.adminUser;
  const password = options.as === undefined ? cyrus.adminPassword : cyrus.userPassword(options.as);
  const response = await fetch(new URL(path, cyrus.url), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      'content-type': options.type ?? 'application/xml; charset=utf-8',
      depth: options.depth ?? '0',
    },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

const PROPFIND = (props: string) =>
  `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/"><D:prop>${props}</D:prop></D:propfind>`;

async function failure(promise: Promise<unknown>): Promise<LiaisonError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isLiaisonError(e)) throw new Error(`expected a LiaisonError, got ${String(e)}`);
  return e;
}

const reports = (events: readonly DavRequestEvent[]) => events.filter((e) => e.method === 'REPORT').length;
const byHref = (refs: readonly ItemRef[]) => new Map(refs.map((r) => [r.href, r.etag]));

describe('discovery on Cyrus as its admin', () => {
  it("finds the user's principal, own homes and Default collections though the admin has no principal", async () => {
    const alice = await newUser('alice');
    // The three things discovery works around, as Cyrus answers them.
    expect(
      (await raw('PROPFIND', '/dav/principals/user/admin/', { body: PROPFIND('<D:resourcetype/>') })).status,
    ).toBe(404);
    const principal = await raw('PROPFIND', `/dav/principals/user/${alice}/`, {
      body: PROPFIND('<C:calendar-home-set/>'),
    });
    expect(principal.text).toContain('<D:href>/dav/calendars/user/admin/</D:href>');
    const listing = await raw('PROPFIND', `/dav/calendars/user/${alice}/`, {
      body: PROPFIND('<D:resourcetype/>'),
      depth: '1',
    });
    expect(listing.text).not.toContain('Default');

    const events: DavRequestEvent[] = [];
    const server = davServer({}, { onRequest: (e) => events.push(e) });
    expect(await server.mailbox(alice)).toEqual({
      account: alice,
      principal: `/dav/principals/user/${alice}/`,
      homes: { contacts: `/dav/addressbooks/user/${alice}/`, calendar: `/dav/calendars/user/${alice}/` },
      collections: {
        contacts: {
          href: `/dav/addressbooks/user/${alice}/Default/`,
          displayName: 'personal',
          syncCollection: true,
          multiget: true,
        },
        calendar: {
          href: `/dav/calendars/user/${alice}/Default/`,
          displayName: 'personal',
          syncCollection: true,
          multiget: true,
        },
      },
      autoSchedule: false,
    });
    expect(await server.discovery.service()).toMatchObject({
      principal: '/dav/principals/user/admin/',
      principalCollections: ['/dav/principals/user/'],
      homes: { contacts: null, calendar: null },
    });
    // Nothing was ever asked of the admin's own calendar home.
    expect(events.some((e) => e.url.includes('/dav/calendars/user/admin/'))).toBe(false);

    // ensureMailbox finds the Default collections too and makes nothing.
    events.length = 0;
    await server.ensureMailbox(alice);
    expect(events.filter((e) => e.method.startsWith('MK'))).toEqual([]);
  });

  it('says NotFound, naming the user, for a user Cyrus does not know', async () => {
    const e = await failure(davServer().mailbox('nobody'));
    expect(e.kind).toBe('NotFound');
    expect(e.message).toContain('nobody');
    expect(e.message).toContain('test-dav');
  });
});

describe('sync-collection paged by Cyrus (RFC 6578 §3.6)', () => {
  it('lists and reports changes across 507 continuations, every item exactly once', async () => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    const paged = await davServer({}, { syncPageSize: 2, onRequest: (e) => events.push(e) })
      .open(user)
      .collection('contacts');
    const whole = await davServer().open(user).collection('contacts');
    const created: Href[] = [];
    for (let i = 1; i <= 7; i++)
      created.push((await paged.create(asUid(`p${i}`), itemText('contacts', `p${i}`, `P ${i}`))).href);

    events.length = 0;
    const listed = await paged.list();
    // 7 items at 2 a page: three truncated pages and a last one.
    expect(reports(events)).toBe(4);
    expect(listed).toHaveLength(7);
    expect(byHref(listed)).toEqual(byHref(await whole.list()));
    expect([...byHref(listed).keys()].sort()).toEqual([...created].sort());

    const token = await paged.currentToken();
    if (token === null) throw new Error('Cyrus keeps change lists');
    const etag = (href: Href) => byHref(listed).get(href) ?? asEtag('');
    const [u1, u2, u3, d1, d2] = created as [Href, Href, Href, Href, Href];
    for (const [i, href] of [u1, u2, u3].entries()) {
      await paged.update(href, itemText('contacts', `p${i + 1}`, 'Changed'), etag(href));
    }
    for (const href of [d1, d2]) await paged.delete(href, etag(href));
    const added: Href[] = [];
    for (let i = 8; i <= 11; i++)
      added.push((await paged.create(asUid(`p${i}`), itemText('contacts', `p${i}`, `P ${i}`))).href);

    events.length = 0;
    const changes = await paged.changesSince(token);
    if (changes === null) throw new Error('Cyrus keeps change lists');
    expect(reports(events)).toBeGreaterThanOrEqual(5);
    const changed = changes.changed.map((r) => r.href);
    expect(changed).toHaveLength(new Set(changed).size);
    expect([...changed].sort()).toEqual([u1, u2, u3, ...added].sort());
    expect([...changes.removed].sort()).toEqual([d1, d2].sort());
    const now = byHref(await whole.list());
    for (const ref of changes.changed) expect(ref.etag).toBe(now.get(ref.href));
    expect(changes.token).not.toBe(token);
    expect(await paged.changesSince(changes.token)).toMatchObject({ changed: [], removed: [] });
  });

  it('hands the changed items over with the change list, across pages: reading them costs no request', async () => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    const paged = await davServer({}, { syncPageSize: 2, onRequest: (e) => events.push(e) })
      .open(user)
      .collection('contacts');
    const token = await paged.currentToken();
    if (token === null) throw new Error('Cyrus keeps change lists');
    const made: Href[] = [];
    for (let i = 1; i <= 5; i++)
      made.push((await paged.create(asUid(`h${i}`), itemText('contacts', `h${i}`, `Handed ${i}`))).href);
    events.length = 0;
    const changes = await paged.changesSince(token, { withItems: true });
    const pages = reports(events);
    expect(pages).toBeGreaterThanOrEqual(3);
    const results = [];
    for await (const r of paged.read(made)) results.push(r);
    // No multiget: the only requests beside the pages are the sync marker's, asked ahead.
    expect(reports(events)).toBe(pages);
    expect(events.filter((e) => e.method !== 'REPORT').every((e) => !e.url.includes('/addressbooks/'))).toBe(
      true,
    );
    expect(results.map((r) => ('text' in r ? /Handed \d/.exec(r.text)?.[0] : r))).toEqual(
      [1, 2, 3, 4, 5].map((i) => `Handed ${i}`),
    );
    expect(byHref(changes?.changed ?? [])).toEqual(byHref(results.map((r) => r as ItemRef)));
  });

  it('hands every item over with a full listing, across pages: a first sync reads them with no multiget', async () => {
    const user = await newUser();
    const events: DavRequestEvent[] = [];
    const paged = await davServer({}, { syncPageSize: 2, onRequest: (e) => events.push(e) })
      .open(user)
      .collection('contacts');
    const made: Href[] = [];
    for (let i = 1; i <= 5; i++)
      made.push((await paged.create(asUid(`l${i}`), itemText('contacts', `l${i}`, `Listed ${i}`))).href);
    events.length = 0;
    const all = await paged.listAll({ withItems: true });
    const pages = reports(events);
    expect(pages).toBeGreaterThanOrEqual(3);
    const results = [];
    for await (const r of paged.read(made)) results.push(r);
    expect(reports(events)).toBe(pages);
    expect(events.every((e) => e.method === 'REPORT')).toBe(true);
    expect(results.map((r) => ('text' in r ? /Listed \d/.exec(r.text)?.[0] : r))).toEqual(
      [1, 2, 3, 4, 5].map((i) => `Listed ${i}`),
    );
    expect(byHref(all.refs)).toEqual(byHref(results.map((r) => r as ItemRef)));
  });

  it('refuses a token it never issued with InvalidSyncToken naming the collection', async () => {
    const user = await newUser();
    const calendar = await davServer().open(user).collection('calendar');
    // A foreign token, and one shaped like Cyrus's own (`data:,UIDVALIDITY-MODSEQ`) of another mailbox.
    for (const token of ['http://liaison.invalid/sync/1', 'data:,1-1']) {
      const e = await failure(calendar.changesSince(asSyncToken(token)));
      expect(e.kind).toBe('InvalidSyncToken');
      expect(e.message).toContain(`/dav/calendars/user/${user}/Default/`);
    }
  });
});

describe('one UID in two calendars of a user', () => {
  it('is refused as AlreadyExists naming the item that holds the UID (RFC 4791 §5.3.2.1)', async () => {
    const user = await newUser();
    const work = `/dav/calendars/user/${user}/work/`;
    const made = await raw('MKCALENDAR', work, {
      body: '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>Work</D:displayname></D:prop></D:set></C:mkcalendar>',
    });
    expect(made.status).toBe(201);
    const holder = `${work}held-by-another-client.ics`;
    const put = await raw('PUT', holder, {
      body: itemText('calendar', 'meeting-x', 'Theirs'),
      type: 'text/calendar; charset=utf-8',
    });
    expect(put.status).toBe(201);

    const calendar = await davServer().open(user).collection('calendar');
    expect(calendar.location).toContain(`/dav/calendars/user/${user}/Default/`);
    const e = await failure(calendar.create(asUid('meeting-x'), itemText('calendar', 'meeting-x', 'Ours')));
    expect(e.kind).toBe('AlreadyExists');
    expect(e.context.href).toBe(holder);
    expect(e.message).toContain('UID');
    expect(await calendar.list()).toEqual([]);
  });
});

describe('access problems', () => {
  it('reports a wrong admin password as AccessDenied naming the server, never the password', async () => {
    const password = 'Wr0ng-and-Secret';
    const auth = { kind: 'basic' as const, username: cyrus.adminUser, password };
    const e = await failure(davServer({ name: 'cyrus-prod', auth }).open('anyone').collection('contacts'));
    expect(e.kind).toBe('AccessDenied');
    expect(e.message).toContain('cyrus-prod');
    const shown = [e.message, e.stack, JSON.stringify(e), String(e.cause)].join('\n');
    expect(shown).not.toContain(password);
    expect(shown).not.toContain(Buffer.from(`${cyrus.adminUser}:${password}`).toString('base64'));
    await expect(testDavServer(config({ name: 'cyrus-prod', auth }))).rejects.toMatchObject({
      kind: 'AccessDenied',
    });
  });
});

describe('server test on Cyrus', () => {
  it('reports what Cyrus advertises, and puts the marker in a collection', async () => {
    const user = await newUser();
    const calendar = `/dav/calendars/user/${user}/Default/`;
    const book = `/dav/addressbooks/user/${user}/Default/`;
    // What Cyrus advertises, read without Liaison's client.
    const dav = (await raw('OPTIONS', calendar)).headers.get('dav') ?? '';
    const props = PROPFIND('<D:supported-report-set/><CS:getctag/>');
    const advertised = [
      await raw('PROPFIND', calendar, { body: props }),
      await raw('PROPFIND', book, { body: props }),
    ];
    const all = (pattern: RegExp) => advertised.every((a) => pattern.test(a.text));

    const caps = await testDavServer(config(), user);
    expect(caps).toEqual({
      server: 'test-dav',
      account: user,
      principal: `/dav/principals/user/${user}/`,
      addressbook: book,
      calendar,
      syncCollection: all(/<D:sync-collection\/>/),
      ctag: all(/<CS:getctag>[^<]+<\/CS:getctag>/),
      multiget: all(/<(C:calendar|A:addressbook)-multiget\/>/),
      vjournal: true,
      deadProperties: true,
      autoSchedule: /calendar-auto-schedule/i.test(dav),
      markerPlacement: 'collection',
    });
    // Cyrus 3.6 as configured here: everything but implicit scheduling.
    expect(caps).toMatchObject({ syncCollection: true, ctag: true, multiget: true, autoSchedule: false });
    // The trials left only the marker calendar the first sync would make, with no note in
    // it (the user's own listing shows every collection; the admin's shows none).
    const listing = await raw('PROPFIND', `/dav/calendars/user/${user}/`, {
      body: PROPFIND('<D:resourcetype/>'),
      depth: '1',
      as: user,
    });
    const members = [...listing.text.matchAll(/<D:href>([^<]+)<\/D:href>/g)].map((m) => m[1]);
    expect(members).toEqual([
      `/dav/calendars/user/${user}/`,
      `/dav/calendars/user/${user}/Default/`,
      `/dav/calendars/user/${user}/liaison-sync-marker/`,
    ]);
    const marker = `/dav/calendars/user/${user}/liaison-sync-marker/`;
    const inside = await raw('PROPFIND', marker, { body: PROPFIND('<D:getetag/>'), depth: '1', as: user });
    expect(inside.status).toBe(207);
    expect(inside.text).not.toMatch(/\.ics</);
    expect(await davServer().open(user).readMarker()).toBeNull();
    // A second run finds the marker calendar and reports the same.
    expect(await testDavServer(config(), user)).toEqual(caps);
  });

  it("says the admin has no mailbox of its own when no user's is named", async () => {
    const e = await failure(testDavServer(config()));
    expect(e.kind).toBe('NotFound');
    expect(e.message).toContain('no mailbox of its own');
  });
});

describe('the sync marker on Cyrus', () => {
  const note = {
    collections: { contacts: '2026-05-01T10:00:00.000Z', calendar: '2026-05-01T10:00:01.000Z' },
  };

  it("lives in a VJOURNAL calendar of its own that the admin makes in the user's home", async () => {
    const user = await newUser();
    const calendar = await davServer().open(user).collection('calendar');
    const probe = await calendar.probe();
    await davServer().open(user).writeMarker(note);
    expect(await davServer().open(user).readMarker()).toEqual(note);
    const marker = `/dav/calendars/user/${user}/liaison-sync-marker/`;
    const props = PROPFIND('<D:displayname/><C:supported-calendar-component-set/>');
    const asAdmin = await raw('PROPFIND', marker, { body: props });
    expect(asAdmin.text).toContain('Liaison sync marker — do not delete');
    expect(asAdmin.text).toMatch(
      /<C:supported-calendar-component-set><C:comp name="VJOURNAL"\/><\/C:supported-calendar-component-set>/,
    );
    // Cyrus keeps a display name and component set given by someone other than the owner
    // as that account's own: the user sees the calendar under its path name, taking every
    // component. The path name still says what it is.
    const asUser = await raw('PROPFIND', marker, { body: props, as: user });
    expect(asUser.text).toContain('<![CDATA[liaison-sync-marker]]>');
    expect(asUser.text).toContain('<C:comp name="VEVENT"/>');
    expect((await raw('GET', `${marker}liaison-sync-marker.ics`, { as: user })).text).toContain(
      'BEGIN:VJOURNAL',
    );
    expect(await calendar.probe()).toBe(probe);
    expect((await davServer().mailbox(user)).collections.calendar?.href).toBe(
      `/dav/calendars/user/${user}/Default/`,
    );
  });

  it.each<MarkerPlacement>(['property', 'item'])(
    'can also be a %s, which moves the probe of the calendar holding it',
    async (placement) => {
      const user = await newUser();
      const calendar = await davServer().open(user).collection('calendar');
      const probe = await calendar.probe();
      const token = await calendar.currentToken();
      if (token === null) throw new Error('Cyrus keeps change lists');
      await davServer({}, { markerPlacement: placement }).open(user).writeMarker(note);
      expect(await davServer().open(user).readMarker()).toEqual(note);
      // Cyrus counts a dead property as a change of the collection, as it does a member:
      // every marker write would cost the next sync a change list. Hence `collection` first.
      expect(await calendar.probe()).not.toBe(probe);
      expect(await calendar.changesSince(token)).toMatchObject({ changed: [], removed: [] });
      expect(await calendar.list()).toEqual([]);
    },
  );
});
