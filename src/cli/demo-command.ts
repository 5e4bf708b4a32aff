import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { SampleData } from '../demo/sample-data.js';
import { appointmentCodec } from '../formats/appointment-codec.js';
import { contactCodec } from '../formats/contact-codec.js';
import { type App, openApp } from '../main.js';
import type { RunReport } from '../sync/report.js';
import { runMailboxSync } from '../sync/run-sync.js';
import { DEFAULT_SETTINGS } from '../sync/settings.js';
import { printJson, say } from './output.js';
import { progressReporter } from './progress.js';
import { renderReport } from './report-text.js';

const PEOPLE = [
  { login: 'alice', name: 'Alice Adams', group: 'london', seed: 1 },
  { login: 'bob', name: 'Bob Baker', group: 'london', seed: 2 },
  { login: 'carol', name: 'Carol Chen', group: 'new-york', seed: 3 },
];

/**
 * Seeds a demo firm: three users whose firm lists and mailboxes overlap, so the first
 * sync shows matching instead of duplicates as well as creations both ways.
 */
async function seed(app: App, mailboxDir: string): Promise<void> {
  const server = await app.repos.servers.add({ name: 'demo-files', kind: 'vdir', url: mailboxDir });
  const adapter = await app.mailboxServer(server);
  const now = new Date();
  for (const p of PEOPLE) {
    await adapter.ensureMailbox(p.login);
    const user = await app.repos.users.add({
      login: p.login,
      displayName: p.name,
      server: server.name,
      mailboxAccount: p.login,
      serverGroup: p.group,
      contactsEnabled: true,
      calendarEnabled: true,
    });
    const gen = new SampleData(p.seed);
    const mailbox = adapter.open(p.login);
    const book = await mailbox.collection('contacts');
    // Firm list: people 0–59; mailbox: people 40–99 under other UIDs. People 40–59 are
    // the same persons on both sides and are matched by e-mail on the first sync.
    const offset = p.seed * 200;
    for (let n = 0; n < 60; n++)
      await app.repos.contacts.add(user.id, gen.contact(offset + n, `firm-${p.login}`));
    for (let n = 40; n < 100; n++) {
      const c = gen.contact(offset + n, `phone-${p.login}`);
      await book.create(c.uid, contactCodec.serialize(c));
    }
    const events = Array.from({ length: 35 }, (_, n) => gen.appointment(n, `evt-${p.login}`, now));
    const calendar = await mailbox.collection('calendar');
    for (const e of events.slice(0, 20)) await app.repos.appointments.add(user.id, e);
    for (const e of events.slice(15)) await calendar.create(e.uid, appointmentCodec.serialize(e));
  }
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a demo firm (SQLite + vdir mailboxes) and run a complete, then an express sync')
    .option('--dir <dir>', 'where the demo lives', 'demo')
    .option('--json', 'print the reports as JSON only')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const dir = resolve(opts.dir);
      const dbFile = join(dir, 'liaison.db');
      const fresh = !existsSync(dbFile);
      await mkdir(dir, { recursive: true });
      const app = await openApp(dbFile);
      const reports: RunReport[] = [];
      try {
        if (fresh) await seed(app, join(dir, 'mailboxes'));
        for (const mode of ['complete', 'express'] as const) {
          const progress = progressReporter(!opts.json);
          reports.push(
            await runMailboxSync(
              app.syncDeps(progress.onProgress),
              { users: 'all', servers: [], groups: [], scope: 'both' },
              { ...DEFAULT_SETTINGS, mode },
            ).finally(progress.stop),
          );
        }
      } finally {
        await app.close();
      }
      if (opts.json) await printJson(reports);
      else {
        say(`${fresh ? 'Created' : 'Reused'} the demo firm in ${dir}`);
        say(`  firm database: ${dbFile}`);
        say(`  mailboxes:     ${join(dir, 'mailboxes')} (one folder per user: contacts/, calendar/)`);
        for (const r of reports) process.stdout.write(`\n${renderReport(r)}`);
        say(`\nExplore it: npx liaison --db ${dbFile} status`);
      }
    });
}
