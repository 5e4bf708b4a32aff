import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { LiaisonError } from '../domain/errors.js';
import { oneOf, withApp } from './context.js';
import { printJson, printTable, say } from './output.js';

export function registerServer(program: Command): void {
  const server = program.command('server').description('mailbox servers');

  server
    .command('add')
    .description('add a mailbox server')
    .argument('<name>', 'a name for the server')
    .requiredOption('--kind <kind>', 'vdir (a folder of mailboxes)', oneOf('vdir', 'dav'))
    .requiredOption('--url <url>', 'for vdir: the folder holding one folder per mailbox')
    .option('--json', 'print JSON only')
    .action(
      async (name: string, opts: { kind: 'vdir' | 'dav'; url: string; json?: boolean }, cmd: Command) => {
        if (opts.kind === 'dav') {
          throw new LiaisonError(
            'Usage',
            'CardDAV/CalDAV servers are not supported by this version yet; use --kind vdir',
          );
        }
        const url = resolve(opts.url);
        await mkdir(url, { recursive: true });
        await withApp(cmd, async (app) => {
          const rec = await app.repos.servers.add({ name, kind: opts.kind, url });
          if (opts.json) printJson(rec);
          else say(`Added mailbox server ${rec.name} (${rec.kind}, ${rec.url})`);
        });
      },
    );

  server
    .command('list')
    .description('list mailbox servers')
    .option('--json', 'print JSON only')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await app.repos.servers.list();
        if (opts.json) printJson(list);
        else
          printTable(
            ['NAME', 'KIND', 'URL'],
            list.map((s) => [s.name, s.kind, s.url]),
          );
      });
    });
}
