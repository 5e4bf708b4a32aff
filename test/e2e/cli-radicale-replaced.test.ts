import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/sync/report.js';
import { liaison, liaisonJson } from '../support/cli.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { aliceOnRadicale, putContact } from '../support/radicale-cli.js';

/*
 * A client deletes a contact and saves a new one at the same href, with another UID, while
 * the firm edits the contact. Radicale refuses a PUT that changes a stored item's UID
 * (no-uid-conflict): writing the firm's UID there failed the collection on every run.
 */

let dir: string;
let env: Record<string, string>;
let radicale: RadicaleServer;

const vcard = (uid: string, title: string) =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:Xena Replaced\r\nN:Replaced;Xena;;;\r\nTITLE:${title}\r\nEND:VCARD\r\n`;
const auth = () => ({
  authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
});
const sync = (mode: 'express' | 'complete') =>
  liaisonJson<RunReport>(['sync', '--all', '--mode', mode, '--scope', 'contacts'], env);
const contacts = async () =>
  (
    await liaisonJson<{ id: string; uid: string; title: string }[]>(
      ['contacts', 'list', '--user', 'alice'],
      env,
    )
  ).json;

beforeAll(async () => {
  radicale = await startRadicale();
  await radicale.addUser('alice');
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-replaced-'));
  env = await aliceOnRadicale(radicale, radicale.url, dir, { contacts: true, calendar: false });
});
afterAll(async () => {
  await radicale?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a contact replaced at its href under another UID', () => {
  it('takes the new UID, and the firm edit still reaches the mailbox', async () => {
    await putContact(radicale, 'x.vcf', vcard('x-1', 'Clerk'));
    expect((await sync('complete')).code).toBe(0);
    const [contact] = await contacts();
    const edit = await liaison(['contacts', 'edit', contact!.id, '--note', 'Edited in the firm'], env);
    expect(edit.code, edit.stderr).toBe(0);
    // Radicale refuses a PUT that changes the UID: the client deletes, then saves anew.
    const gone = await fetch(new URL('/alice/contacts/x.vcf', radicale.url), {
      method: 'DELETE',
      headers: auth(),
    });
    expect(gone.status).toBeLessThan(300);
    await putContact(radicale, 'x.vcf', vcard('x-2', 'Director'));

    const run = await sync('express');
    expect(run.code, JSON.stringify(run.json)).toBe(0);
    expect(await contacts()).toMatchObject([{ id: contact!.id, uid: 'x-2', title: 'Director' }]);
    const stored = await (
      await fetch(new URL('/alice/contacts/x.vcf', radicale.url), { headers: auth() })
    ).text();
    expect(stored).toContain('UID:x-2');
    expect(stored).toContain('NOTE:Edited in the firm');
    expect((await sync('express')).json.collections[0]!.outcome).toBe('unchanged');
  });
});
