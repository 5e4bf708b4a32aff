/**
 * The DAV servers the benchmark measures against, each with one user holding one address
 * book of realistic contacts. The throwaway servers are the test suite's own harnesses
 * (test/support/dav-servers, built with the bench through tsconfig.build.json), so the
 * benchmark and the tests run the very same Radicale and Cyrus setups.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SampleData } from '../src/demo/sample-data.js';
import { contactCodec } from '../src/formats/contact-codec.js';
import { startCyrus } from '../test/support/dav-servers/cyrus.js';
import { startRadicale } from '../test/support/dav-servers/radicale.js';
import { BareDav, type Login, type PutItem } from './dav-http.js';

/** One server with one user's address book filled. */
export interface BenchPeer {
  readonly name: string;
  /** Where Liaison's server record points (discovery starts there). */
  readonly url: string;
  /** The account Liaison's server record signs in with. */
  readonly service: Login;
  /** The user's mailbox account on the server (`liaison user add … --mailbox`). */
  readonly account: string;
  /** The user's own login: for vdirsyncer, the protocol floor and the edits. */
  readonly user: Login;
  /** The address book, absolute. */
  readonly addressBookUrl: string;
  /** What vdirsyncer's carddav storage is given as `url`. */
  readonly vdirsyncerUrl: string;
  /** How the address book was filled, for the printout. */
  readonly loaded: string;
  /**
   * Changes `count` contacts spread over the address book, by HTTP PUT as a client would
   * (so the server's change history is right); `round` makes each round's text new.
   */
  edit(round: number, count: number): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'bench';

/** The address book's contacts: UID, file name and vCard text. */
function sampleContacts(count: number): { uid: string; name: string; text: string }[] {
  const gen = new SampleData(42);
  const items: { uid: string; name: string; text: string }[] = [];
  for (let n = 0; n < count; n++) {
    const contact = gen.contact(n, USER);
    items.push({ uid: contact.uid, name: `${contact.uid}.vcf`, text: contactCodec.serialize(contact) });
  }
  return items;
}

/** `count` of `items` (absolute URL and text), spread over the address book, each with a changed job title. */
function edited(items: readonly PutItem[], round: number, count: number): PutItem[] {
  const step = Math.max(1, Math.floor(items.length / count));
  const chosen: PutItem[] = [];
  for (let i = 0; i < count && i * step < items.length; i++) chosen.push(items[i * step]!);
  return chosen.map((item) => {
    const title = `TITLE:Edited on the server\\, round ${round}`;
    const text = /^TITLE:.*$/m.test(item.text)
      ? item.text.replace(/^TITLE:.*$/m, title)
      : item.text.replace('END:VCARD', `${title}\r\nEND:VCARD`);
    return { url: item.url, text };
  });
}

/** An edit function: PUTs (4 at a time, as the user) the round's changed contacts. */
function editor(user: Login, items: readonly PutItem[]): BenchPeer['edit'] {
  return async (round, count) => {
    const dav = new BareDav(user, 4);
    try {
      await dav.putAll(edited(items, round, count), 4, false);
    } finally {
      await dav.close();
    }
  };
}

async function checkCount(user: Login, addressBookUrl: string, expected: number): Promise<void> {
  const dav = new BareDav(user, 1);
  try {
    const hrefs = await dav.initialSync(addressBookUrl);
    if (hrefs.length !== expected) {
      throw new Error(`${addressBookUrl} lists ${hrefs.length} items, not ${expected}`);
    }
  } finally {
    await dav.close();
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Radicale, filled by writing its storage directly (collection-root/USER/COLLECTION/, a
 * `.Radicale.props` naming it an address book, one file per item): Radicale reads the
 * folder on every request. One initial sync-collection REPORT then warms its item cache
 * and change history, as the first client to sync would.
 */
export async function startRadicalePeer(contacts: number): Promise<BenchPeer> {
  const radicale = await startRadicale();
  try {
    const user = await radicale.addUser(USER);
    const items = sampleContacts(contacts);
    const t0 = performance.now();
    const folder = join(radicale.storage, 'collection-root', USER, 'contacts');
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, '.Radicale.props'),
      JSON.stringify({ 'D:displayname': 'Contacts', tag: 'VADDRESSBOOK' }),
    );
    for (const item of items) writeFileSync(join(folder, item.name), item.text);
    const written = performance.now() - t0;
    const addressBookUrl = `${radicale.url}${USER}/contacts/`;
    const t1 = performance.now();
    await checkCount(user, addressBookUrl, contacts);
    const warmed = performance.now() - t1;
    return {
      name: 'Radicale',
      url: radicale.url,
      service: { username: radicale.username, password: radicale.password },
      account: USER,
      user,
      addressBookUrl,
      vdirsyncerUrl: radicale.url,
      loaded: `written to its storage in ${seconds(written)}, cache warmed by one REPORT in ${seconds(warmed)}`,
      edit: editor(
        user,
        items.map((item) => ({ url: `${addressBookUrl}${item.name}`, text: item.text })),
      ),
      stop: () => radicale.stop(),
    };
  } catch (e) {
    await radicale.stop();
    throw e;
  }
}

/** vCards per bulk import POST when filling Cyrus. */
const CYRUS_IMPORT_BATCH = 1_000;
/** PUTs in flight at once where Cyrus refuses bulk import. */
const CYRUS_PUT_CONCURRENCY = 8;

/**
 * Cyrus, filled by its bulk import: a POST of many vCards to the address book answers a
 * multistatus naming the href (a name of Cyrus's choosing) and UID of each item it
 * stored — about three times faster than PUTs, several at a time. Where a POST is refused,
 * PUTs with If-None-Match: * do it instead.
 *
 * Liaison signs in as the Cyrus admin, its service account there; vdirsyncer, the floor
 * and the edits as the user.
 */
export async function startCyrusPeer(contacts: number): Promise<BenchPeer> {
  const cyrus = await startCyrus({ users: [USER] });
  try {
    const user = { username: USER, password: cyrus.userPassword(USER) };
    const addressBookUrl = `${cyrus.addressBookHomeUrl(USER)}Default/`;
    const t0 = performance.now();
    const dav = new BareDav(user, CYRUS_PUT_CONCURRENCY);
    let stored: PutItem[];
    let how: string;
    try {
      const imported = await bulkImport(dav, addressBookUrl, sampleContacts(contacts));
      if (imported !== null) {
        stored = imported;
        how = `bulk import (POST of ${CYRUS_IMPORT_BATCH.toLocaleString('en-US')} vCards at a time)`;
      } else {
        stored = sampleContacts(contacts).map((item) => ({
          url: `${addressBookUrl}${item.name}`,
          text: item.text,
        }));
        await dav.putAll(stored, CYRUS_PUT_CONCURRENCY, true);
        how = `${CYRUS_PUT_CONCURRENCY} PUTs at a time`;
      }
    } finally {
      await dav.close();
    }
    const filled = performance.now() - t0;
    await checkCount(user, addressBookUrl, contacts);
    return {
      name: 'Cyrus',
      url: cyrus.url,
      service: { username: cyrus.adminUser, password: cyrus.adminPassword },
      account: USER,
      user,
      addressBookUrl,
      vdirsyncerUrl: cyrus.url,
      loaded: `${how} in ${seconds(filled)}`,
      edit: editor(user, stored),
      stop: () => cyrus.stop(),
    };
  } catch (e) {
    await cyrus.stop();
    throw e;
  }
}

/**
 * Cyrus's bulk import: POSTs `items` to the address book in batches. Resolves with where
 * each item was stored, or null when the first POST is refused (nothing stored then).
 */
async function bulkImport(
  dav: BareDav,
  addressBookUrl: string,
  items: readonly { uid: string; text: string }[],
): Promise<PutItem[] | null> {
  const origin = new URL(addressBookUrl).origin;
  const textOf = new Map(items.map((item) => [item.uid, item.text]));
  const stored: PutItem[] = [];
  for (let i = 0; i < items.length; i += CYRUS_IMPORT_BATCH) {
    const batch = items.slice(i, i + CYRUS_IMPORT_BATCH);
    const answer = await dav.send(
      'POST',
      addressBookUrl,
      { 'content-type': 'text/vcard; charset=utf-8' },
      batch.map((item) => item.text).join(''),
    );
    if (answer.status !== 207) {
      if (i === 0) return null;
      throw new Error(`Cyrus's bulk import answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    }
    for (const response of answer.text.split(/<(?:[\w-]+:)?response>/).slice(1)) {
      const href = /<(?:[\w-]+:)?href>([^<]+)</.exec(response)?.[1];
      const uid = /<(?:[\w-]+:)?uid>([^<]+)</.exec(response)?.[1];
      const ok = /<(?:[\w-]+:)?status>HTTP\/1\.1 2\d\d/.test(response);
      const text = uid === undefined ? undefined : textOf.get(uid);
      if (href === undefined || text === undefined || !ok) {
        throw new Error(`Cyrus's bulk import did not store an item: ${response.slice(0, 300)}`);
      }
      stored.push({ url: new URL(href, origin).href, text });
    }
  }
  return stored;
}
