import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/sync/report.js';
import { liaison, liaisonJson } from '../support/cli.js';
import { type DavProxy, startDavProxy } from '../support/dav-servers/dav-proxy.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { aliceOnRadicale, putContact } from '../support/radicale-cli.js';

/*
 * What each `liaison sync` costs the server, counted by a proxy between the CLI and a real
 * Radicale. Every command is a process of its own, as runs from a scheduler are: what one
 * run learnt about the mailbox (discovery) must come from the firm database, not memory.
 */

let dir: string;
let env: Record<string, string>;
let radicale: RadicaleServer;
let proxy: DavProxy;

const vcard = (uid: string, name: string) =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\nEND:VCARD\r\n`;

/** Runs `liaison sync` and returns its report with the requests it sent. */
async function sync(mode: 'express' | 'complete'): Promise<{ report: RunReport; requests: string[] }> {
  proxy.requests.length = 0;
  const run = await liaisonJson<RunReport>(['sync', '--all', '--mode', mode, '--scope', 'both'], env);
  expect(run.code, run.stderr).toBe(0);
  return { report: run.json, requests: [...proxy.requests] };
}

beforeAll(async () => {
  radicale = await startRadicale();
  await radicale.addUser('alice');
  proxy = await startDavProxy(radicale.url);
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-requests-'));
  env = await aliceOnRadicale(radicale, proxy.url, dir, { contacts: true, calendar: true });
  await putContact(radicale, 'a.vcf', vcard('req-a', 'Ada'));
  await putContact(radicale, 'b.vcf', vcard('req-b', 'Bea'));
});
afterAll(async () => {
  await proxy?.close();
  await radicale?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('requests per sync on Radicale, each run a new process', () => {
  it('a no-change express sync asks one question per collection, and nothing else', async () => {
    const first = await sync('complete');
    expect(first.report.collections.find((c) => c.collection === 'contacts')?.toFirm.created).toBe(2);
    // The first run discovers and stores what it found; a second run does not rediscover.
    const settle = await sync('express');
    expect(settle.requests.filter((r) => r.startsWith('PROPFIND') || r.startsWith('OPTIONS'))).toEqual([]);

    const quiet = await sync('express');
    expect(quiet.report.collections.map((c) => c.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(quiet.requests).toEqual(['REPORT /alice/contacts/', 'REPORT /alice/calendar/']);
  });

  it('a change on the server costs the question, the marker and the read, not a rediscovery', async () => {
    await putContact(radicale, 'c.vcf', vcard('req-c', 'Cid'));
    const changed = await sync('express');
    const contacts = changed.report.collections.find((c) => c.collection === 'contacts');
    expect(contacts?.toFirm.created).toBe(1);
    expect(changed.requests.filter((r) => r.startsWith('PROPFIND') || r.startsWith('OPTIONS'))).toEqual([]);
    // The change list carries the changed contact: no multiget after it.
    expect(changed.requests.filter((r) => r === 'REPORT /alice/contacts/')).toHaveLength(1);
    expect(changed.requests.filter((r) => r.startsWith('GET'))).toHaveLength(1);
  });

  it('naming the address book in the server settings makes the next run discover again, once', async () => {
    const set = await liaison(['server', 'set', 'radicale', '--addressbook', 'contacts'], env);
    expect(set.code, set.stderr).toBe(0);
    const after = await sync('express');
    expect(after.report.collections.map((c) => c.outcome)).toEqual(['unchanged', 'unchanged']);
    expect(after.requests.some((r) => r.startsWith('PROPFIND'))).toBe(true);
    const next = await sync('express');
    expect(next.requests).toEqual(['REPORT /alice/contacts/', 'REPORT /alice/calendar/']);
  });

  it('a collection that disappeared is found again: the stored discovery is dropped', async () => {
    const gone = await fetch(new URL('/alice/contacts/', radicale.url), {
      method: 'DELETE',
      headers: {
        authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      },
    });
    expect([200, 204]).toContain(gone.status);
    proxy.requests.length = 0;
    const run = await liaisonJson<RunReport>(['sync', '--all', '--mode', 'express', '--scope', 'both'], env);
    const contacts = run.json.collections.find((c) => c.collection === 'contacts');
    // The address book is gone: the run says so (and deletes nothing in the firm database).
    expect(contacts?.outcome).toMatch(/failed|skipped/);
    const after = await liaisonJson<RunReport>(
      ['sync', '--all', '--mode', 'express', '--scope', 'both'],
      env,
    );
    expect(after.json.collections.find((c) => c.collection === 'contacts')?.reason).toMatch(
      /no address book/,
    );
  });
});
