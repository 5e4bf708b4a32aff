import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyAppointment } from '../../src/domain/appointment.js';
import { emptyContact } from '../../src/domain/contact.js';
import { type ErrorKind, isLiaisonError } from '../../src/domain/errors.js';
import {
  asUid,
  type CollectionKind,
  type Etag,
  type Href,
  type Uid,
  type UserId,
} from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { contactCodec } from '../../src/formats/contact-codec.js';
import type { MailboxCollection, MailboxStore } from '../../src/mailbox/port.js';
import { type App, openApp } from '../../src/main.js';
import type { RunReport } from '../../src/sync/report.js';
import { runMailboxSync } from '../../src/sync/run-sync.js';
import { DEFAULT_SETTINGS } from '../../src/sync/settings.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { delegatingStore } from '../support/delegating-collection.js';

/*
 * An item edited on the server between the moment Liaison planned its write and the moment
 * the write reaches the server: the firm database (SQLite), the DAV adapter and Radicale are
 * all real; only the mailbox collection is wrapped so that, just before Liaison's write of an
 * item, another client's PUT of that item goes straight to Radicale. Liaison's write then
 * carries an etag that is no longer current: Radicale answers 412, and the item must be
 * re-read and merged — never written blindly over the other client's edit. Likewise for a
 * create: another client's new item with the same UID makes Radicale refuse Liaison's (409
 * no-uid-conflict), and the two must be matched, not duplicated.
 */

let radicale: RadicaleServer;
let dir: string;
let app: App;
let userId: UserId;
const savedKey = process.env.LIAISON_SECRET_KEY;

/** Another client's PUT of `href`, unconditional, as the service account. */
async function concurrentPut(href: Href, text: string, kind: CollectionKind): Promise<void> {
  const response = await fetch(new URL(href, radicale.url), {
    method: 'PUT',
    headers: {
      authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      'content-type': kind === 'contacts' ? 'text/vcard; charset=utf-8' : 'text/calendar; charset=utf-8',
    },
    body: text,
  });
  await response.arrayBuffer();
  if (response.status !== 204 && response.status !== 201)
    throw new Error(`concurrent PUT: ${response.status}`);
}

async function serverText(href: Href): Promise<string | null> {
  const response = await fetch(new URL(href, radicale.url), {
    headers: {
      authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
    },
  });
  const text = await response.text();
  return response.status === 404 ? null : text;
}

/**
 * Another client's writes, each made just before Liaison's first write of its kind in a
 * collection, and what became of that write of Liaison's.
 */
interface Race {
  /** Another client's edit of the item Liaison is about to update or delete: its new text. */
  readonly edit?: (text: string, kind: CollectionKind) => string;
  /** Another client's item with the UID Liaison is about to create, under a name of its own. */
  readonly create?: (uid: Uid) => { readonly name: string; readonly text: string };
  /** The hrefs raced on. */
  readonly hrefs: Href[];
  /** How Liaison's raced writes ended: an error kind, or 'written' if it went through. */
  readonly outcomes: (ErrorKind | 'written')[];
}

/** The user's mailbox, with the other client's writes of `race` slipped in before Liaison's. */
function racingMailbox(store: MailboxStore, race: Race): MailboxStore {
  const raced = new Set<string>();
  const once = (kind: CollectionKind, write: string) => {
    if (raced.has(`${kind} ${write}`)) return false;
    raced.add(`${kind} ${write}`);
    return true;
  };
  const editFirst = async (c: MailboxCollection, href: Href) => {
    if (race.edit === undefined || !once(c.kind, 'change')) return false;
    race.hrefs.push(href);
    const current = await serverText(href);
    if (current === null) throw new Error(`${href} is not on the server`);
    await concurrentPut(href, race.edit(current, c.kind), c.kind);
    return true;
  };
  const createFirst = async (c: MailboxCollection, uid: Uid) => {
    if (race.create === undefined || !once(c.kind, 'create')) return false;
    const theirs = race.create(uid);
    const href = `/ann/${c.kind}/${theirs.name}` as Href;
    race.hrefs.push(href);
    await concurrentPut(href, theirs.text, c.kind);
    return true;
  };
  const record = async <R>(first: boolean, write: () => Promise<R>): Promise<R> => {
    try {
      const r = await write();
      if (first) race.outcomes.push('written');
      return r;
    } catch (e) {
      if (first && isLiaisonError(e)) race.outcomes.push(e.kind);
      throw e;
    }
  };
  return delegatingStore(store, (c) => ({
    async create(uid: Uid, text: string) {
      const first = await createFirst(c, uid);
      return record(first, () => c.create(uid, text));
    },
    async update(href: Href, text: string, ifMatch: Etag) {
      const first = await editFirst(c, href);
      return record(first, () => c.update(href, text, ifMatch));
    },
    async delete(href: Href, ifMatch: Etag) {
      const first = await editFirst(c, href);
      return record(first, () => c.delete(href, ifMatch));
    },
  }));
}

