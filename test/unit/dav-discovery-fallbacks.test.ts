/**
 * Discovery where the service account is an administrator without a mailbox of its own, as
 * on Cyrus: its principal answers 404, other users' principals name the administrator's
 * calendar home, and Depth 1 listings of users' homes show no collections. Scripted, so the
 * rules are checked without a Cyrus installed (test/integration/dav-cyrus.test.ts checks
 * them against the real one).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isLiaisonError, type LiaisonError } from '../../src/domain/errors.js';
import { asUid } from '../../src/domain/ids.js';
import type { DavServerConfig } from '../../src/mailbox/dav/dav-config.js';
import { ownHomes } from '../../src/mailbox/dav/dav-discovery.js';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { testDavServer } from '../../src/mailbox/dav/test-dav-server.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import {
  multistatus,
  type RecordedRequest,
  type ScriptedAnswer,
  type ScriptedDavServer,
  startScriptedDavServer,
} from '../support/dav-servers/scripted-dav-server.js';

const NS = 'xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:A="urn:ietf:params:xml:ns:carddav"';
const OK = '<D:status>HTTP/1.1 200 OK</D:status>';
const response = (href: string, props: string) =>
  `<D:response><D:href>${href}</D:href><D:propstat><D:prop>${props}</D:prop>${OK}</D:propstat></D:response>`;
const answer = (...responses: string[]) =>
  multistatus(`<D:multistatus ${NS}>${responses.join('')}</D:multistatus>`);
const NOT_FOUND: ScriptedAnswer = { status: 404 };
const REPORTS =
  '<D:supported-report-set><D:supported-report><D:report><D:sync-collection/></D:report></D:supported-report></D:supported-report-set>';
const calendar = (href: string) =>
  response(href, `<D:resourcetype><D:collection/><C:calendar/></D:resourcetype>${REPORTS}`);
const book = (href: string) =>
  response(href, `<D:resourcetype><D:collection/><A:addressbook/></D:resourcetype>${REPORTS}`);
const home = (href: string) => response(href, '<D:resourcetype><D:collection/></D:resourcetype>');

/** What a Cyrus-like server holds: paths answering a Depth 0 PROPFIND, and what they answer. */
function adminServer(collections: Record<string, ScriptedAnswer>) {
  return (req: RecordedRequest): ScriptedAnswer => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'OPTIONS') return { status: 200, headers: { dav: '1, 3, calendar-access' } };
    if (path === '/.well-known/caldav') return { status: 301, headers: { location: '/dav/' } };
    if (path === '/dav/') {
      return answer(
        response(
          path,
          '<D:current-user-principal><D:href>/dav/principals/user/admin/</D:href></D:current-user-principal><D:principal-collection-set><D:href>/dav/principals/user/</D:href></D:principal-collection-set>',
        ),
      );
    }
    if (path === '/dav/principals/user/alice/') {
      return answer(
        response(
          path,
          '<D:resourcetype><D:principal/></D:resourcetype><C:calendar-home-set><D:href>/dav/calendars/user/admin/</D:href></C:calendar-home-set><A:addressbook-home-set><D:href>/dav/addressbooks/user/alice/</D:href></A:addressbook-home-set>',
        ),
      );
    }
    // The admin's Depth 1 listing of a user's home: the home alone.
    if (path === '/dav/calendars/user/alice/' || path === '/dav/addressbooks/user/alice/')
      return answer(home(path));
    return collections[path] ?? NOT_FOUND;
  };
}

let server: ScriptedDavServer | undefined;
const opened: DavMailboxServer[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await server?.close();
});

async function start(collections: Record<string, ScriptedAnswer>, overrides: Partial<DavServerConfig> = {}) {
  server = await startScriptedDavServer(adminServer(collections));
  const config = davTestConfig({ url: server.url, username: 'admin', password: 'pw' }, overrides);
  const dav = new DavMailboxServer(config, { backoffMs: 1 });
  opened.push(dav);
  return { server, dav, config };
}

const DEFAULTS = {
  '/dav/calendars/user/alice/Default/': answer(calendar('/dav/calendars/user/alice/Default/')),
  '/dav/addressbooks/user/alice/Default/': answer(book('/dav/addressbooks/user/alice/Default/')),
};

async function failure(promise: Promise<unknown>): Promise<LiaisonError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isLiaisonError(e)) throw new Error(`expected a LiaisonError, got ${String(e)}`);
  return e;
}

