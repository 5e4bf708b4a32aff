import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { FirmCli, stepOf, vcard } from '../support/firm-cli.js';
import { radicaleCliEnv } from '../support/radicale-cli.js';

/*
 * The guide's four-step cycle against a real Radicale (a shorter version of the vdir test):
 * Alice and Bob hold the same person in their address books; after a cycle both are connected
 * to one firm contact; Alice's new phone number reaches Bob's address book and Bob's own note
 * stays; Alice's private contact never reaches the firm list or Bob. Items are written over
 * HTTP as the service account, as another client's edit would be, and read back from
 * Radicale's storage folder.
 */

let dir: string;
let radicale: RadicaleServer;
let cli: FirmCli;

async function put(login: string, name: string, text: string): Promise<void> {
  const response = await fetch(new URL(`/${login}/contacts/${name}`, radicale.url), {
    method: 'PUT',
    headers: {
      authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      'content-type': 'text/vcard; charset=utf-8',
    },
    body: text,
  });
  await response.arrayBuffer();
  if (response.status !== 201 && response.status !== 204) throw new Error(`PUT ${name}: ${response.status}`);
}

/** The texts of the contacts Radicale stores for `login`. */
function serverTexts(login: string): string[] {
  const folder = join(radicale.storage, 'collection-root', login, 'contacts');
  return readdirSync(folder)
    .filter((n) => !n.startsWith('.'))
    .map((n) => readFileSync(join(folder, n), 'utf8'));
}
function serverText(login: string, needle: string): string {
  const found = serverTexts(login).filter((t) => t.includes(needle));
  expect(found, `${login}'s items with ${needle}`).toHaveLength(1);
  return found[0]!;
}

const TOM_ALICE = (phone: string) =>
  vcard('alice-tom', 'Tom', 'Smith', `ORG:Acme\r\nEMAIL:Tom.Smith@Acme.Example\r\nTEL:${phone}\r\n`);

beforeAll(async () => {
  radicale = await startRadicale();
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-firm-radicale-'));
  cli = new FirmCli(radicaleCliEnv(radicale, dir));
});
afterAll(async () => {
  await radicale?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('liaison firm-sync on a Radicale server', () => {
  it('connects Alice’s and Bob’s contacts of one person to one firm contact, private ones left out', async () => {
    await cli.ok(['init']);
    await cli.ok([
      'server',
      'add',
      'radicale',
      '--kind',
      'dav',
      '--url',
      radicale.url,
      '--username',
      radicale.username,
      '--password-env',
      'DAV_PW',
    ]);
    for (const login of ['alice', 'bob']) {
      await radicale.addUser(login);
      await cli.ok([
        'user',
        'add',
        login,
        '--name',
        login,
        '--server',
        'radicale',
        '--mailbox',
        login,
        '--contacts',
        'on',
        '--calendar',
        'on',
        '--create-collections',
      ]);
    }
    await put('alice', 'tom.vcf', TOM_ALICE('+44 20 7946 0001'));
    await put(
      'alice',
      'pat.vcf',
      vcard('alice-pat', 'Pat', 'Pine', 'EMAIL:pat@home.example\r\nCLASS:PRIVATE\r\n'),
    );
    await put(
      'bob',
      'tom.vcf',
      vcard('bob-tom', 'Tom', 'Smith', 'EMAIL:tom.smith@acme.example\r\nNOTE:Met him at the golf club\r\n'),
    );

    const cycle = await cli.cleanCycle();
    expect(stepOf(cycle.up.json, 'bob', 'up').counts.connected).toBe(1);
    const list = await cli.firmList();
    expect(list.map((f) => [f.formattedName, f.connected])).toEqual([['Tom Smith', 2]]);
    const tom = await cli.firmShow(list[0]!.id);
    expect(tom.connected.map((c) => c.login).sort()).toEqual(['alice', 'bob']);
    expect(serverText('bob', 'UID:bob-tom')).toMatch(/TEL[^\r\n]*:\+44 20 7946 0001/);
    expect(await cli.firmList('pat')).toEqual([]);
    expect(serverTexts('bob').join('')).not.toContain('Pine');
  });

  it('Alice’s new phone number reaches Bob’s address book; Bob’s note stays his', async () => {
    await put('alice', 'tom.vcf', TOM_ALICE('+44 20 7946 0999'));
    const cycle = await cli.cleanCycle();
    expect(stepOf(cycle.up.json, 'alice', 'up').counts.firmUpdated).toBe(1);
    expect(stepOf(cycle.down.json, 'bob', 'down').counts.userContactsUpdated).toBe(1);
    const bobTom = serverText('bob', 'UID:bob-tom');
    expect(bobTom).toMatch(/TEL[^\r\n]*:\+44 20 7946 0999/);
    expect(bobTom).not.toContain('7946 0001');
    expect(bobTom).toContain('NOTE:Met him at the golf club');
    expect(serverText('alice', 'UID:alice-tom')).not.toContain('golf');
    expect(await cli.firmList('pat')).toEqual([]);
    expect(serverTexts('bob')).toHaveLength(1);
  });
});
