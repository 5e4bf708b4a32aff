import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/sync/report.js';
import { liaison, liaisonJson } from '../support/cli.js';

/*
 * The CLI end to end on vdir mailboxes, the way an administrator uses it: one firm
 * database, one mailbox folder, and a sequence of edits on both sides. The steps build
 * on each other, so they run in order within one describe.
 */

let dir: string;
let env: Record<string, string>;
let contactsDir: string;
let calendarDir: string;

const vcard = (uid: string, given: string, family: string, extra = '') =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${given} ${family}\r\nN:${family};${given};;;\r\n${extra}END:VCARD\r\n`;
const vevent = (uid: string, summary: string, start: string) =>
  `BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:${start}\r\nDURATION:PT1H\r\nSUMMARY:${summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n`;

interface ContactRow {
  id: string;
  uid: string;
  formattedName: string;
  title: string;
  note: string;
  phones: { value: string }[];
  emails: { value: string }[];
}

const sync = (mode: 'express' | 'complete', scope = 'both', extra: string[] = []) =>
  liaisonJson<RunReport>(['sync', '--all', '--mode', mode, '--scope', scope, ...extra], env);
const contacts = async () =>
  (await liaisonJson<ContactRow[]>(['contacts', 'list', '--user', 'alice'], env)).json;
const byName = async (name: string) => (await contacts()).find((c) => c.formattedName === name);
const mailboxFiles = () => readdirSync(contactsDir).filter((f) => f.endsWith('.vcf'));
const mailboxText = () => mailboxFiles().map((f) => readFileSync(join(contactsDir, f), 'utf8'));
const fileOf = (needle: string) =>
  mailboxFiles().find((f) => readFileSync(join(contactsDir, f), 'utf8').includes(needle));
const report = (r: RunReport, collection: 'contacts' | 'calendar') => {
  const c = r.collections.find((x) => x.user === 'alice' && x.collection === collection);
  if (!c) throw new Error(`no ${collection} report in ${JSON.stringify(r)}`);
  return c;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-'));
  env = { LIAISON_DB: join(dir, 'firm.db') };
  contactsDir = join(dir, 'mailboxes', 'alice', 'contacts');
  calendarDir = join(dir, 'mailboxes', 'alice', 'calendar');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('liaison CLI on vdir mailboxes', () => {
  it('sets up a firm database, a server and a user whose mailbox folders it creates', async () => {
    expect((await liaison(['init'], env)).code).toBe(0);
    expect(
      (await liaison(['server', 'add', 'files', '--kind', 'vdir', '--url', join(dir, 'mailboxes')], env))
        .code,
    ).toBe(0);
    const add = await liaison(
      [
        'user',
        'add',
        'alice',
        '--name',
        'Alice Adams',
        '--server',
        'files',
        '--mailbox',
        'alice',
        '--contacts',
        'on',
        '--calendar',
        'on',
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    expect(readdirSync(join(dir, 'mailboxes', 'alice')).sort()).toEqual(
      expect.arrayContaining(['calendar', 'contacts']),
    );
    const users = await liaisonJson<{ login: string; contactsEnabled: boolean }[]>(['user', 'list'], env);
    expect(users.json.map((u) => [u.login, u.contactsEnabled])).toEqual([['alice', true]]);
  });

  it('first sync carries items both ways and matches the same person instead of duplicating', async () => {
    await liaison(
      [
        'contacts',
        'add',
        '--user',
        'alice',
        '--given',
        'Bob',
        '--family',
        'Baker',
        '--email',
        'bob@baker.example',
        '--phone',
        '+44 1',
      ],
      env,
    );
    await liaison(
      [
        'contacts',
        'add',
        '--user',
        'alice',
        '--given',
        'Dora',
        '--family',
        'Diaz',
        '--email',
        'Dora@Diaz.example',
      ],
      env,
    );
    writeFileSync(
      join(contactsDir, 'carol.vcf'),
      vcard('carol-1', 'Carol', 'Chen', 'EMAIL:carol@chen.example\r\n'),
    );
    // The same person as the firm's Dora, written by a phone with another UID and case.
    writeFileSync(
      join(contactsDir, 'dora.vcf'),
      vcard('phone-dora', 'Dora', 'Diaz', 'EMAIL:dora@diaz.example\r\nTITLE:Judge\r\n'),
    );
    writeFileSync(join(calendarDir, 'kickoff.ics'), vevent('kick-1', 'Kick-off', '20261201T090000Z'));
    await liaison(
      [
        'appointments',
        'add',
        '--user',
        'alice',
        '--summary',
        'Board meeting',
        '--start',
        '2026-12-02T10:00',
        '--end',
        '2026-12-02T11:00',
        '--tz',
        'Europe/London',
      ],
      env,
    );

    // A dry run plans and reports, and writes nothing anywhere.
    const dry = await sync('complete', 'both', ['--dry-run']);
    expect(dry.code).toBe(0);
    expect(report(dry.json, 'contacts')).toMatchObject({
      dryRun: true,
      toMailbox: { created: 1 },
      toFirm: { created: 1 },
    });
    expect(mailboxFiles()).toHaveLength(2);
    expect((await contacts()).length).toBe(2);
    // A group filter that matches nobody syncs nobody.
    const none = await sync('complete', 'both', ['--group', 'paris']);
    expect(none.json.collections).toEqual([]);

    const { code, json } = await sync('complete');
    expect(code).toBe(0);
    expect(report(json, 'contacts')).toMatchObject({
      outcome: 'synced',
      toMailbox: { created: 1 },
      toFirm: { created: 1 },
    });
    expect(report(json, 'calendar')).toMatchObject({
      outcome: 'synced',
      toMailbox: { created: 1 },
      toFirm: { created: 1 },
    });
    const names = (await contacts()).map((c) => c.formattedName).sort();
    expect(names).toEqual(['Bob Baker', 'Carol Chen', 'Dora Diaz']);
    expect(mailboxFiles()).toHaveLength(3);
    expect((await byName('Dora Diaz'))?.title).toBe('Judge');
    expect(readdirSync(calendarDir).filter((f) => f.endsWith('.ics'))).toHaveLength(2);
    const appts = await liaisonJson<{ summary: string }[]>(['appointments', 'list', '--user', 'alice'], env);
    expect(appts.json.map((a) => a.summary).sort()).toEqual(['Board meeting', 'Kick-off']);
  });

  it('express carries edits both ways', async () => {
    const bob = await byName('Bob Baker');
    await liaison(['contacts', 'edit', bob!.id, '--phone', '+44 20 7946 0001'], env);
    const carolFile = fileOf('UID:carol-1')!;
    writeFileSync(
      join(contactsDir, carolFile),
      vcard('carol-1', 'Carol', 'Chen', 'EMAIL:carol@chen.example\r\nTITLE:CFO\r\n'),
    );

    const { code, json } = await sync('express', 'contacts');
    expect(code).toBe(0);
    expect(report(json, 'contacts')).toMatchObject({ toMailbox: { updated: 1 }, toFirm: { updated: 1 } });
    expect((await byName('Carol Chen'))?.title).toBe('CFO');
    expect(readFileSync(join(contactsDir, fileOf('bob@baker.example')!), 'utf8')).toContain(
      '+44 20 7946 0001',
    );

    const again = await sync('express', 'contacts');
    expect(report(again.json, 'contacts').outcome).toBe('unchanged');
  });

  it('merges a conflict field by field; on the same field the firm wins and the loser is journaled', async () => {
    const bob = await byName('Bob Baker');
    await liaison(['contacts', 'edit', bob!.id, '--title', 'Partner', '--note', 'firm note'], env);
    const file = join(contactsDir, fileOf('bob@baker.example')!);
    const text = readFileSync(file, 'utf8')
      .replace(/NOTE:[^\r\n]*\r?\n/, '')
      .replace('END:VCARD', 'NOTE:mailbox note\r\nCATEGORIES:Golf\r\nEND:VCARD');
    writeFileSync(file, text);

    const { json } = await sync('express', 'contacts');
    expect(report(json, 'contacts').conflicts).toBe(1);
    const merged = await byName('Bob Baker');
    expect(merged).toMatchObject({ title: 'Partner', note: 'firm note' });
    expect((merged as unknown as { categories: string[] }).categories).toEqual(['Golf']);
    const onDisk = readFileSync(file, 'utf8');
    expect(onDisk).toContain('TITLE:Partner');
    expect(onDisk).toContain('NOTE:firm note');
    expect(onDisk).toContain('CATEGORIES:Golf');
  });

  it('shows every field of a contact', async () => {
    const bob = await byName('Bob Baker');
    const shown = await liaison(['contacts', 'show', bob!.id], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^Name: +Bob Baker$/m);
    expect(shown.stdout).toMatch(/^Title: +Partner$/m);
    expect(shown.stdout).toMatch(/^E-mail: +bob@baker\.example/m);
    expect(shown.stdout).toMatch(/^Note: +firm note$/m);
    expect(shown.stdout).toMatch(/^Categories: +Golf$/m);
    const json = await liaisonJson<{ id: string; title: string }>(
      ['contacts', 'show', bob!.id, '--json'],
      env,
    );
    expect(json.json).toMatchObject({ id: bob!.id, title: 'Partner' });
    expect((await liaison(['contacts', 'show', 'nosuch'], env)).code).toBe(2);
  });

  it('express catches deletions both ways', async () => {
    unlinkSync(join(contactsDir, fileOf('UID:carol-1')!));
    let r = await sync('express', 'contacts');
    expect(report(r.json, 'contacts').toFirm.deleted).toBe(1);
    expect(await byName('Carol Chen')).toBeUndefined();

    const dora = await byName('Dora Diaz');
    await liaison(['contacts', 'delete', dora!.id], env);
    r = await sync('express', 'contacts');
    expect(report(r.json, 'contacts').toMailbox.deleted).toBe(1);
    expect(mailboxText().some((t) => t.includes('Diaz'))).toBe(false);
    expect(mailboxFiles()).toHaveLength(1);

    // An item this sync just created in the mailbox, deleted there right after: the folder
    // is back to how it looked before the sync, and express mode must still see it.
    await liaison(['contacts', 'add', '--user', 'alice', '--given', 'Gus', '--family', 'Gray'], env);
    r = await sync('express', 'contacts');
    expect(report(r.json, 'contacts').toMailbox.created).toBe(1);
    unlinkSync(join(contactsDir, fileOf('N:Gray;Gus;')!));
    r = await sync('express', 'contacts');
    expect(report(r.json, 'contacts').toFirm.deleted).toBe(1);
    expect(await byName('Gus Gray')).toBeUndefined();
  });

  it('quarantines a malformed file, names it, and syncs the rest', async () => {
    writeFileSync(join(contactsDir, 'broken.vcf'), 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Half a card\r\n');
    writeFileSync(join(contactsDir, 'erin.vcf'), vcard('erin-1', 'Erin', 'Evans'));
    const { code, json } = await sync('express', 'contacts');
    expect(code).toBe(0);
    const c = report(json, 'contacts');
    expect(c.quarantined).toHaveLength(1);
    expect(c.quarantined[0]?.href).toBe('broken.vcf');
    expect(c.quarantined[0]?.reason).toContain('alice');
    expect(c.toFirm.created).toBe(1);
    expect(readFileSync(join(contactsDir, 'broken.vcf'), 'utf8')).toContain('Half a card');

    // Still listed after a run with nothing to do, until the file is fixed or gone.
    expect(report((await sync('express', 'contacts')).json, 'contacts').outcome).toBe('unchanged');
    const listed = async () => {
      const rows = await liaisonJson<
        { collection: string; quarantined: { href: string; reason: string }[] }[]
      >(['status'], env);
      return rows.json.find((r) => r.collection === 'contacts')!.quarantined;
    };
    expect(await listed()).toEqual([
      { href: 'broken.vcf', reason: c.quarantined[0]!.reason, since: expect.any(String) },
    ]);
    const text = await liaison(['status'], env);
    expect(text.stdout).toMatch(/quarantined since \S+: user alice, contacts, .*broken\.vcf/);
    unlinkSync(join(contactsDir, 'broken.vcf'));
    await sync('express', 'contacts');
    expect(await listed()).toEqual([]);
  });

  it('holds a mass deletion; reject puts the items back in the mailbox, approve applies it', async () => {
    for (let i = 0; i < 14; i++)
      writeFileSync(join(contactsDir, `p${i}.vcf`), vcard(`p-${i}`, `Person${i}`, 'Mass'));
    await sync('express', 'contacts');
    const before = (await contacts()).length;
    // Restored items get names derived from their UIDs, so they are found by content.
    const massFiles = () =>
      mailboxFiles().filter((f) => readFileSync(join(contactsDir, f), 'utf8').includes('N:Mass;'));
    for (const f of massFiles().slice(0, 12)) unlinkSync(join(contactsDir, f));

    const held = await sync('express', 'contacts');
    expect(held.code).toBe(3);
    const c = report(held.json, 'contacts');
    expect(c.outcome).toBe('held');
    expect(c.reason).toMatch(/12 deletions/);
    expect((await contacts()).length).toBe(before);
    const list = await liaisonJson<{ id: string }[]>(['held', 'list'], env);
    expect(list.json.map((h) => h.id)).toEqual([c.heldPlanId]);
    // Until it is resolved, the collection is skipped, naming the plan.
    const whileHeld = report((await sync('complete', 'contacts')).json, 'contacts');
    expect(whileHeld).toMatchObject({ outcome: 'skipped', heldPlanId: c.heldPlanId });
    expect(whileHeld.reason).toContain(`liaison held show ${c.heldPlanId}`);
    const show = await liaison(['held', 'show', c.heldPlanId!], env);
    expect(show.stdout).toMatch(/DELETE in firm database: Person\d+ Mass/);
    // In a stable order, whatever the database: Person2 before Person10.
    const people = [...show.stdout.matchAll(/Person(\d+) Mass/g)].map((m) => Number(m[1]));
    expect(people.length).toBeGreaterThan(10);
    expect(people).toEqual([...people].sort((a, b) => a - b));

    // While held, the collection is skipped with the reason.
    const skipped = await sync('express', 'contacts');
    expect(report(skipped.json, 'contacts')).toMatchObject({ outcome: 'skipped' });

    expect((await liaison(['held', 'reject', c.heldPlanId!], env)).code).toBe(0);
    expect(massFiles()).toHaveLength(14);
    expect((await contacts()).length).toBe(before);
    expect(report((await sync('express', 'contacts')).json, 'contacts').toFirm.deleted).toBe(0);

    for (const f of massFiles().slice(0, 12)) unlinkSync(join(contactsDir, f));
    const again = await sync('express', 'contacts');
    const id = report(again.json, 'contacts').heldPlanId!;
    // Edited in the firm database after the plan was held: approving must not delete it.
    const kept = (await contacts()).find(
      (c) => c.formattedName.endsWith('Mass') && !mailboxText().some((t) => t.includes(`UID:${c.uid}`)),
    );
    await liaison(['contacts', 'edit', kept!.id, '--title', 'Edited after the hold'], env);
    const approved = await liaisonJson<RunReport>(['held', 'approve', id], env);
    expect(approved.json.collections[0]?.toFirm.deleted).toBe(11);
    expect(approved.json.collections[0]?.deferred).toBe(1);
    expect((await contacts()).length).toBe(before - 11);
    // Modify beats delete: the next sync puts the edited contact back in the mailbox.
    const back = await sync('express', 'contacts');
    expect(report(back.json, 'contacts').toMailbox.created).toBe(1);
    expect(mailboxText().some((t) => t.includes('TITLE:Edited after the hold'))).toBe(true);
    expect((await liaison(['held', 'approve', id], env)).code).toBe(2);
  });

  it('detects a mailbox restored from an older copy, deletes nothing, and recovers', async () => {
    const backup = join(dir, 'backup-alice');
    cpSync(join(dir, 'mailboxes', 'alice'), backup, { recursive: true });
    // After the backup: a new firm contact reaches the mailbox, and the marker moves on.
    await liaison(
      [
        'contacts',
        'add',
        '--user',
        'alice',
        '--given',
        'Fay',
        '--family',
        'Fox',
        '--email',
        'fay@fox.example',
      ],
      env,
    );
    await sync('express', 'both');
    const firmBefore = (await contacts()).map((c) => c.formattedName).sort();
    expect(firmBefore).toContain('Fay Fox');

    rmSync(join(dir, 'mailboxes', 'alice'), { recursive: true });
    cpSync(backup, join(dir, 'mailboxes', 'alice'), { recursive: true });
    const r = await sync('complete', 'both');
    expect(r.code).toBe(3);
    expect(report(r.json, 'contacts')).toMatchObject({ outcome: 'skipped' });
    expect(report(r.json, 'contacts').reason).toMatch(/out of sync/);
    expect((await contacts()).map((c) => c.formattedName).sort()).toEqual(firmBefore);
    const status = await liaisonJson<{ user: string; collection: string; outOfSync: boolean }[]>(
      ['status'],
      env,
    );
    expect(status.json.find((s) => s.collection === 'contacts')?.outOfSync).toBe(true);

    const rec = await liaisonJson<RunReport>(['recover', '--user', 'alice'], env);
    expect(rec.code, JSON.stringify(rec.json)).toBe(0);
    expect(report(rec.json, 'contacts').toMailbox.deleted + report(rec.json, 'contacts').toFirm.deleted).toBe(
      0,
    );
    expect(mailboxText().some((t) => t.includes('Fay Fox'))).toBe(true);
    expect((await contacts()).map((c) => c.formattedName).sort()).toEqual(firmBefore);
    const after = await sync('express', 'both');
    expect(after.code).toBe(0);
    expect(report(after.json, 'contacts').toFirm).toEqual({ created: 0, updated: 0, deleted: 0 });
  });

  it('answers bad arguments with a one-line error, the usage hint, and exit 2', async () => {
    const bad = await liaison(['sync', '--all', '--mode', 'fast', '--scope', 'both'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/fast/);
    const groups = ['a', 'b', 'c', 'd', 'e', 'f'].flatMap((g) => ['--group', g]);
    const six = await liaison(['sync', '--all', '--mode', 'express', '--scope', 'both', ...groups], env);
    expect(six.code).toBe(2);
    expect(six.stderr).toMatch(/at most 5/);
    expect((await liaison(['sync', '--mode', 'express', '--scope', 'both'], env)).code).toBe(2);
    expect((await liaison(['user', 'set', 'nobody', '--contacts', 'on'], env)).code).toBe(2);
    expect((await liaison(['frobnicate'], env)).code).toBe(2);
    const share = await liaison(
      ['sync', '--all', '--mode', 'express', '--scope', 'both', '--max-change-percent', '150'],
      env,
    );
    expect(share.code).toBe(2);
    expect(share.stderr).toMatch(/from 0 to 100/);
    // Asked for JSON, a script gets the error as JSON only: nothing else on either stream.
    const asJson = await liaison(['sync', '--all', '--mode', 'fast', '--scope', 'both', '--json'], env);
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stdout)).toEqual({
      error: { kind: 'Usage', message: expect.stringContaining('fast') },
    });
    expect(asJson.stderr).toBe('');
    const unknown = await liaison(['user', 'set', 'nobody', '--contacts', 'on', '--json'], env);
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toEqual({ error: { kind: 'Usage', message: 'unknown user: nobody' } });
    expect(unknown.stderr).toBe('');
    const failed = await liaison(['journal', '--limit', 'x', '--json'], env);
    expect(failed.code).toBe(2);
    expect(JSON.parse(failed.stdout)).toMatchObject({ error: { kind: 'Usage' } });
    expect(failed.stderr).toBe('');
    const noDb = await liaison(['status', '--json', '--db', join(dir, 'nowhere.db')], env);
    expect(noDb.code).toBe(1);
    expect(JSON.parse(noDb.stdout)).toMatchObject({ error: { kind: 'Config' } });
    expect(noDb.stderr).toBe('');
  });

  it('names a database it cannot open without showing its password', async () => {
    const r = await liaison(['user', 'list', '--db', 'postgres://admin:s3cret@127.0.0.1:1/firm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('127.0.0.1:1');
    expect(r.stderr).not.toContain('s3cret');
    const missing = await liaison(['user', 'list', '--db', join(dir, 'nope.db')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/liaison init/);
  });
});
