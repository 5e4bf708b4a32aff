/**
 * The Cyrus harness gives the DAV tests what they assume: both homes of every user answer,
 * the admin reaches other users' collections, items can be written and listed with
 * sync-collection (RFC 6578), Cyrus pages that listing with 507 when asked to, and the
 * data outlives a restart. Plain fetch and regular expressions on purpose: the harness
 * must be checkable without the DAV client it is there to test.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CYRUS_BIN_VARIABLE,
  type CyrusServer,
  findCyrusPrograms,
  startCyrus,
} from '../support/dav-servers/cyrus.js';

interface DavResponse {
  readonly href: string;
  /** The response's own status (RFC 4918 §14.24), when it has one instead of propstats. */
  readonly status: string | undefined;
  readonly body: string;
}

/** The local name of an element, whatever prefix the server picked for the DAV: namespace. */
function element(name: string): RegExp {
  return new RegExp(
    `<(?:[A-Za-z][\\w.-]*:)?${name}\\b[^>]*>([\\s\\S]*?)</(?:[A-Za-z][\\w.-]*:)?${name}>`,
    'g',
  );
}

function responses(multistatus: string): DavResponse[] {
  return [...multistatus.matchAll(element('response'))].map((m) => {
    const body = m[1]!;
    const href = decodeURIComponent([...body.matchAll(element('href'))][0]?.[1] ?? '');
    // A status directly in <response> (not inside <propstat>) is the response's own.
    const withoutPropstats = body.replace(element('propstat'), '');
    const status = [...withoutPropstats.matchAll(element('status'))][0]?.[1];
    return { href, status, body };
  });
}

function syncToken(multistatus: string): string | undefined {
  return [...multistatus.matchAll(element('sync-token'))].at(-1)?.[1];
}

function auth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const PROPFIND = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav">
  <D:prop><D:resourcetype/><D:displayname/><D:sync-token/></D:prop>
</D:propfind>`;

function syncCollection(token: string | undefined, limit?: number): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:">
  <D:sync-token>${token ?? ''}</D:sync-token>
  <D:sync-level>1</D:sync-level>
  ${limit === undefined ? '' : `<D:limit><D:nresults>${limit}</D:nresults></D:limit>`}
  <D:prop><D:getetag/></D:prop>
</D:sync-collection>`;
}

