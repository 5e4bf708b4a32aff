import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addLine, FirmCli, phonesOf, stepOf, vcard } from '../support/firm-cli.js';

/*
 * Administration of firm sync through the real CLI on vdir mailboxes: possible duplicates,
 * merging and deleting firm contacts, the journal and its undo, and a user busy with another
 * sync. The steps build on each other and run in order.
 */

let dir: string;
let dbFile: string;
let cli: FirmCli;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-firm-admin-'));
  dbFile = join(dir, 'firm.db');
  cli = new FirmCli({ LIAISON_DB: dbFile }, join(dir, 'mailboxes'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('liaison firm administration on vdir mailboxes', () => {
  it('flags a contact matching two firm contacts as a possible duplicate and names both', async () => {
    await cli.ok(['init']);
    await cli.ok(['server', 'add', 'files', '--kind', 'vdir', '--url', cli.mailboxes]);
    for (const login of ['alice', 'bob', 'carol']) {
      await cli.ok(['user', 'add', login, '--name', login, '--server', 'files', '--mailbox', login]);
      await cli.ok(['user', 'set', login, '--contacts', 'on', '--calendar', 'on']);
    }
    cli.write('alice', 'tom.vcf', vcard('a-tom', 'Tom', 'Smith', 'EMAIL:tom@acme.example\r\nTEL:+44 1\r\n'));
    cli.write('bob', 'tom.vcf', vcard('b-tom', 'Tom', 'Smith', 'EMAIL:TOM@acme.example\r\n'));
    // Two people of one name at two firms, and Carol's contact holding both addresses.
    cli.write('alice', 'eve.vcf', vcard('a-eve', 'Eve', 'Ellis', 'ORG:Alpha\r\nEMAIL:eve@alpha.example\r\n'));
    cli.write('bob', 'eve.vcf', vcard('b-eve', 'Eve', 'Ellis', 'ORG:Beta\r\nEMAIL:eve@beta.example\r\n'));
    cli.write(
      'carol',
      'eve.vcf',
      vcard('c-eve', 'Eve', 'Ellis', 'EMAIL:eve@alpha.example\r\nEMAIL:eve@beta.example\r\n'),
    );
    const cycle = await cli.cleanCycle();
    expect(stepOf(cycle.up.json, 'carol', 'up').counts).toMatchObject({
      firmCreated: 1,
      flaggedDuplicates: 1,
    });

    const eves = await cli.firmList('ellis');
    expect(eves).toHaveLength(3);
    const flagged = eves.filter((e) => e.possibleDuplicate);
    expect(flagged).toHaveLength(1);
    const others = eves.filter((e) => !e.possibleDuplicate).map((e) => e.id);
    expect([...flagged[0]!.candidates].sort()).toEqual([...others].sort());
    const shown = await cli.ok(['firm', 'show', flagged[0]!.id]);
    expect(shown).toMatch(/POSSIBLE DUPLICATE of: .*\(Eve Ellis\).*\(Eve Ellis\)/);
    expect(shown).toMatch(/^carol\s+\S+\s+c-eve\s+Eve Ellis$/m);
    const table = await cli.ok(['firm', 'list', '--search', 'ellis']);
    expect(table).toContain(others[0]!);
  });

  it('merges two firm contacts: fields united, the other’s user contacts reconnected and updated', async () => {
    const [keep, other] = (await cli.firmList('ellis')).filter((e) => !e.possibleDuplicate);
    const merged = await cli.json<{
      kept: string;
      removed: string;
      reconnected: number;
      fieldsChanged: string[];
    }>(['firm', 'merge', keep!.id, other!.id]);
    expect(merged).toMatchObject({ kept: keep!.id, removed: other!.id, reconnected: 1 });
    expect(merged.fieldsChanged).toContain('emails');
    expect((await cli.run(['firm', 'show', other!.id])).code).toBe(2);
    const shown = await cli.firmShow(keep!.id);
    expect(shown.connected).toHaveLength(2);
    expect(shown.fields.emails.map((e) => e.value).sort()).toEqual(['eve@alpha.example', 'eve@beta.example']);
    // The flagged contact no longer names the merged-away candidate.
    const flagged = (await cli.firmList('ellis')).find((e) => e.possibleDuplicate);
    expect(flagged?.candidates).toEqual([keep!.id]);

    await cli.cleanCycle();
    const users = shown.connected.map((c) => c.login);
    for (const login of users) {
      const text = cli.file(login, 'Ellis');
      expect(text, login).toContain('eve@alpha.example');
      expect(text, login).toContain('eve@beta.example');
    }
  });

  it('deletes a firm contact: users keep their copies, and it does not come back', async () => {
    const eve = (await cli.firmList('ellis')).find((e) => e.possibleDuplicate)!;
    const deleted = await cli.json<{ deleted: string; disconnected: number }>(['firm', 'delete', eve.id]);
    expect(deleted).toEqual({ deleted: eve.id, disconnected: 1 });
    expect((await cli.firmList('ellis')).map((e) => e.id)).not.toContain(eve.id);
    expect((await cli.contacts('carol')).map((c) => c.uid)).toEqual(['c-eve']);
    // Carol edits her copy: it stays hers and is not taken up again.
    cli.edit('carol', 'UID:c-eve', addLine('TITLE:Engineer'));
    await cli.cleanCycle();
    expect(cli.file('carol', 'UID:c-eve')).toContain('TITLE:Engineer');
    const left = await cli.firmList('ellis');
    expect(left.map((e) => [e.connected, e.possibleDuplicate])).toEqual([[2, false]]);
  });

  it('undoes the deletion: Carol’s copy is connected again and her edit goes up', async () => {
    const [deletion] = (await cli.journal(['--user', 'carol'])).filter((l) => l.action === 'disconnect');
    expect(deletion).toMatchObject({ reason: 'firm-delete', note: 'firm contact deleted' });
    const eve = deletion!.firmContactId!;
    const entry = (await cli.journal(['--firm-contact', eve])).find((l) => l.action === 'firm-delete')!;
    const text = await cli.ok(['journal', 'undo', entry.id]);
    expect(text).toContain(`1 user contact(s) connected to firm contact ${eve} again`);
    expect(text).toMatch(/1 of them edited while disconnected: the next firm-sync up step takes those edits/);
    const cycle = await cli.cleanCycle();
    expect(stepOf(cycle.up.json, 'carol', 'up').counts).toMatchObject({ firmUpdated: 1, firmCreated: 0 });
    const back = await cli.firmShow(eve);
    expect(back.fields.title).toBe('Engineer');
    expect(back.connected.map((c) => c.login)).toEqual(['carol']);
    const relink = (await cli.journal(['--user', 'carol'])).find((l) => l.action === 'connect');
    expect(relink).toMatchObject({ reason: 'undo', note: `undo of ${entry.id}`, firmContactId: eve });
  });

  it('says in the journal why each contact was connected', async () => {
    const tom = await cli.firmOne('tom@acme');
    const connects = (await cli.journal(['--firm-contact', tom.id])).filter((l) => l.action === 'connect');
    expect(connects.map((l) => [l.login, l.reason, l.note]).sort()).toEqual([
      ['alice', 'created', 'no match: new firm contact'],
      ['bob', 'email', 'matched by e-mail address tom@acme.example'],
    ]);
    const text = await cli.ok(['journal', '--firm-contact', tom.id]);
    expect(text).toMatch(/connect \(up\)\s+bob\s.*matched by e-mail address tom@acme\.example/);
  });

  it('journals what firm sync changed, and an undo restores the value everywhere', async () => {
    const tom = await cli.firmOne('tom@acme');
    cli.edit('alice', 'UID:a-tom', (t) => t.replace('TEL:+44 1', 'TEL:+44 2'));
    const cycle = await cli.cleanCycle();
    expect(cli.file('bob', 'UID:b-tom')).toContain('TEL:+44 2');

    const upLines = await cli.journal(['--run', cycle.up.json.runId]);
    const update = upLines.find((l) => l.action === 'firm-update' && l.firmContactId === tom.id);
    expect(update).toMatchObject({ actor: 'firm-sync', direction: 'up', login: 'alice' });
    expect(update?.after).toMatchObject({ phones: [{ value: '+44 2' }] });
    const bobLines = await cli.journal(['--user', 'bob', '--run', cycle.down.json.runId]);
    expect(bobLines.map((l) => [l.action, l.direction, l.firmContactId])).toEqual([
      ['contact-update', 'down', tom.id],
    ]);
    const aboutTom = await cli.journal(['--firm-contact', tom.id, '--limit', '2']);
    expect(aboutTom).toHaveLength(2);
    expect(aboutTom.every((l) => l.firmContactId === tom.id)).toBe(true);
    const text = await cli.ok(['journal', '--firm-contact', tom.id]);
    expect(text).toMatch(/firm-update \(up\)\s+alice\s+\S+\s+phones: \+44 1 → \+44 2/);

    const undone = await cli.ok(['journal', 'undo', update!.id]);
    expect(undone).toMatch(/restored phones: \+44 2 → \+44 1/);
    const after = await cli.firmShow(tom.id);
    expect(phonesOf(after)).toEqual(['+44 1']);
    expect(after.provenance.phones?.user).toBeNull();
    const undoLine = (await cli.journal(['--firm-contact', tom.id, '--limit', '1']))[0];
    expect(undoLine).toMatchObject({ action: 'firm-update', actor: 'cli', note: `undo of ${update!.id}` });
    // A newer change of the same firm contact (the undo itself) must be undone first.
    const twice = await cli.run(['journal', 'undo', update!.id]);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain(undoLine!.id);
    // Only firm sync's own changes can be undone.
    const mailboxLine = (await cli.journal(['--user', 'alice'])).find((l) => l.actor === 'mailbox-sync');
    expect((await cli.run(['journal', 'undo', mailboxLine!.id])).code).toBe(2);

    // The restored value reaches both mailboxes on the next cycle.
    await cli.cleanCycle();
    expect(cli.file('bob', 'UID:b-tom')).toContain('TEL:+44 1');
    expect(cli.file('alice', 'UID:a-tom')).toContain('TEL:+44 1');
  });

  it('skips a user another sync holds (exit 3, "busy"), and takes the change next run', async () => {
    const bob = (await cli.json<{ login: string; id: string }[]>(['user', 'list'])).find(
      (u) => u.login === 'bob',
    )!;
    cli.edit('bob', 'UID:b-tom', addLine('TITLE:Counsel'));
    expect((await cli.mailboxSync('contacts')).code).toBe(0);
    // Another process's lease on Bob, as a mailbox sync running elsewhere holds it.
    const db = new Database(dbFile);
    try {
      db.prepare('INSERT INTO user_locks (user_id, holder, expires_at) VALUES (?, ?, ?)').run(
        bob.id,
        'elsewhere:4242',
        Date.now() + 10 * 60_000,
      );
      const human = await cli.run(['firm-sync', '--step', 'up']);
      expect(human.code).toBe(3);
      expect(human.stdout).toMatch(/^ {2}bob up: skipped\n {4}why: busy — .*taken next run$/m);
      const json = await cli.firmSync('up');
      expect(json.code).toBe(3);
      expect(stepOf(json.json, 'bob', 'up')).toMatchObject({ outcome: 'skipped' });
      expect(stepOf(json.json, 'alice', 'up').outcome).not.toBe('skipped');
      expect((await cli.firmShow((await cli.firmOne('tom@acme')).id)).fields.title).toBe('');
    } finally {
      db.prepare('DELETE FROM user_locks WHERE holder = ?').run('elsewhere:4242');
      db.close();
    }
    const next = await cli.firmSync('both');
    expect(next.code).toBe(0);
    expect((await cli.firmShow((await cli.firmOne('tom@acme')).id)).fields.title).toBe('Counsel');
    // A group that matches nobody: no users in scope, nothing to do.
    const none = await cli.run(['firm-sync', '--group', 'paris']);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('no users in scope');
  });
});