describe('discovery as an administrator without a mailbox', () => {
  it("goes on from the principal-collection-set, moves the admin's calendar home to the user's, and asks for Default", async () => {
    const { server, dav } = await start(DEFAULTS);
    const mailbox = await dav.mailbox('alice');
    expect(mailbox).toMatchObject({
      principal: '/dav/principals/user/alice/',
      homes: { contacts: '/dav/addressbooks/user/alice/', calendar: '/dav/calendars/user/alice/' },
      collections: {
        contacts: { href: '/dav/addressbooks/user/alice/Default/', syncCollection: true },
        calendar: { href: '/dav/calendars/user/alice/Default/', syncCollection: true },
      },
    });
    expect(await dav.discovery.service()).toMatchObject({
      principal: '/dav/principals/user/admin/',
      homes: { contacts: null, calendar: null },
    });
    const asked = server.requests.map((r) => `${r.method} ${r.url} ${r.headers.depth ?? ''}`.trim());
    expect(asked).toContain('PROPFIND /dav/calendars/user/alice/Default/ 0');
    expect(asked.some((line) => line.includes('/dav/calendars/user/admin/'))).toBe(false);
  });

  it('finds a collection under the name ensureMailbox gives when there is no Default, and makes nothing more', async () => {
    const { server, dav } = await start({
      '/dav/calendars/user/alice/calendar/': answer(calendar('/dav/calendars/user/alice/calendar/')),
      '/dav/addressbooks/user/alice/contacts/': answer(book('/dav/addressbooks/user/alice/contacts/')),
    });
    await dav.ensureMailbox('alice');
    expect(server.requests.filter((r) => r.method.startsWith('MK'))).toEqual([]);
    expect((await dav.mailbox('alice')).collections.calendar?.href).toBe(
      '/dav/calendars/user/alice/calendar/',
    );
  });

  it('asks for the configured name only, when one is configured', async () => {
    const { dav } = await start(
      { ...DEFAULTS, '/dav/calendars/user/alice/Work/': answer(calendar('/dav/calendars/user/alice/Work/')) },
      { calendar: 'Work', addressbook: 'Clients' },
    );
    expect((await dav.mailbox('alice')).collections).toMatchObject({
      calendar: { href: '/dav/calendars/user/alice/Work/' },
      contacts: null,
    });
  });

  it('reports a Default the admin may not read as AccessDenied instead of making another', async () => {
    const { server, dav } = await start({
      ...DEFAULTS,
      '/dav/calendars/user/alice/Default/': { status: 403 },
    });
    const e = await failure(dav.ensureMailbox('alice'));
    expect(e.kind).toBe('AccessDenied');
    expect(e.message).toContain('/dav/calendars/user/alice/Default/');
    expect(server.requests.filter((r) => r.method.startsWith('MK'))).toEqual([]);
  });

  it('server test asks for a user when the service account has no mailbox of its own', async () => {
    const { config } = await start(DEFAULTS);
    const e = await failure(testDavServer(config));
    expect(e.kind).toBe('NotFound');
    expect(e.message).toContain('/dav/principals/user/admin/');
  });
});

describe('ownHomes', () => {
  it("moves only a home set named after the service account, on another user's principal", () => {
    const homes = { contacts: '/dav/addressbooks/user/alice/', calendar: '/dav/calendars/user/admin/' };
    expect(ownHomes(homes, '/dav/principals/user/alice/', '/dav/principals/user/admin/')).toEqual({
      contacts: '/dav/addressbooks/user/alice/',
      calendar: '/dav/calendars/user/alice/',
    });
    // The service account's own mailbox, and layouts where homes are not named after users.
    expect(ownHomes(homes, '/dav/principals/user/admin/', '/dav/principals/user/admin/')).toEqual(homes);
    const radicale = { contacts: '/alice/', calendar: '/alice/' };
    expect(ownHomes(radicale, '/alice/', '/liaison/')).toEqual(radicale);
    const xandikos = { contacts: '/bob/contacts/', calendar: '/bob/calendars/' };
    expect(ownHomes(xandikos, '/bob/', '/user/')).toEqual(xandikos);
  });
});

describe('a UID held by another calendar of the user (Cyrus)', () => {
  it('is AlreadyExists naming the holder, from RFC 6638 unique-scheduling-object-resource', async () => {
    const holder = '/dav/calendars/user/alice/work/theirs.ics';
    const { dav } = await start({
      ...DEFAULTS,
      '/dav/calendars/user/alice/Default/x.ics': {
        status: 403,
        headers: { 'content-type': 'application/xml; charset=utf-8' },
        body: `<?xml version="1.0" encoding="utf-8"?><D:error ${NS}><C:unique-scheduling-object-resource><D:href>${holder}</D:href></C:unique-scheduling-object-resource></D:error>`,
      },
    });
    const coll = await dav.open('alice').collection('calendar');
    const e = await failure(coll.create(asUid('x'), 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'));
    expect(e.kind).toBe('AlreadyExists');
    expect(e.context.href).toBe(holder);
  });
});