async function sync(race?: Race) {
  const deps = app.syncDeps();
  const report: RunReport = await runMailboxSync(
    race ? { ...deps, openMailbox: async (u) => racingMailbox(await deps.openMailbox(u), race) } : deps,
    { users: ['ann'], servers: [], groups: [], scope: 'both' },
    DEFAULT_SETTINGS,
  );
  const out = (kind: CollectionKind) => report.collections.find((c) => c.collection === kind)!;
  return { contacts: out('contacts'), calendar: out('calendar') };
}

/** Ann's collection on the server, through Liaison's own adapter. */
async function collectionOf(kind: CollectionKind): Promise<MailboxCollection> {
  const deps = app.syncDeps();
  const [ann] = await deps.listUsers();
  return (await deps.openMailbox(ann!)).collection(kind);
}

/** The one item of ann's collection on the server. */
async function onlyHref(kind: CollectionKind): Promise<Href> {
  const refs = await (await collectionOf(kind)).list();
  expect(refs).toHaveLength(1);
  return refs[0]!.href;
}

/** Every item of ann's collection on the server whose text contains `needle`: href → text. */
async function serverItemsWith(kind: CollectionKind, needle: string): Promise<Map<Href, string>> {
  const collection = await collectionOf(kind);
  const out = new Map<Href, string>();
  for await (const r of collection.read((await collection.list()).map((ref) => ref.href))) {
    if ('text' in r && r.text.includes(needle)) out.set(r.href, r.text);
  }
  return out;
}

beforeAll(async () => {
  radicale = await startRadicale();
  await radicale.addUser('ann');
  dir = mkdtempSync(join(tmpdir(), 'liaison-race-'));
  // The service account's password is stored encrypted, as `liaison server add` does.
  process.env.LIAISON_SECRET_KEY = randomBytes(32).toString('base64');
  app = await openApp(join(dir, 'firm.db'));
  await app.credentials.addDavServer({
    name: 'radicale',
    url: radicale.url,
    auth: { kind: 'basic', username: radicale.username, password: radicale.password },
  });
  const server = (await app.repos.servers.get('radicale'))!;
  await (await app.mailboxServer(server)).ensureMailbox('ann');
  const user = await app.repos.users.add({
    login: 'ann',
    displayName: 'Ann',
    server: 'radicale',
    mailboxAccount: 'ann',
    contactsEnabled: true,
    calendarEnabled: true,
  });
  userId = user.id;
});

afterAll(async () => {
  await app?.close();
  await radicale?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (savedKey === undefined) delete process.env.LIAISON_SECRET_KEY;
  else process.env.LIAISON_SECRET_KEY = savedKey;
});

