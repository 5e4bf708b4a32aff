import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/sync/report.js';
import { liaison, liaisonJson } from '../support/cli.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { aliceOnRadicale } from '../support/radicale-cli.js';

/*
 * An address book deleted on the server and made anew, empty. Radicale derives its sync
 * tokens from the content, so the new empty address book answers to the token of the old
 * one when it was empty: a token kept from before Liaison filled it would make express
 * take the empty address book for "unchanged", and a later run delete the firm's contacts.
 */

let dir: string;
let env: Record<string, string>;
let radicale: RadicaleServer;

const sync = (mode: 'express' | 'complete') =>
  liaisonJson<RunReport>(['sync', '--all', '--mode', mode, '--scope', 'contacts'], env);
const contacts = async () =>
  (await liaisonJson<{ uid: string }[]>(['contacts', 'list', '--user', 'alice'], env)).json;

beforeAll(async () => {
  radicale = await startRadicale();
  await radicale.addUser('alice');
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-recreated-'));
  env = await aliceOnRadicale(radicale, radicale.url, dir, { contacts: true, calendar: false });
});
afterAll(async () => {
  await radicale?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an address book deleted and made anew, empty', () => {
  it('is not taken for unchanged, and the firm keeps its contacts', async () => {
    for (const given of ['Ada', 'Bea', 'Cid']) {
      const add = await liaison(
        ['contacts', 'add', '--user', 'alice', '--given', given, '--family', 'Firm'],
        env,
      );
      expect(add.code, add.stderr).toBe(0);
    }
    const first = await sync('express');
    expect(first.json.collections[0]!.toMailbox.created).toBe(3);

    const gone = await fetch(new URL('/alice/contacts/', radicale.url), {
      method: 'DELETE',
      headers: {
        authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      },
    });
    expect(gone.status).toBeLessThan(300);
    expect((await liaison(['user', 'set', 'alice', '--create-collections'], env)).code).toBe(0);

    // The empty address book is seen (the mass-deletion guard holds the plan), not taken for
    // unchanged; until the plan is decided, the collection is skipped.
    const run = await sync('express');
    expect(run.code).toBe(3);
    expect(run.json.collections[0]).toMatchObject({ outcome: 'held' });
    expect(run.json.collections[0]!.reason).toMatch(
      /the mailbox collection is empty but 3 items were synced before/,
    );
    expect((await sync('complete')).json.collections[0]).toMatchObject({ outcome: 'skipped' });
    expect((await contacts()).length).toBe(3);
  });
});
