import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyContact } from '../../src/domain/contact.js';
import { asUid } from '../../src/domain/ids.js';
import { openApp } from '../../src/main.js';
import type { RunReport } from '../../src/sync/report.js';
import { liaison, liaisonJson } from '../support/cli.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { createDatabase } from '../support/postgres.js';
import { radicaleCliEnv } from '../support/radicale-cli.js';
import { DIALECTS, postgresAdminUrl } from '../support/test-database.js';

/*
 * The CLI end to end against a real Radicale, the way an administrator uses it: one firm
 * database, one DAV server reached with a service account, one user whose address book and
 * calendar live on it, and a sequence of edits on both sides — plus what only a real server
 * does: it crashes in the middle of a sync, forgets its sync tokens, is restored from a
 * backup. The steps build on each other, so they run in order within one describe.
 *
 * What is on the server is read from Radicale's storage folder (one file per item, as
 * Radicale stored it); what is changed on the server goes through HTTP as the service
 * account, as another client's edit would, so Radicale's own change tracking sees it.
 */

const WRONG_PASSWORD = 'Wr0ng-Passw0rd-For-Radicale';

let dir: string;
/** The firm database's URL: a SQLite file, or a PostgreSQL database. */
let dbFile: string;
let env: Record<string, string>;
let radicale: RadicaleServer;

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
  categories: string[];
  phones: { value: string }[];
  emails: { value: string }[];
}

type Kind = 'contacts' | 'calendar';

const sync = (mode: 'express' | 'complete', scope = 'both', extra: string[] = []) =>
  liaisonJson<RunReport>(['sync', '--all', '--mode', mode, '--scope', scope, ...extra], env);
const contacts = async () =>
  (await liaisonJson<ContactRow[]>(['contacts', 'list', '--user', 'alice'], env)).json;
const byName = async (name: string) => (await contacts()).find((c) => c.formattedName === name);
const report = (r: RunReport, collection: Kind, user = 'alice') => {
  const c = r.collections.find((x) => x.user === user && x.collection === collection);
  if (!c) throw new Error(`no ${collection} report for ${user} in ${JSON.stringify(r)}`);
  return c;
};

/** Alice's collection in Radicale's storage folder. */
const folder = (kind: Kind) => join(radicale.storage, 'collection-root', 'alice', kind);
/** The items Radicale stores in alice's collection: file name → text. */
function serverItems(kind: Kind = 'contacts'): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(folder(kind))) {
    if (name.startsWith('.')) continue;
    out.set(name, readFileSync(join(folder(kind), name), 'utf8'));
  }
  return out;
}
/** How many items the server holds: cheap enough to poll while a sync runs. */
const itemCount = (kind: Kind = 'contacts') =>
  readdirSync(folder(kind)).filter((n) => !n.startsWith('.')).length;
const serverTexts = (kind: Kind = 'contacts') => [...serverItems(kind).values()];
const serverFileOf = (needle: string, kind: Kind = 'contacts') =>
  [...serverItems(kind)].find(([, text]) => text.includes(needle))?.[0];
const uidOf = (text: string) => /^UID:(.*?)\r?$/m.exec(text)?.[1];

/** A request to Radicale as the service account, as another client would send it. */
async function dav(method: string, path: string, body?: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(path, radicale.url), {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      ...headers,
    },
    ...(body === undefined ? {} : { body }),
  });
  return { status: response.status, text: await response.text() };
}
async function put(kind: Kind, name: string, text: string): Promise<void> {
  const type = kind === 'contacts' ? 'text/vcard; charset=utf-8' : 'text/calendar; charset=utf-8';
  const r = await dav('PUT', `/alice/${kind}/${name}`, text, { 'content-type': type });
  if (r.status !== 201 && r.status !== 204) throw new Error(`PUT ${name}: ${r.status} ${r.text}`);
}
async function remove(kind: Kind, name: string): Promise<void> {
  const r = await dav('DELETE', `/alice/${kind}/${name}`);
  if (r.status !== 200 && r.status !== 204) throw new Error(`DELETE ${name}: ${r.status} ${r.text}`);
}

