import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLine, FirmCli, phonesOf, stepOf, vcard } from '../support/firm-cli.js';

/*
 * Firm sync end to end through the real CLI on vdir mailboxes: the guide's four-step cycle
 * (mailbox contacts in → firm up → firm down → mailbox contacts and calendar out), private
 * contacts, the users' preferences and reviews, and bad input. Mailbox files are written by
 * hand, as a user's client would. The steps build on each other and run in order.
 */

let dir: string;
let cli: FirmCli;

const TOM_ALICE = vcard(
  'alice-tom',
  'Tom',
  'Smith',
  'ORG:Acme\r\nEMAIL;TYPE=WORK:Tom.Smith@Acme.Example\r\nTEL;TYPE=WORK:+44 20 7946 0001\r\n',
);
// The same person in Bob's address book: another UID, the address in lower case, no phone.
const TOM_BOB = vcard('bob-tom', 'Tom', 'Smith', 'EMAIL:tom.smith@acme.example\r\n');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-firm-'));
  cli = new FirmCli({ LIAISON_DB: join(dir, 'firm.db') }, join(dir, 'mailboxes'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('liaison firm-sync on vdir mailboxes', () => {
  it('sets up two users whose mailboxes hold the same person', async () => {
    await cli.ok(['init']);
    await cli.ok(['server', 'add', 'files', '--kind', 'vdir', '--url', cli.mailboxes]);
    for (const login of ['alice', 'bob']) {
      await cli.ok([
        'user',
        'add',
        login,
        '--name',
        login,
        '--server',
        'files',
        '--mailbox',
        login,
        '--contacts',
        'on',
        '--calendar',
        'on',
      ]);
    }
    cli.write('alice', 'tom.vcf', TOM_ALICE);
    cli.write('bob', 'tom.vcf', TOM_BOB);
    // Private in Alice's client: CLASS:PRIVATE, as groupware clients write it.
    cli.write(
      'alice',
      'pat.vcf',
      vcard('alice-pat', 'Pat', 'Pine', 'EMAIL:pat@home.example\r\nCLASS:PRIVATE\r\n'),
    );
    // To be marked private on the firm side before it is ever taken up.
    cli.write('alice', 'quinn.vcf', vcard('alice-quinn', 'Quinn', 'Quill', 'EMAIL:quinn@quill.example\r\n'));
    // Neither a name nor an e-mail address: kept, reported, not matched.
    cli.write(
      'alice',
      'number.vcf',
      'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:alice-number\r\nTEL:+1 555 0100\r\nEND:VCARD\r\n',
    );
    const users = await cli.json<{ login: string; firmSync: { updates: string; newContacts: string } }[]>([
      'user',
      'list',
    ]);
    expect(users.map((u) => [u.login, u.firmSync])).toEqual([
      ['alice', { updates: 'auto', newContacts: 'firm' }],
      ['bob', { updates: 'auto', newContacts: 'firm' }],
    ]);
  });

  it('after one cycle both users are connected to one firm contact; private contacts stay out', async () => {
    const mailboxIn = await cli.mailboxSync('contacts');
    expect(mailboxIn.code).toBe(0);
    const quinn = (await cli.contacts('alice')).find((c) => c.uid === 'alice-quinn');
    await cli.ok(['contacts', 'edit', quinn!.id, '--private']);

    const up = await cli.firmSync('up');
    expect(up.code).toBe(0);
    expect(stepOf(up.json, 'alice', 'up').counts).toMatchObject({
      firmCreated: 1,
      notMatched: 1,
      keptPrivate: 2,
    });
    expect(stepOf(up.json, 'alice', 'up').notMatched.map((n) => n.uid)).toEqual(['alice-number']);
    expect(stepOf(up.json, 'bob', 'up').counts).toMatchObject({ firmCreated: 0, connected: 1 });
    const down = await cli.firmSync('down');
    expect(down.code).toBe(0);
    expect(stepOf(down.json, 'bob', 'down').counts.userContactsUpdated).toBe(1);
    const out = await cli.mailboxSync('both');
    expect(out.code).toBe(0);

    const list = await cli.firmList();
    expect(list.map((f) => [f.formattedName, f.organization, f.emails, f.connected])).toEqual([
      ['Tom Smith', 'Acme', ['tom.smith@acme.example'], 2],
    ]);
    const tom = await cli.firmShow(list[0]!.id);
    expect(tom.connected.map((c) => [c.login, c.uid]).sort()).toEqual([
      ['alice', 'alice-tom'],
      ['bob', 'bob-tom'],
    ]);
    expect(tom.provenance.phones).toMatchObject({ user: 'alice', run: up.json.runId });
    // Alice's phone and organization reached Bob's mailbox through the cycle.
    expect(cli.file('bob', 'UID:bob-tom')).toMatch(/TEL[^\r\n]*:\+44 20 7946 0001/);
    expect(cli.file('bob', 'UID:bob-tom')).toContain('ORG:Acme');

    for (const who of ['pat', 'quinn', 'home.example', 'quill.example']) {
      expect(await cli.firmList(who), who).toEqual([]);
    }
    expect((await cli.contacts('bob')).map((c) => c.uid)).toEqual(['bob-tom']);
    expect(cli.files('bob')).toHaveLength(1);

    // The human report names the users, their counts and the contact that was not matched.
    const text = await cli.run(['journal', '--run', up.json.runId]);
    expect(text.stdout).toMatch(/firm-create \(up\)\s+alice/);
    const human = await cli.run(['firm-sync', '--step', 'both']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Firm sync run \S+ \(step both\)$/m);
    expect(human.stdout).toMatch(/^ {2}alice up: unchanged$/m);
    expect(human.stdout).toMatch(/^Summary: \d+ unchanged/m);
  });

  it('a phone number changed in Alice’s mailbox reaches Bob’s; Bob’s own note stays', async () => {
    cli.edit('bob', 'UID:bob-tom', addLine('NOTE:Met him at the golf club'));
    // Bob's note is his own: the up step reads his changed contact and has nothing to carry,
    // which it reports as mailbox sync reports an unchanged collection.
    expect((await cli.mailboxSync('contacts')).code).toBe(0);
    const noted = await cli.run(['firm-sync', '--step', 'up']);
    expect(noted.code).toBe(0);
    expect(noted.stdout).toMatch(/^ {2}bob up: unchanged$/m);
    expect(noted.stdout).not.toMatch(/synced/);
    await cli.cleanCycle();
    cli.edit('alice', 'UID:alice-tom', (t) => t.replace('+44 20 7946 0001', '+44 20 7946 0999'));
    // Alice also edits her private contact: it still never reaches the firm list.
    cli.edit('alice', 'UID:alice-pat', addLine('TITLE:Neighbour'));

    // A dry run plans the change and writes nothing: the real cycle after it still has it to do.
    expect((await cli.mailboxSync('contacts')).code).toBe(0);
    const dry = await cli.firmSync('up', ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.json.dryRun).toBe(true);
    expect(stepOf(dry.json, 'alice', 'up').counts.firmUpdated).toBe(1);
    const tomId = (await cli.firmOne('tom')).id;
    expect(phonesOf(await cli.firmShow(tomId))).toEqual(['+44 20 7946 0001']);

    const cycle = await cli.cleanCycle();
    expect(stepOf(cycle.up.json, 'alice', 'up').counts.firmUpdated).toBe(1);
    expect(stepOf(cycle.down.json, 'bob', 'down').counts.userContactsUpdated).toBe(1);
    const bobTom = cli.file('bob', 'UID:bob-tom');
    expect(bobTom).toMatch(/TEL[^\r\n]*:\+44 20 7946 0999/);
    expect(bobTom).not.toContain('7946 0001');
    expect(bobTom).toContain('NOTE:Met him at the golf club');
    // The note is Bob's own: it is not in the firm contact and not in Alice's mailbox.
    const tom = await cli.firmShow(tomId);
    expect(JSON.stringify(tom.fields)).not.toContain('golf');
    expect(cli.file('alice', 'UID:alice-tom')).not.toContain('golf');
    expect(tom.provenance.phones).toMatchObject({ user: 'alice', run: cycle.up.json.runId });
    expect(await cli.firmList('pat')).toEqual([]);
    expect(cli.files('bob').join('')).not.toMatch(/Pine|Quill/);
  });

  it('shows the preferences and holds new contacts and updates for review', async () => {
    await cli.ok(['user', 'set', 'bob', '--updates', 'review', '--new-contacts', 'ask']);
    const table = await cli.ok(['user', 'list']);
    expect(table).toMatch(/UPDATES\s+NEW CONTACTS/);
    expect(table).toMatch(/^bob .*\sreview\s+ask$/m);
    cli.write('bob', 'una.vcf', vcard('bob-una', 'Una', 'Umber', 'EMAIL:una@umber.example\r\n'));
    cli.write('bob', 'vic.vcf', vcard('bob-vic', 'Vic', 'Vale', 'EMAIL:vic@vale.example\r\n'));
    cli.edit('alice', 'UID:alice-tom', addLine('TITLE:Partner'));

    const cycle = await cli.cleanCycle();
    expect(stepOf(cycle.up.json, 'bob', 'up').counts.reviewsHeld).toBe(2);
    expect(stepOf(cycle.down.json, 'bob', 'down').counts.reviewsHeld).toBe(1);
    expect(cli.file('bob', 'UID:bob-tom')).not.toContain('Partner');
    expect(await cli.firmList('umber')).toEqual([]);

    interface Review {
      id: string;
      kind: string;
      login: string;
      state: string;
      proposed: Record<string, unknown>;
      createdAt: string;
      resolvedAt: string | null;
    }
    const held = await cli.json<Review[]>(['review', 'list', '--user', 'bob']);
    expect(held.map((r) => [r.login, r.kind, r.state]).sort()).toEqual([
      ['bob', 'new-contact', 'held'],
      ['bob', 'new-contact', 'held'],
      ['bob', 'update', 'held'],
    ]);
    expect(await cli.json<Review[]>(['review', 'list', '--user', 'alice'])).toEqual([]);
    const update = held.find((r) => r.kind === 'update')!;
    expect(update.proposed).toEqual({ title: 'Partner' });
    const una = held.find((r) => r.proposed.formattedName === 'Una Umber')!;
    const vic = held.find((r) => r.proposed.formattedName === 'Vic Vale')!;
    expect((await cli.ok(['review', 'list'])).split('\n').filter((l) => l.includes(' held '))).toHaveLength(
      3,
    );

    const approved = await cli.json<{ applied: string[]; review: Review }>(['review', 'approve', update.id]);
    expect(approved.applied).toEqual(['title']);
    expect(approved.review).toMatchObject({ id: update.id, state: 'approved' });
    expect(approved.review.resolvedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await cli.contacts('bob')).find((c) => c.uid === 'bob-tom')?.title).toBe('Partner');
    expect((await cli.mailboxSync('both')).code).toBe(0);
    expect(cli.file('bob', 'UID:bob-tom')).toContain('TITLE:Partner');
    expect(cli.file('bob', 'UID:bob-tom')).toContain('NOTE:Met him at the golf club');

    expect(await cli.ok(['review', 'approve', una.id])).toMatch(/Una Umber taken to the firm list/);
    expect(await cli.ok(['review', 'reject', vic.id])).toMatch(/stays in bob's list only/);
    expect((await cli.firmOne('umber')).connected).toBe(1);
    expect(await cli.firmList('vale')).toEqual([]);
    const again = await cli.run(['review', 'approve', vic.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already rejected/);

    // A rejected new contact is not asked about again; the approved one stays connected.
    await cli.cleanCycle();
    expect(await cli.json<Review[]>(['review', 'list'])).toEqual([]);
    expect(await cli.firmList('vale')).toEqual([]);
    const all = await cli.json<Review[]>(['review', 'list', '--all']);
    expect(all.map((r) => r.state).sort()).toEqual(['approved', 'approved', 'rejected']);
    // Each decision is stamped with its time, approved or rejected.
    for (const r of all) expect(r.resolvedAt !== null && r.resolvedAt >= r.createdAt, r.id).toBe(true);
    await cli.ok(['user', 'set', 'bob', '--updates', 'auto', '--new-contacts', 'firm']);
  });

  it('answers bad input with a one-line message and exit 2', async () => {
    const refused = async (args: string[], message: RegExp) => {
      const r = await cli.run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(message);
      expect(r.stdout).toBe('');
    };
    await refused(['user', 'set', 'nobody', '--updates', 'auto'], /^error: unknown user: nobody$/);
    await refused(['user', 'set', 'alice', 'nobody', '--new-contacts', 'ask'], /unknown user: nobody/);
    await refused(['user', 'set', 'bob', '--updates', 'sometimes'], /'sometimes' is invalid.*auto, review/);
    await refused(
      ['user', 'set', 'bob', '--new-contacts', 'everyone'],
      /'everyone' is invalid.*firm, private, ask/,
    );
    await refused(['user', 'set', 'bob', '--updates', 'auto', '--updates', 'review'], /conflicts with auto/);
    await refused(['user', 'set', 'bob'], /nothing to change/);
    const six = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((g) => ['--group', g]);
    await refused(['firm-sync', ...six], /at most 5 --group/);
    await refused(['firm-sync', '--step', 'sideways'], /'sideways' is invalid/);
    await refused(['review', 'approve', 'no-such-review'], /there is no review no-such-review/);
    await refused(['review', 'reject', 'no-such-review'], /there is no review no-such-review/);
    await refused(['review', 'list', '--user', 'nobody'], /unknown user: nobody/);
    await refused(['journal', 'undo', 'no-such-entry'], /there is no journal entry no-such-entry/);
    await refused(['journal', '--user', 'nobody'], /unknown user: nobody/);
    await refused(['journal', '--firm-contact', 'nope'], /unknown firm contact nope/);
    await refused(['journal', '--run', 'nope'], /unknown run nope/);
    await refused(['journal', '--limit', '0'], /at least 1/);
    await refused(['firm', 'show', 'no-such-contact'], /there is no firm contact no-such-contact/);
    await refused(['firm', 'delete', 'no-such-contact'], /there is no firm contact no-such-contact/);
    const tom = (await cli.firmOne('tom')).id;
    await refused(['firm', 'merge', tom, tom], /cannot merge firm contact .* into itself/);
    await refused(['firm', 'merge', tom, 'no-such-contact'], /there is no firm contact no-such-contact/);
    // Nothing was changed by any of them.
    const users = await cli.json<{ login: string; firmSync: unknown }[]>(['user', 'list']);
    expect(users.find((u) => u.login === 'bob')?.firmSync).toEqual({ updates: 'auto', newContacts: 'firm' });
    expect((await cli.firmShow(tom)).connected).toHaveLength(2);
  });
});
