import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asHref, asUid } from '../../src/domain/ids.js';
import type { MarkerPlacement } from '../../src/mailbox/dav/dav-config.js';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { itemText } from '../contract/contract-items.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';

// The three marker placements (SPEC §5) on Radicale, which supports all of them.
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

function davServer(markerPlacement?: MarkerPlacement) {
  const server = new DavMailboxServer(davTestConfig(radicale), markerPlacement ? { markerPlacement } : {});
  servers.push(server);
  return server;
}

async function newUser(): Promise<string> {
  users += 1;
  const name = `marker${users}`;
  await radicale.addUser(name);
  await davServer().ensureMailbox(name);
  return name;
}

async function raw(method: string, path: string, depth = '0', body?: string) {
  const response = await fetch(new URL(path, radicale.url), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      'content-type': 'application/xml; charset=utf-8',
      depth,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, text: await response.text() };
}

const FIRST = { collections: { contacts: '2026-05-01T10:00:00.000Z' } };
const SECOND = {
  collections: { contacts: '2026-05-02T10:00:00.000Z', calendar: '2026-05-02T10:00:01.000Z' },
};

/** Writes, reads back and overwrites the marker with `placement`, then reads it as a fresh process would. */
async function roundTrip(user: string, placement: MarkerPlacement) {
  const store = davServer(placement).open(user);
  expect(await store.readMarker()).toBeNull();
  await store.writeMarker(FIRST);
  expect(await store.readMarker()).toEqual(FIRST);
  await store.writeMarker(SECOND);
  expect(await store.readMarker()).toEqual(SECOND);
  // A new process knows no placement yet: it looks in all three.
  expect(await davServer().open(user).readMarker()).toEqual(SECOND);
}

describe('sync marker placements on Radicale', () => {
  it('collection: a VJOURNAL calendar of its own, named for what it is, holding one note', async () => {
    const user = await newUser();
    await roundTrip(user, 'collection');
    const props = await raw(
      'PROPFIND',
      `/${user}/liaison-sync-marker/`,
      '0',
      '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:resourcetype/><D:displayname/><C:supported-calendar-component-set/></D:prop></D:propfind>',
    );
    expect(props.status).toBe(207);
    expect(props.text).toContain('Liaison sync marker — do not delete');
    expect(props.text).toMatch(/<C:comp name="VJOURNAL" \/>/);
    expect(props.text).not.toContain('VEVENT');
    const note = await raw('GET', `/${user}/liaison-sync-marker/liaison-sync-marker.ics`);
    expect(note.text).toContain('BEGIN:VJOURNAL');
    expect(note.text).toContain('X-LIAISON-LAST-SYNC-CALENDAR:2026-05-02T10:00:01.000Z');
  });

  it('chooses the collection placement by itself where MKCALENDAR and VJOURNAL work', async () => {
    const user = await newUser();
    await davServer().open(user).writeMarker(FIRST);
    expect((await raw('GET', `/${user}/liaison-sync-marker/liaison-sync-marker.ics`)).status).toBe(200);
    // The marker calendar is never taken for the user's calendar.
    expect((await davServer().mailbox(user)).collections.calendar?.href).toBe(`/${user}/calendar/`);
  });

  it('property: a dead property on the synced calendar, which leaves its change list alone', async () => {
    const user = await newUser();
    const calendar = await davServer().open(user).collection('calendar');
    const token = await calendar.currentToken();
    if (token === null) throw new Error('Radicale keeps change lists');
    const probe = await calendar.probe();
    await roundTrip(user, 'property');
    const props = await raw(
      'PROPFIND',
      `/${user}/calendar/`,
      '0',
      '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><L:liaison-sync-marker xmlns:L="urn:uuid:6be03664-a67b-4f93-9c6b-5d250b65f6ca"/></D:prop></D:propfind>',
    );
    expect(props.text).toContain('X-LIAISON-LAST-SYNC-CONTACTS:2026-05-02T10:00:00.000Z');
    expect((await raw('PROPFIND', `/${user}/liaison-sync-marker/`)).status).toBe(404);
    // Radicale's sync-token covers items only: the probe does not move.
    expect(await calendar.probe()).toBe(probe);
    expect(await calendar.changesSince(token)).toMatchObject({ changed: [], removed: [] });
  });

  it('item: a note in the synced calendar that listings, change lists and reads never show', async () => {
    const user = await newUser();
    const calendar = await davServer().open(user).collection('calendar');
    const event = await calendar.create(asUid('real'), itemText('calendar', 'real', 'Real event'));
    const token = await calendar.currentToken();
    if (token === null) throw new Error('Radicale keeps change lists');
    await roundTrip(user, 'item');
    const markerHref = asHref(`/${user}/calendar/liaison-sync-marker.ics`);
    expect((await raw('GET', markerHref)).text).toContain('BEGIN:VJOURNAL');
    expect((await calendar.list()).map((r) => r.href)).toEqual([event.href]);
    expect(await calendar.changesSince(token)).toMatchObject({ changed: [], removed: [] });
    const reads = [];
    for await (const r of calendar.read([markerHref, event.href])) reads.push(r);
    expect(reads[0]).toEqual({ href: markerHref, missing: true });
    expect(reads[1] && 'text' in reads[1]).toBe(true);
    expect(await (await davServer().open(user).collection('contacts')).list()).toEqual([]);
  });
});