describe('an item edited on Radicale between planning and writing', () => {
  it('is re-read and merged in the same run: both edits survive, on both sides', async () => {
    const contactId = await app.repos.contacts.add(userId, {
      ...emptyContact(asUid('race-contact')),
      name: { prefix: '', given: 'Rita', additional: '', family: 'Race', suffix: '' },
      formattedName: 'Rita Race',
      emails: [{ value: 'rita@race.example', types: [] }],
    });
    const eventId = await app.repos.appointments.add(userId, {
      ...emptyAppointment(
        asUid('race-event'),
        { value: '2026-12-03T10:00:00Z', tzid: '' },
        { value: '2026-12-03T11:00:00Z', tzid: '' },
      ),
      summary: 'Review',
    });
    const first = await sync();
    expect(first.contacts.toMailbox.created).toBe(1);
    expect(first.calendar.toMailbox.created).toBe(1);
    const contactHref = await onlyHref('contacts');
    const eventHref = await onlyHref('calendar');

    // The firm edits one field of each; a phone edits another field of the same items
    // while Liaison's writes are on their way.
    await app.repos.contacts.edit(contactId, { title: 'Director' });
    await app.repos.appointments.edit(eventId, { location: 'Room 4' });
    const race: Race = {
      edit: (text, kind) =>
        kind === 'contacts'
          ? text.replace('END:VCARD', 'NOTE:added on the phone\r\nEND:VCARD')
          : text.replace('END:VEVENT', 'DESCRIPTION:agenda from the phone\r\nEND:VEVENT'),
      hrefs: [],
      outcomes: [],
    };
    const raced = await sync(race);

    // The race happened: each stale write was refused by Radicale, never forced through.
    expect(race.hrefs.sort()).toEqual([eventHref, contactHref].sort());
    expect(race.outcomes).toEqual(['PreconditionFailed', 'PreconditionFailed']);
    for (const r of [raced.contacts, raced.calendar]) {
      expect(r.outcome).toBe('synced');
      expect(r.deferred).toBe(0);
      expect(r.toMailbox.updated).toBe(1);
      expect(r.toFirm.updated).toBe(1);
    }

    const contactOnServer = contactCodec.parse((await serverText(contactHref))!, asUid('x'));
    expect(contactOnServer).toMatchObject({ title: 'Director', note: 'added on the phone' });
    expect((await app.repos.contacts.get(contactId))?.item).toMatchObject({
      title: 'Director',
      note: 'added on the phone',
    });
    const eventOnServer = appointmentCodec.parse((await serverText(eventHref))!, asUid('x'));
    expect(eventOnServer).toMatchObject({ location: 'Room 4', description: 'agenda from the phone' });
    expect((await app.repos.appointments.get(eventId))?.item).toMatchObject({
      location: 'Room 4',
      description: 'agenda from the phone',
    });

    // Settled: the next run has nothing to do.
    const after = await sync();
    expect(after.contacts.outcome).toBe('unchanged');
    expect(after.calendar.outcome).toBe('unchanged');
  });

  it('a firm deletion racing an edit on the server: the edit wins and comes back to the firm', async () => {
    const contactId = (await app.repos.contacts.list(userId))[0]!.id;
    const href = await onlyHref('contacts');
    await app.repos.contacts.delete(contactId);
    const race: Race = {
      edit: (text) => text.replace(/TITLE:[^\r\n]*/, 'TITLE:Managing Director'),
      hrefs: [],
      outcomes: [],
    };
    const raced = await sync(race);

    expect(race.hrefs).toEqual([href]);
    expect(race.outcomes).toEqual(['PreconditionFailed']);
    // Modify beats delete: the item stays on the server with the edit, and returns to the firm.
    expect(contactCodec.parse((await serverText(href))!, asUid('x')).title).toBe('Managing Director');
    const firm = await app.repos.contacts.list(userId);
    expect(firm.map((r) => [r.item.uid, r.item.title])).toEqual([['race-contact', 'Managing Director']]);
    expect(raced.contacts).toMatchObject({ deferred: 0, toMailbox: { deleted: 0 }, toFirm: { created: 1 } });
  });

  it('a new firm item whose UID another client takes on the server meanwhile: matched, not duplicated', async () => {
    const ninaId = await app.repos.contacts.add(userId, {
      ...emptyContact(asUid('nina-1')),
      name: { prefix: '', given: 'Nina', additional: '', family: 'New', suffix: '' },
      formattedName: 'Nina New',
      emails: [{ value: 'nina@new.example', types: [] }],
    });
    const race: Race = {
      // The same person saved on a phone under the same UID, with a phone number.
      create: (uid) => ({
        name: 'phone-nina.vcf',
        text: `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:Nina New\r\nN:New;Nina;;;\r\nTEL:+33 1 23 45 67 89\r\nEND:VCARD\r\n`,
      }),
      hrefs: [],
      outcomes: [],
    };
    const raced = await sync(race);

    // Radicale refuses a second item with that UID (409 no-uid-conflict): Liaison's create
    // does not go through, and the item is matched to the phone's in the same run.
    expect(race.hrefs).toEqual(['/ann/contacts/phone-nina.vcf']);
    expect(race.outcomes).toEqual(['AlreadyExists']);
    expect(raced.contacts).toMatchObject({ outcome: 'synced', deferred: 0 });
    const withUid = await serverItemsWith('contacts', 'UID:nina-1');
    expect([...withUid.keys()]).toEqual(['/ann/contacts/phone-nina.vcf']);
    const onServer = contactCodec.parse([...withUid.values()][0]!, asUid('x'));
    expect(onServer.emails.map((e) => e.value)).toEqual(['nina@new.example']);
    expect(onServer.phones.map((p) => p.value)).toEqual(['+33 1 23 45 67 89']);
    const firm = (await app.repos.contacts.list(userId)).filter((r) => r.item.uid === 'nina-1');
    expect(firm.map((r) => r.id)).toEqual([ninaId]);
    expect(firm[0]?.item.phones.map((p) => p.value)).toEqual(['+33 1 23 45 67 89']);
    expect((await sync()).contacts.outcome).toBe('unchanged');
  });
});