function vcard(uid: string, name: string): string {
  return ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${name}`, `N:${name};;;;`, 'END:VCARD', ''].join(
    '\r\n',
  );
}

async function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('Cyrus test server', () => {
  // One server for the whole file: each start costs 0.15-0.6 s (compiling the log shim included).
  let cyrus: CyrusServer;
  const as = (user: string) =>
    user === cyrus.adminUser ? auth(user, cyrus.adminPassword) : auth(user, cyrus.userPassword(user));

  const dav = async (
    method: string,
    url: string,
    user: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string; headers: Headers }> => {
    const response = await fetch(url, {
      method,
      headers: {
        Authorization: as(user),
        ...(body === undefined ? {} : { 'Content-Type': 'application/xml; charset=utf-8' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, text: await response.text(), headers: response.headers };
  };

  /** Follows sync-collection pages (507 = more to come, RFC 6578 §3.6) until the end. */
  const syncAll = async (collection: string, user: string, token: string | undefined, limit?: number) => {
    const pages: DavResponse[][] = [];
    let current = token;
    for (let page = 0; page < 50; page += 1) {
      const answer = await dav('REPORT', collection, user, syncCollection(current, limit), { Depth: '0' });
      expect(answer.status).toBe(207);
      const listed = responses(answer.text);
      pages.push(listed);
      current = syncToken(answer.text);
      expect(current).toBeDefined();
      if (!listed.some((r) => r.status?.includes('507'))) return { pages, token: current };
    }
    throw new Error('sync-collection never ended');
  };

  beforeAll(async () => {
    cyrus = await startCyrus({ users: ['alice', 'bob'] });
  });
  afterAll(async () => {
    await cyrus?.stop();
  });

  it('serves on a free loopback port and names its users', () => {
    expect(cyrus.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(cyrus.users).toEqual(['alice', 'bob']);
    expect(cyrus.userPassword('alice')).not.toBe(cyrus.userPassword('bob'));
    expect(() => cyrus.userPassword('nobody-here')).toThrow(/No Cyrus user/);
  });

  it.each(['alice', 'bob'])(
    'answers 207 on the calendar and address book homes of %s, with Default in each',
    async (user) => {
      for (const [home, kind] of [
        [cyrus.calendarHomeUrl(user), 'calendar'],
        [cyrus.addressBookHomeUrl(user), 'addressbook'],
      ] as const) {
        const own = await dav('PROPFIND', home, user, PROPFIND, { Depth: '0' });
        expect(own.status).toBe(207);
        const listing = await dav('PROPFIND', home, user, PROPFIND, { Depth: '1' });
        expect(listing.status).toBe(207);
        const def = responses(listing.text).find((r) => r.href === `${new URL(home).pathname}Default/`);
        expect(def, `${home} lists Default/`).toBeDefined();
        expect(def!.body).toMatch(new RegExp(`<(?:\\w+:)?${kind}\\s*/>`));
      }
    },
  );

  it('checks passwords for real: a wrong one is refused with 401', async () => {
    const response = await fetch(cyrus.addressBookHomeUrl('alice'), {
      method: 'PROPFIND',
      headers: { Authorization: auth('alice', 'not-the-password'), Depth: '0' },
    });
    await response.arrayBuffer();
    expect(response.status).toBe(401);
  });

  it("lets the admin PROPFIND another user's address book and calendar", async () => {
    for (const collection of [
      `${cyrus.addressBookHomeUrl('bob')}Default/`,
      `${cyrus.calendarHomeUrl('bob')}Default/`,
    ]) {
      const answer = await dav('PROPFIND', collection, cyrus.adminUser, PROPFIND, { Depth: '0' });
      expect(answer.status).toBe(207);
      expect(responses(answer.text).map((r) => r.href)).toEqual([new URL(collection).pathname]);
    }
    const home = await dav('PROPFIND', cyrus.addressBookHomeUrl('bob'), cyrus.adminUser, PROPFIND, {
      Depth: '0',
    });
    expect(home.status).toBe(207);
    // Another user (no grant) is refused: the admin's access comes from the harness's ACLs.
    const alice = await dav('PROPFIND', `${cyrus.addressBookHomeUrl('bob')}Default/`, 'alice', PROPFIND, {
      Depth: '0',
    });
    expect(alice.status).toBe(403);
  });

  it('stores a vCard with PUT (201) and lists it in a sync-collection with a sync-token', async () => {
    const book = `${cyrus.addressBookHomeUrl('alice')}Default/`;
    const href = `${book}harness-1.vcf`;
    const put = await fetch(href, {
      method: 'PUT',
      headers: {
        Authorization: as('alice'),
        'Content-Type': 'text/vcard; charset=utf-8',
        'If-None-Match': '*',
      },
      body: vcard('harness-1', 'Ada Lovelace'),
    });
    await put.arrayBuffer();
    expect(put.status).toBe(201);

    const { pages, token } = await syncAll(book, 'alice', undefined);
    expect(pages).toHaveLength(1);
    const listed = pages[0]!.find((r) => r.href === new URL(href).pathname);
    expect(listed?.body).toMatch(/getetag/);
    expect(token).toMatch(/\S/);

    // The token is current: nothing changed since, nothing listed.
    const again = await syncAll(book, 'alice', token);
    expect(again.pages.flat()).toEqual([]);

    // The admin reads it too, through the same URL.
    const get = await dav('GET', href, cyrus.adminUser);
    expect(get.status).toBe(200);
    expect(get.text).toContain('FN:Ada Lovelace');
  });

  it('pages a sync-collection with 507 when the client sends DAV:limit, and only then', async () => {
    const book = `${cyrus.addressBookHomeUrl('bob')}Default/`;
    const hrefs: string[] = [];
    for (let i = 1; i <= 5; i += 1) {
      const href = `${book}page-${i}.vcf`;
      const put = await fetch(href, {
        method: 'PUT',
        headers: {
          Authorization: as('bob'),
          'Content-Type': 'text/vcard; charset=utf-8',
          'If-None-Match': '*',
        },
        body: vcard(`page-${i}`, `Person ${i}`),
      });
      await put.arrayBuffer();
      expect(put.status).toBe(201);
      hrefs.push(new URL(href).pathname);
    }

    const limited = await dav('REPORT', book, 'bob', syncCollection(undefined, 2), { Depth: '0' });
    expect(limited.status).toBe(207);
    const first = responses(limited.text);
    // RFC 6578 §3.6: the truncated answer carries a 507 response for the collection itself.
    const truncation = first.filter((r) => r.status?.includes('507'));
    expect(truncation.map((r) => r.href)).toEqual([new URL(book).pathname]);
    expect(truncation[0]!.body).toMatch(/number-of-matches-within-limits/);
    expect(first.filter((r) => r.status === undefined)).toHaveLength(2);

    // Following the tokens lists every item exactly once.
    const { pages } = await syncAll(book, 'bob', undefined, 2);
    expect(pages.length).toBe(3);
    const items = pages.flat().filter((r) => !r.status?.includes('507'));
    expect(items.map((r) => r.href).sort()).toEqual([...hrefs].sort());

    // Without DAV:limit Cyrus 3.6 sends everything at once (its own limit is UINT32_MAX - 1).
    const whole = await syncAll(book, 'bob', undefined);
    expect(whole.pages).toHaveLength(1);
    expect(whole.pages[0]!.map((r) => r.href).sort()).toEqual([...hrefs].sort());
  });

  it('adds a user while running', async () => {
    await cyrus.addUser('carol');
    expect(cyrus.users).toContain('carol');
    for (const home of [cyrus.calendarHomeUrl('carol'), cyrus.addressBookHomeUrl('carol')]) {
      expect((await dav('PROPFIND', `${home}Default/`, 'carol', PROPFIND, { Depth: '0' })).status).toBe(207);
      expect(
        (await dav('PROPFIND', `${home}Default/`, cyrus.adminUser, PROPFIND, { Depth: '0' })).status,
      ).toBe(207);
    }
    await expect(cyrus.addUser('carol')).rejects.toThrow(/exists already/);
    await expect(cyrus.addUser('Bad.Name')).rejects.toThrow(/user name/);
  });

  it('keeps items and sync tokens across a restart and across a kill', async () => {
    const book = `${cyrus.addressBookHomeUrl('alice')}Default/`;
    const href = `${book}harness-1.vcf`;
    const before = await syncAll(book, 'alice', undefined);
    const url = cyrus.url;

    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      await cyrus.restart({ signal });
      expect(cyrus.url).toBe(url);
      const get = await dav('GET', href, 'alice');
      expect(get.status).toBe(200);
      expect(get.text).toContain('FN:Ada Lovelace');
      // The old token is still valid and nothing changed.
      const after = await syncAll(book, 'alice', before.token);
      expect(after.pages.flat()).toEqual([]);
    }
  });

  it('tells which Debian package to install when Cyrus is missing', () => {
    const saved = process.env[CYRUS_BIN_VARIABLE];
    process.env[CYRUS_BIN_VARIABLE] = '/nonexistent/cyrus/bin';
    try {
      expect(() => findCyrusPrograms()).toThrow(/cyrus-common, cyrus-imapd, cyrus-caldav/);
    } finally {
      if (saved === undefined) delete process.env[CYRUS_BIN_VARIABLE];
      else process.env[CYRUS_BIN_VARIABLE] = saved;
    }
  });

  // Last on purpose: it stops the file's server (afterAll's stop is then a no-op).
  it('stops: the ports close and the folder is removed', async () => {
    const port = Number(new URL(cyrus.url).port);
    expect(await portAccepts(port)).toBe(true);
    await cyrus.stop();
    expect(await portAccepts(port)).toBe(false);
    expect(await portAccepts(cyrus.imapPort)).toBe(false);
    expect(existsSync(cyrus.logDir)).toBe(false);
  });
});