// The whole sequence runs twice: with the firm database in SQLite and in PostgreSQL.
describe.each(DIALECTS)('liaison CLI on a Radicale server, firm database on %s', (dialect) => {
  let dropDatabase: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    radicale = await startRadicale();
    await radicale.addUser('alice');
    dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-radicale-'));
    env = { ...radicaleCliEnv(radicale, dir), WRONG_PW: WRONG_PASSWORD };
    if (dialect === 'postgres') {
      const created = await createDatabase(postgresAdminUrl());
      env.LIAISON_DB = created.url;
      dropDatabase = created.drop;
    }
    dbFile = env.LIAISON_DB!;
  });
  afterAll(async () => {
    await radicale?.stop();
    await dropDatabase?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('adds the server with its service account, a user whose collections it creates, and tests both', async () => {
    expect((await liaison(['init'], env)).code).toBe(0);
    const add = await liaison(
      [
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
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    const user = await liaison(
      [
        'user',
        'add',
        'alice',
        '--name',
        'Alice Adams',
        '--server',
        'radicale',
        '--mailbox',
        'alice',
        '--contacts',
        'on',
        '--calendar',
        'on',
        '--create-collections',
      ],
      env,
    );
    expect(user.code, user.stderr).toBe(0);
    expect(existsSync(folder('contacts')) && existsSync(folder('calendar'))).toBe(true);

    // Without --user, the service account's own mailbox is examined: it has no collections.
    const server = await liaison(['server', 'test', 'radicale'], env);
    expect(server.code, server.stderr).toBe(0);
    expect(server.stdout).toMatch(/principal\s+\/liaison-service\//);
    expect(server.stdout).toMatch(/VJOURNAL\s+yes/);
    expect(server.stdout).toMatch(/marker placement\s+collection/);
    // Which it cannot tell without a collection to ask, it says, rather than "no".
    expect(server.stdout).toMatch(
      /sync-collection\s+unknown: no such collection to ask \(name a user with --user\)/,
    );
    expect(server.stdout).toMatch(/multiget\s+unknown/);
    const forUser = await liaison(['server', 'test', 'radicale', '--user', 'alice'], env);
    expect(forUser.code, forUser.stderr).toBe(0);
    expect(forUser.stdout).toMatch(/sync-collection\s+yes/);
    expect(forUser.stdout).toMatch(/multiget\s+yes/);
    expect(forUser.stdout).toMatch(/marker placement\s+collection/);
    expect(forUser.stdout).toMatch(/address book\s+\/alice\/contacts\//);
    expect(forUser.stdout).toMatch(/calendar\s+\/alice\/calendar\//);
    const json = await liaisonJson<{ ok: boolean; capabilities: Record<string, unknown> }>(
      ['server', 'test', 'radicale', '--user', 'alice'],
      env,
    );
    expect(json.json.ok).toBe(true);
    expect(json.json.capabilities).toMatchObject({
      syncCollection: true,
      multiget: true,
      vjournal: true,
      deadProperties: true,
      autoSchedule: false,
      markerPlacement: 'collection',
    });
    for (const out of [add, user, server, forUser])
      expect(out.stdout + out.stderr).not.toContain(radicale.password);
    // The capability trials leave nothing behind but the marker's own journal calendar, which
    // the first sync would make anyway.
    const visible = (account: string) =>
      readdirSync(join(radicale.storage, 'collection-root', account)).filter((n) => !n.startsWith('.'));
    expect(visible('alice').sort()).toEqual(['calendar', 'contacts', 'liaison-sync-marker']);
    expect(visible(radicale.username).filter((n) => n.includes('capability-test'))).toEqual([]);
    // The service account's own mailbox is never synced: the trial's calendar is gone again.
    expect(visible(radicale.username)).not.toContain('liaison-sync-marker');
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
    await put('contacts', 'carol.vcf', vcard('carol-1', 'Carol', 'Chen', 'EMAIL:carol@chen.example\r\n'));
    // The same person as the firm's Dora, written by a phone with another UID and case.
    await put(
      'contacts',
      'dora.vcf',
      vcard('phone-dora', 'Dora', 'Diaz', 'EMAIL:dora@diaz.example\r\nTITLE:Judge\r\n'),
    );
    await put('calendar', 'kickoff.ics', vevent('kick-1', 'Kick-off', '20261201T090000Z'));
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
    expect(serverItems().size).toBe(2);
    expect((await contacts()).length).toBe(2);

    const { code, json } = await sync('complete');
    expect(code, JSON.stringify(json)).toBe(0);
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
    expect((await contacts()).map((c) => c.formattedName).sort()).toEqual([
      'Bob Baker',
      'Carol Chen',
      'Dora Diaz',
    ]);
    expect(serverItems().size).toBe(3);
    expect((await byName('Dora Diaz'))?.title).toBe('Judge');
    expect(serverTexts().filter((t) => t.includes('Diaz'))).toHaveLength(1);
    expect(serverItems('calendar').size).toBe(2);
    const appts = await liaisonJson<{ summary: string }[]>(['appointments', 'list', '--user', 'alice'], env);
    expect(appts.json.map((a) => a.summary).sort()).toEqual(['Board meeting', 'Kick-off']);
    // The marker is the note in Liaison's own journal calendar, beside the user's collections.
    expect(readdirSync(join(radicale.storage, 'collection-root', 'alice', 'liaison-sync-marker'))).toContain(
      'liaison-sync-marker.ics',
    );
  });

  it('express carries edits both ways', async () => {
    const bob = await byName('Bob Baker');
    await liaison(['contacts', 'edit', bob!.id, '--phone', '+44 20 7946 0001'], env);
    await put(
      'contacts',
      'carol.vcf',
      vcard('carol-1', 'Carol', 'Chen', 'EMAIL:carol@chen.example\r\nTITLE:CFO\r\n'),
    );

    const { code, json } = await sync('express', 'contacts');
    expect(code).toBe(0);
    expect(report(json, 'contacts')).toMatchObject({ toMailbox: { updated: 1 }, toFirm: { updated: 1 } });
    expect((await byName('Carol Chen'))?.title).toBe('CFO');
    expect(serverItems().get(serverFileOf('bob@baker.example')!)).toContain('+44 20 7946 0001');

    const again = await sync('express', 'contacts');
    expect(report(again.json, 'contacts').outcome).toBe('unchanged');
  });

  it('merges a conflict field by field; on the same field the firm wins', async () => {
    const bob = await byName('Bob Baker');
    await liaison(['contacts', 'edit', bob!.id, '--title', 'Partner', '--note', 'firm note'], env);
    const file = serverFileOf('bob@baker.example')!;
    const text = serverItems()
      .get(file)!
      .replace(/NOTE:[^\r\n]*\r?\n/, '')
      .replace('END:VCARD', 'NOTE:mailbox note\r\nCATEGORIES:Golf\r\nEND:VCARD');
    await put('contacts', file, text);

    const { json } = await sync('express', 'contacts');
    expect(report(json, 'contacts').conflicts).toBe(1);
    expect(await byName('Bob Baker')).toMatchObject({
      title: 'Partner',
      note: 'firm note',
      categories: ['Golf'],
    });
    const onServer = serverItems().get(file)!;
    expect(onServer).toContain('TITLE:Partner');
    expect(onServer).toContain('NOTE:firm note');
    expect(onServer).toContain('CATEGORIES:Golf');
  });

  it('express catches deletions both ways', async () => {
    await remove('contacts', 'carol.vcf');
    let r = await sync('express', 'contacts');
    expect(report(r.json, 'contacts').toFirm.deleted).toBe(1);
    expect(await byName('Carol Chen')).toBeUndefined();

    const dora = await byName('Dora Diaz');
    await liaison(['contacts', 'delete', dora!.id], env);
    r = await sync('express', 'contacts');
    expect(report(r.json, 'contacts').toMailbox.deleted).toBe(1);
    expect(serverTexts().some((t) => t.includes('Diaz'))).toBe(false);
    expect(serverItems().size).toBe(1);
  });

  it('quarantines an item Radicale stores but Liaison cannot read, names it, and syncs the rest', async () => {
    // Radicale checks what it stores (it answers 400 to a vCard without END, with a bad
    // line, with two cards…), so the broken item has to be one it accepts: a vCard 2.1
    // with its AGENT given as an embedded vCard, which Radicale's parser takes as a nested
    // component and Liaison's reader refuses.
    const agent =
      'BEGIN:VCARD\r\nVERSION:2.1\r\nUID:agent-1\r\nFN:Gina Grant\r\nN:Grant;Gina;;;\r\nAGENT:\r\n' +
      'BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Her Assistant\r\nTEL:+1 555 0100\r\nEND:VCARD\r\nEND:VCARD\r\n';
    await put('contacts', 'agent.vcf', agent);
    await put('contacts', 'erin.vcf', vcard('erin-1', 'Erin', 'Evans'));
    const { code, json } = await sync('express', 'contacts');
    expect(code).toBe(0);
    const c = report(json, 'contacts');
    expect(c.quarantined).toHaveLength(1);
    expect(c.quarantined[0]?.href).toMatch(/\/alice\/contacts\/agent\.vcf$/);
    expect(c.quarantined[0]?.reason).toContain('alice');
    expect(c.quarantined[0]?.reason).toMatch(/nested BEGIN:VCARD/);
    expect(c.toFirm.created).toBe(1);
    expect(await byName('Erin Evans')).toBeDefined();
    expect(await byName('Gina Grant')).toBeUndefined();
    expect(serverItems().get('agent.vcf')).toContain('Gina Grant');
    // Still there, still quarantined, never deleted on the next run.
    const again = await sync('complete', 'contacts');
    expect(report(again.json, 'contacts').quarantined).toHaveLength(1);
    expect(serverItems().has('agent.vcf')).toBe(true);
    await remove('contacts', 'agent.vcf');
  });

  it('holds a mass deletion; reject puts the items back on the server, approve applies it', async () => {
    await Promise.all(
      Array.from({ length: 14 }, (_, i) =>
        put('contacts', `p${i}.vcf`, vcard(`p-${i}`, `Person${i}`, 'Mass')),
      ),
    );
    await sync('express', 'contacts');
    const before = (await contacts()).length;
    // Restored items get names derived from their UIDs, so they are found by content.
    const massFiles = () =>
      [...serverItems()].filter(([, text]) => text.includes('N:Mass;')).map(([name]) => name);
    expect(massFiles()).toHaveLength(14);
    for (const f of massFiles().slice(0, 12)) await remove('contacts', f);

    const held = await sync('express', 'contacts');
    expect(held.code).toBe(3);
    const c = report(held.json, 'contacts');
    expect(c.outcome).toBe('held');
    expect(c.reason).toMatch(/12 deletions/);
    expect((await contacts()).length).toBe(before);
    const list = await liaisonJson<{ id: string }[]>(['held', 'list'], env);
    expect(list.json.map((h) => h.id)).toEqual([c.heldPlanId]);
    const show = await liaison(['held', 'show', c.heldPlanId!], env);
    expect(show.stdout).toMatch(/DELETE in firm database: Person\d+ Mass/);

    // While held, the collection is skipped with the reason.
    const skipped = await sync('express', 'contacts');
    expect(report(skipped.json, 'contacts')).toMatchObject({ outcome: 'skipped' });

    const reject = await liaison(['held', 'reject', c.heldPlanId!], env);
    expect(reject.code, reject.stderr).toBe(0);
    expect(massFiles()).toHaveLength(14);
    expect(new Set(massFiles().map((f) => uidOf(serverItems().get(f)!))).size).toBe(14);
    expect((await contacts()).length).toBe(before);
    const after = await sync('express', 'contacts');
    expect(report(after.json, 'contacts')).toMatchObject({
      toFirm: { deleted: 0 },
      toMailbox: { created: 0 },
    });

    for (const f of massFiles().slice(0, 12)) await remove('contacts', f);
    const again = await sync('express', 'contacts');
    const id = report(again.json, 'contacts').heldPlanId!;
    const approved = await liaisonJson<RunReport>(['held', 'approve', id], env);
    expect(approved.json.collections[0]?.toFirm.deleted).toBe(12);
    expect((await contacts()).length).toBe(before - 12);
    expect((await liaison(['held', 'approve', id], env)).code).toBe(2);
  });

  it('detects a server restored from an older copy, deletes nothing, and recovers', async () => {
    const backup = join(dir, 'radicale-backup');
    await radicale.restart(() => cpSync(radicale.storage, backup, { recursive: true }));
    // After the backup: a new firm contact reaches the server, and the marker moves on.
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
    const moved = await sync('express', 'both');
    expect(report(moved.json, 'contacts').toMailbox.created).toBe(1);
    const firmBefore = (await contacts()).map((c) => c.formattedName).sort();
    expect(firmBefore).toContain('Fay Fox');

    // The administrator restores the server's storage from the backup.
    await radicale.restart(() => {
      rmSync(radicale.storage, { recursive: true });
      cpSync(backup, radicale.storage, { recursive: true });
    });
    expect(serverTexts().some((t) => t.includes('Fay Fox'))).toBe(false);
    const r = await sync('complete', 'both');
    expect(r.code).toBe(3);
    expect(report(r.json, 'contacts')).toMatchObject({ outcome: 'skipped' });
    expect(report(r.json, 'contacts').reason).toMatch(/out of sync/);
    // The calendar was last synced before the backup: its marker matches, so it is in sync.
    expect(report(r.json, 'calendar')).toMatchObject({ outcome: 'unchanged' });
    expect((await contacts()).map((c) => c.formattedName).sort()).toEqual(firmBefore);
    const status = await liaisonJson<{ user: string; collection: string; outOfSync: boolean }[]>(
      ['status'],
      env,
    );
    expect(status.json.find((s) => s.collection === 'contacts')?.outOfSync).toBe(true);

    const rec = await liaisonJson<RunReport>(['recover', '--user', 'alice'], env);
    expect(rec.code, JSON.stringify(rec.json)).toBe(0);
    // Recovery reads every item back from the server and matches it: only Fay is missing there.
    // Nothing else differs — Radicale's rewriting of what it stores changes no field.
    expect(report(rec.json, 'contacts')).toMatchObject({
      toMailbox: { created: 1, updated: 0, deleted: 0 },
      toFirm: { created: 0, updated: 0, deleted: 0 },
    });
    expect(report(rec.json, 'calendar')).toMatchObject({
      toMailbox: { created: 0, updated: 0, deleted: 0 },
      toFirm: { created: 0, updated: 0, deleted: 0 },
    });
    expect(serverTexts().filter((t) => t.includes('Fay Fox'))).toHaveLength(1);
    expect((await contacts()).map((c) => c.formattedName).sort()).toEqual(firmBefore);
    const after = await sync('express', 'both');
    expect(after.code, JSON.stringify(after.json)).toBe(0);
    expect(report(after.json, 'contacts').toFirm).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(report(after.json, 'contacts').toMailbox).toEqual({ created: 0, updated: 0, deleted: 0 });
    expect(serverItems('calendar').size).toBe(2);
  });

  it('falls back to a full listing when the server no longer knows the sync token, holds the deletions it shows, and loses nothing', async () => {
    // Changes on the server meanwhile: an edit, a new item, a deletion.
    await put('contacts', 'erin.vcf', vcard('erin-1', 'Erin', 'Evans', 'TITLE:Counsel\r\n'));
    await put('contacts', 'gus.vcf', vcard('gus-1', 'Gus', 'Grey'));
    const fay = serverFileOf('Fay Fox')!;
    await remove('contacts', fay);
    // …and one on the firm side.
    const bob = await byName('Bob Baker');
    await liaison(['contacts', 'edit', bob!.id, '--title', 'Senior Partner'], env);
    // Radicale keeps the state behind each sync token it handed out in the collection's
    // cache; without it, the token Liaison holds names nothing (403 valid-sync-token).
    await radicale.restart(() => {
      const tokens = join(folder('contacts'), '.Radicale.cache', 'sync-token');
      expect(readdirSync(tokens).length).toBeGreaterThan(0);
      rmSync(tokens, { recursive: true });
    });
    const refusedBefore = countInLog(/invalid sync token/gi);

    const { code, json } = await sync('express', 'contacts');
    // Liaison did ask with its old token, and was refused: the sync below is the fallback's.
    expect(countInLog(/invalid sync token/gi)).toBeGreaterThan(refusedBefore);
    // A server forgets its tokens when a collection is restored from a backup too, and then
    // lacks what was synced since: the deletion the listing shows waits for approval, while
    // the other changes are applied at once.
    expect(code, JSON.stringify(json)).toBe(3);
    const partly = report(json, 'contacts');
    expect(partly).toMatchObject({
      toFirm: { created: 1, updated: 1, deleted: 0 },
      toMailbox: { created: 0, updated: 1, deleted: 0 },
    });
    expect(partly.reason).toContain('no longer knew the last sync token');
    expect(partly.heldPlanId).not.toBeNull();
    expect(await byName('Fay Fox')).toBeDefined();
    const approved = await liaisonJson<RunReport>(['held', 'approve', partly.heldPlanId!], env);
    expect(approved.code).toBe(0);
    expect(approved.json.collections[0]).toMatchObject({ toFirm: { deleted: 1 } });
    expect(serverItems().get(serverFileOf('bob@baker.example')!)).toContain('TITLE:Senior Partner');
    expect((await byName('Erin Evans'))?.title).toBe('Counsel');
    expect(await byName('Gus Grey')).toBeDefined();
    expect(await byName('Fay Fox')).toBeUndefined();
    expect(await sameOnBothSides()).toBe(true);
    // The token the fallback took is good: the next express sync is a no-op.
    expect(report((await sync('express', 'contacts')).json, 'contacts').outcome).toBe('unchanged');
  });

  it('fails the user when the server is killed in the middle of a sync; the rerun loses and duplicates nothing', async () => {
    // A few hundred new firm contacts to write to the server, and some new server items to
    // read. The firm ones are put straight into the database: hundreds of `contacts add`
    // processes would take minutes.
    const app = await openApp(dbFile);
    try {
      const alice = (await app.repos.users.get('alice'))!;
      for (let i = 0; i < 200; i++) {
        const given = `Bulk${i}`;
        await app.repos.contacts.add(alice.id, {
          ...emptyContact(asUid(`bulk-${i}`)),
          name: { prefix: '', given, additional: '', family: 'Firm', suffix: '' },
          formattedName: `${given} Firm`,
          emails: [{ value: `bulk${i}@firm.example`, types: ['work'] }],
        });
      }
    } finally {
      await app.close();
    }
    for (let i = 0; i < 20; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          put('contacts', `s${i + j}.vcf`, vcard(`srv-${i + j}`, `Srv${i + j}`, 'Server')),
        ),
      );
    }
    const baseline = serverItems().size;

    const running = sync('complete', 'contacts');
    let settled = false;
    running.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    // Kill the server once some of the firm's contacts reached it, long before all did.
    while (!settled && itemCount() < baseline + 40) await sleep(5);
    expect(settled, 'the sync ended before the server could be killed').toBe(false);
    await radicale.crash();
    // Up again as soon as the run gave up, whatever it reported.
    const failed = await running.finally(() => radicale.restart());
    const reached = serverItems().size - baseline;
    expect(reached).toBeLessThan(200);
    expect(failed.code).toBe(4);
    const c = report(failed.json, 'contacts');
    expect(c.outcome).toBe('failed');
    expect(c.reason).toMatch(
      /^radicale: .*(connection refused|connection reset|connection closed|no answer)/,
    );
    expect(c.reason).toMatch(/check that the server is up and reachable/);
    // What did reach the server before the crash is recorded; the rest is left to the rerun.
    expect(c.toMailbox.created).toBeGreaterThan(0);
    expect(c.toMailbox.created).toBeLessThanOrEqual(reached);

    const rerun = await sync('express', 'contacts');
    expect(rerun.code, JSON.stringify(rerun.json)).toBe(0);
    expect(report(rerun.json, 'contacts').outcome).toBe('synced');
    const check = await sync('complete', 'contacts');
    expect(check.code).toBe(0);
    expect(report(check.json, 'contacts')).toMatchObject({
      toFirm: { created: 0, updated: 0, deleted: 0 },
      toMailbox: { created: 0, updated: 0, deleted: 0 },
    });

    const firm = await contacts();
    const server = serverTexts();
    const names = firm.map((f) => f.formattedName);
    for (let i = 0; i < 200; i++) expect(names).toContain(`Bulk${i} Firm`);
    for (let i = 0; i < 20; i++) expect(names).toContain(`Srv${i} Server`);
    expect(new Set(names).size).toBe(firm.length);
    expect(new Set(server.map(uidOf)).size).toBe(server.length);
    expect(await sameOnBothSides()).toBe(true);
  }, 120_000);

  it('says plainly that a password is wrong, and goes on with the users of other servers', async () => {
    await radicale.addUser('bob');
    expect(
      (
        await liaison(
          [
            'server',
            'add',
            'wrongpw',
            '--kind',
            'dav',
            '--url',
            radicale.url,
            '--username',
            radicale.username,
            '--password-env',
            'WRONG_PW',
          ],
          env,
        )
      ).code,
    ).toBe(0);
    const bob = await liaison(
      ['user', 'add', 'bob', '--name', 'Bob', '--server', 'wrongpw', '--mailbox', 'bob', '--contacts', 'on'],
      env,
    );
    expect(bob.code, bob.stderr).toBe(0);
    const files = join(dir, 'mailboxes');
    mkdirSync(files);
    expect((await liaison(['server', 'add', 'files', '--kind', 'vdir', '--url', files], env)).code).toBe(0);
    await liaison(
      [
        'user',
        'add',
        'carol',
        '--name',
        'Carol',
        '--server',
        'files',
        '--mailbox',
        'carol',
        '--contacts',
        'on',
      ],
      env,
    );
    await liaison(['contacts', 'add', '--user', 'carol', '--given', 'Hal', '--family', 'Hill'], env);

    for (const args of [['wrongpw'], ['wrongpw', '--user', 'bob']]) {
      const test = await liaison(['server', 'test', ...args], env);
      expect(test.code).toBe(1);
      expect(test.stderr).toMatch(/wrong password for server wrongpw \(account liaison-service\)/);
      expect(test.stdout + test.stderr).not.toContain(WRONG_PASSWORD);
      const json = await liaison(['server', 'test', ...args, '--json'], env);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { kind: 'AccessDenied' } });
      expect(json.stderr).toBe('');
    }

    const run = await liaison(['sync', '--all', '--mode', 'express', '--scope', 'both', '--json'], env);
    expect(run.code).toBe(4);
    expect(run.stdout + run.stderr).not.toContain(WRONG_PASSWORD);
    expect(run.stdout + run.stderr).not.toContain(radicale.password);
    const json = JSON.parse(run.stdout) as RunReport;
    expect(report(json, 'contacts', 'bob')).toMatchObject({ outcome: 'failed' });
    expect(report(json, 'contacts', 'bob').reason).toMatch(
      /wrongpw: .* answered 401: the server refused the service account's credentials \(account liaison-service\): check them with `liaison server set wrongpw --password-env VAR`/,
    );
    expect(report(json, 'contacts', 'carol')).toMatchObject({ outcome: 'synced', toMailbox: { created: 1 } });
    expect(readdirSync(join(files, 'carol', 'contacts')).filter((f) => f.endsWith('.vcf'))).toHaveLength(1);
    expect(report(json, 'contacts')).toMatchObject({ outcome: 'unchanged' });
    expect(report(json, 'calendar')).toMatchObject({ outcome: 'unchanged' });

    // `status` shows the failure until a run syncs the collection.
    type StatusRow = { user: string; collection: string; lastFailure: { at: string; reason: string } | null };
    const failing = async () =>
      (await liaisonJson<StatusRow[]>(['status', '--json'], env)).json.filter((r) => r.lastFailure !== null);
    const failed = await failing();
    expect(failed.map((r) => `${r.user} ${r.collection}`)).toEqual(['bob contacts']);
    expect(failed[0]!.lastFailure!.reason).toMatch(/answered 401: the server refused the service account's/);
    const text = await liaison(['status', '--user', 'bob'], env);
    expect(text.stdout).toMatch(/bob\s+contacts\s+on\s+never\s+FAILED at \S+: wrongpw: .*answered 401/);
    expect((await liaison(['server', 'set', 'wrongpw', '--password-env', 'DAV_PW'], env)).code).toBe(0);
    expect((await liaison(['user', 'set', 'bob', '--create-collections'], env)).code).toBe(0);
    const fixed = await liaison(['sync', '--user', 'bob', '--mode', 'express', '--scope', 'contacts'], env);
    expect(fixed.code, fixed.stdout + fixed.stderr).toBe(0);
    expect(await failing()).toEqual([]);

    // A login of the user's own that the server refuses is named as such, not the service account's.
    const own = ['user', 'set', 'bob', '--username', 'bob', '--password-env', 'WRONG_PW'];
    expect((await liaison(own, env)).code).toBe(0);
    const refused = await liaison(
      ['sync', '--user', 'bob', '--mode', 'express', '--scope', 'contacts', '--json'],
      env,
    );
    expect(refused.code).toBe(4);
    expect(report(JSON.parse(refused.stdout) as RunReport, 'contacts', 'bob').reason).toContain(
      "answered 401: the server refused the credentials of user bob's own login (account bob), not the service account's: check them with `liaison user set bob --password-env VAR`",
    );
    expect((await liaison(['user', 'set', 'bob', '--server-account'], env)).code).toBe(0);
  });

  it('server test --user says which collections a mailbox lacks; user set --create-collections makes them', async () => {
    await radicale.addUser('dora');
    const add = ['user', 'add', 'dora', '--name', 'Dora', '--server', 'radicale', '--mailbox', 'dora'];
    expect((await liaison([...add, '--contacts', 'on', '--calendar', 'on'], env)).code).toBe(0);
    const lacking = await liaison(['server', 'test', 'radicale', '--user', 'dora'], env);
    expect(lacking.code).toBe(1);
    expect(lacking.stderr).toContain(
      'mailbox dora on server radicale has no address book and no calendar to sync (looked in /dora/): create it in a mail client, or run `liaison user set dora --create-collections`',
    );
    expect(lacking.stdout).toMatch(
      /sync-collection\s+unknown: the mailbox has no address book or calendar to ask/,
    );
    const json = await liaisonJson<{ ok: boolean; error: { kind: string } }>(
      ['server', 'test', 'radicale', '--user', 'dora'],
      env,
    );
    expect(json.json).toMatchObject({ ok: false, error: { kind: 'NotFound' } });

    const create = await liaison(['user', 'set', 'dora', '--create-collections'], env);
    expect(create.code, create.stderr).toBe(0);
    expect(create.stdout).toContain('address book and calendar in place for: dora');
    const fine = await liaison(['server', 'test', 'radicale', '--user', 'dora'], env);
    expect(fine.code, fine.stderr).toBe(0);
    expect(fine.stdout).toMatch(/address book\s+\/dora\//);

    // Only what a user syncs is made: no calendar for a user who syncs contacts alone.
    await radicale.addUser('ed');
    const ed = [
      'user',
      'add',
      'ed',
      '--name',
      'Ed',
      '--server',
      'radicale',
      '--mailbox',
      'ed',
      '--contacts',
      'on',
    ];
    expect((await liaison([...ed, '--create-collections'], env)).code).toBe(0);
    const made = readdirSync(join(radicale.storage, 'collection-root', 'ed')).filter(
      (n) => !n.startsWith('.'),
    );
    expect(made).toEqual(['contacts']);
  });
});

/** Whether the firm's contacts and the server's items are the same set of people (by UID). */
async function sameOnBothSides(): Promise<boolean> {
  const firm = (await contacts()).map((c) => c.uid).sort();
  const server = serverTexts().map(uidOf).sort();
  if (JSON.stringify(firm) !== JSON.stringify(server)) {
    const f = new Set(firm);
    const s = new Set(server);
    throw new Error(
      `firm only: ${firm.filter((u) => !s.has(u)).join(', ')}; server only: ${server.filter((u) => !f.has(u!)).join(', ')}`,
    );
  }
  return true;
}

function countInLog(pattern: RegExp): number {
  return (readFileSync(radicale.log, 'utf8').match(pattern) ?? []).length;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
