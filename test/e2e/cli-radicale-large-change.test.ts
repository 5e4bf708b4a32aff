import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/sync/report.js';
import { liaisonJson } from '../support/cli.js';
import { type DavProxy, startDavProxy } from '../support/dav-servers/dav-proxy.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { aliceOnRadicale } from '../support/radicale-cli.js';

/*
 * A phone that rewrites most of an address book at once, against a real Radicale through
 * the CLI: every edit arrives, each changed item is read once (the multigets a proxy sees
 * say so), and past the mass-change threshold the whole change is held as one plan.
 */

const CONTACTS = 300;
const CHANGED = 250;

let dir: string;
let env: Record<string, string>;
let radicale: RadicaleServer;
let proxy: DavProxy;
/** Hrefs named by each addressbook-multiget the proxy passed on. */
const multigets: number[] = [];

const vcard = (i: number, note: string) =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:large-${i}\r\nFN:Person ${i}\r\nN:${i};Person;;;\r\nEMAIL:p${i}@example.com\r\nNOTE:${note}\r\nEND:VCARD\r\n`;

/** Writes contacts straight into Radicale's storage, as a bulk import would leave them. */
function writeContacts(from: number, to: number, note: string): void {
  const folder = join(radicale.storage, 'collection-root', 'alice', 'contacts');
  for (let i = from; i < to; i++) writeFileSync(join(folder, `p${i}.vcf`), vcard(i, note));
}

async function sync(mode: 'express' | 'complete', ...flags: string[]) {
  return liaisonJson<RunReport>(['sync', '--all', '--mode', mode, '--scope', 'contacts', ...flags], env);
}

async function notes(): Promise<string[]> {
  const list = await liaisonJson<{ note: string }[]>(['contacts', 'list', '--user', 'alice'], env);
  return list.json.map((c) => c.note);
}

beforeAll(async () => {
  radicale = await startRadicale();
  await radicale.addUser('alice');
  proxy = await startDavProxy(radicale.url);
  proxy.rewrite = (request) => {
    if (request.body.includes('addressbook-multiget'))
      multigets.push(request.body.split('<D:href>').length - 1);
    return undefined;
  };
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-large-'));
  env = await aliceOnRadicale(radicale, proxy.url, dir, { contacts: true, calendar: false });
  writeContacts(0, CONTACTS, 'v1');
  const first = await sync('complete');
  expect(first.code, first.stderr).toBe(0);
  expect(first.json.collections[0]?.toFirm.created).toBe(CONTACTS);
});
afterAll(async () => {
  await proxy?.close();
  await radicale?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a phone that rewrites most of an address book at once', () => {
  it('holds the whole change past the threshold, as one plan', async () => {
    writeContacts(0, CHANGED, 'v2');
    multigets.length = 0;

    const held = await sync('express');

    expect(held.code).toBe(3);
    const report = held.json.collections[0]!;
    expect(report.outcome).toBe('held');
    expect(report.toFirm.updated).toBe(CHANGED);
    const shown = await liaisonJson<{ plan: { ops: unknown[] } }>(['held', 'show', report.heldPlanId!], env);
    expect(shown.json.plan.ops).toHaveLength(CHANGED);
    expect(multigets.reduce((a, b) => a + b, 0)).toBe(CHANGED);
    const rejected = await liaisonJson(['held', 'reject', report.heldPlanId!], env);
    expect(rejected.code, rejected.stderr).toBe(0);
  });

  it('applies it when allowed: each changed item read once, every edit arrives', async () => {
    writeContacts(0, CHANGED, 'v3');
    multigets.length = 0;

    const run = await sync('express', '--max-change-percent', '100');

    expect(run.code, run.stderr).toBe(0);
    expect(run.json.collections[0]).toMatchObject({
      outcome: 'synced',
      toFirm: { created: 0, updated: CHANGED, deleted: 0 },
    });
    expect(multigets.reduce((a, b) => a + b, 0)).toBe(CHANGED);
    const all = await notes();
    expect(all.filter((n) => n === 'v3')).toHaveLength(CHANGED);
    expect(all.filter((n) => n === 'v1')).toHaveLength(CONTACTS - CHANGED);
    expect((await sync('express')).json.collections[0]?.outcome).toBe('unchanged');
    expect((await sync('complete')).json.collections[0]?.outcome).toBe('unchanged');
  });
});
