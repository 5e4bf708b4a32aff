import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/sync/report.js';
import { liaisonJson } from '../support/cli.js';
import { type DavProxy, type ProxiedRequest, startDavProxy } from '../support/dav-servers/dav-proxy.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { aliceOnRadicale, putContact } from '../support/radicale-cli.js';

/*
 * A server that answers one item of a listing, a change list or a multiget with an error
 * status (a proxy in front of a real Radicale rewrites its answers): the item is neither
 * there nor gone, so nothing may be deleted or lost because of it.
 */

let dir: string;
let env: Record<string, string>;
let radicale: RadicaleServer;
let proxy: DavProxy;

const vcard = (uid: string, name: string, title = '') =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${name}\r\nN:${name};;;;\r\n${title ? `TITLE:${title}\r\n` : ''}END:VCARD\r\n`;

/** Answers for b.vcf in REPORTs whose body holds `report` become a 500 for it. */
function failB(report: 'sync-collection' | 'addressbook-multiget') {
  return (request: ProxiedRequest, body: string) => {
    if (request.method !== 'REPORT' || !request.body.includes(report)) return undefined;
    return body.replace(
      /<(\w+:)?response>\s*<(\w+:)?href>([^<]*\/b\.vcf)<\/\2href>[\s\S]*?<\/\1response>/,
      (_all, r = '', h = '', href: string) =>
        `<${r}response><${h}href>${href}</${h}href><${r}status>HTTP/1.1 500 Internal Server Error</${r}status></${r}response>`,
    );
  };
}

const sync = (mode: 'express' | 'complete') =>
  liaisonJson<RunReport>(['sync', '--all', '--mode', mode, '--scope', 'contacts'], env);
const contacts = async () =>
  (await liaisonJson<{ uid: string; title: string }[]>(['contacts', 'list', '--user', 'alice'], env)).json;
const titleOfB = async () => (await contacts()).find((c) => c.uid === 'bad-b')?.title;
const quarantined = async () =>
  (await liaisonJson<{ collection: string; quarantined: { href: string }[] }[]>(['status'], env)).json.find(
    (r) => r.collection === 'contacts',
  )!.quarantined;

beforeAll(async () => {
  radicale = await startRadicale();
  await radicale.addUser('alice');
  proxy = await startDavProxy(radicale.url);
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-bad-answers-'));
  env = await aliceOnRadicale(radicale, proxy.url, dir, { contacts: true, calendar: false });
  await putContact(radicale, 'a.vcf', vcard('bad-a', 'Ada'));
  await putContact(radicale, 'b.vcf', vcard('bad-b', 'Bea', 'v1'));
  await putContact(radicale, 'c.vcf', vcard('bad-c', 'Cid'));
  const first = await sync('complete');
  expect(first.code, first.stderr).toBe(0);
  expect((await contacts()).length).toBe(3);
});
afterAll(async () => {
  await proxy?.close();
  await radicale?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an error status for one item in an answer from the server', () => {
  it('in a multiget: the item is reported, not read, and its firm copy stays', async () => {
    await putContact(radicale, 'b.vcf', vcard('bad-b', 'Bea', 'v2'));
    proxy.rewrite = failB('addressbook-multiget');
    const run = await sync('complete');
    proxy.rewrite = undefined;
    expect(run.code, run.stderr).toBe(0);
    const report = run.json.collections[0]!;
    expect(report.toFirm.deleted).toBe(0);
    expect(report.quarantined).toHaveLength(1);
    expect(report.quarantined[0]!.href).toMatch(/\/alice\/contacts\/b\.vcf$/);
    expect(report.quarantined[0]!.reason).toContain('not read: the server answered 500 for it');
    expect(await titleOfB()).toBe('v1');
    // Answered properly again, the change comes in.
    expect((await sync('complete')).code).toBe(0);
    expect(await titleOfB()).toBe('v2');
  });

  it('in the full listing: the collection is skipped this run, nothing is deleted', async () => {
    proxy.rewrite = failB('sync-collection');
    const run = await sync('complete');
    proxy.rewrite = undefined;
    expect(run.code).toBe(4);
    expect(run.json.collections[0]!.outcome).toBe('failed');
    expect(run.json.collections[0]!.reason).toMatch(/answered 500 for \/alice\/contacts\/b\.vcf/);
    expect((await contacts()).map((c) => c.uid).sort()).toEqual(['bad-a', 'bad-b', 'bad-c']);
  });

  it('in an express change list: the run fails, and the next one still sees the change', async () => {
    await putContact(radicale, 'b.vcf', vcard('bad-b', 'Bea', 'v3'));
    proxy.rewrite = failB('sync-collection');
    const run = await sync('express');
    proxy.rewrite = undefined;
    expect(run.code).toBe(4);
    expect(await titleOfB()).toBe('v2');
    const next = await sync('express');
    expect(next.code, next.stderr).toBe(0);
    expect(next.json.collections[0]!.toFirm.updated).toBe(1);
    expect(await titleOfB()).toBe('v3');
  });

  it('in an express multiget: the next express run still reads the change', async () => {
    await putContact(radicale, 'b.vcf', vcard('bad-b', 'Bea', 'v4'));
    // A server whose change lists carry no item data: the changed item is read by multiget.
    const failMultiget = failB('addressbook-multiget');
    proxy.rewrite = (request, body) =>
      request.body.includes('sync-collection')
        ? body.replace(/<(\w+:)?address-data>[\s\S]*?<\/\1address-data>/g, '')
        : failMultiget(request, body);
    const run = await sync('express');
    proxy.rewrite = undefined;
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.collections[0]!.quarantined).toHaveLength(1);
    expect(await titleOfB()).toBe('v3');
    expect((await quarantined()).map((q) => q.href)).toEqual(['/alice/contacts/b.vcf']);
    const next = await sync('express');
    expect(next.json.collections[0]!.toFirm.updated).toBe(1);
    expect(await titleOfB()).toBe('v4');
    expect(await quarantined()).toEqual([]);
  });
});
