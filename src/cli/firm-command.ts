import type { Command } from 'commander';
import { asFirmContactId } from '../domain/ids.js';
import {
  deleteFirmContact,
  type FirmContactDetail,
  type FirmSyncDeps,
  getFirmContact,
  listFirmContacts,
  mergeFirmContacts,
} from '../firm/index.js';
import { limitOf, withApp } from './context.js';
import { nameOf, sourceText, valueText } from './firm-text.js';
import { printJson, printTable, say } from './output.js';

/** The names of the candidates a possible duplicate was flagged with (deleted ones are gone from the list). */
async function candidateNames(deps: FirmSyncDeps, detail: FirmContactDetail): Promise<string[]> {
  const ids = detail.firmContact.candidates;
  const found = await deps.store.firmContacts(ids);
  return ids.map((id) => {
    const f = found.get(id);
    return f === undefined ? id : `${id} (${nameOf(f.fields)})`;
  });
}

function printDetail(detail: FirmContactDetail, candidates: readonly string[]): void {
  const f = detail.firmContact;
  say(`Firm contact ${f.id}: ${nameOf(f.fields)}`);
  say(`  created ${f.createdAt}, updated ${f.updatedAt}`);
  if (f.possibleDuplicate) {
    say(`  POSSIBLE DUPLICATE of: ${candidates.join(', ') || '(candidates since deleted)'}`);
    say('  compare them with `liaison firm show ID`; `liaison firm merge KEEP OTHER` makes them one');
  }
  say('');
  // Every firm field with a value (the store keeps them in display order), and who set it.
  const rows = Object.keys(f.fields)
    .filter((k) => valueText(f.fields[k]) !== '')
    .map((k) => {
      const s = sourceText(f.provenance[k]);
      return [k, valueText(f.fields[k]), s.by, s.run, s.at];
    });
  printTable(['FIELD', 'VALUE', 'SET BY', 'RUN', 'AT'], rows);
  say('');
  say(`Connected user contacts (${detail.connected.length}):`);
  printTable(
    ['USER', 'USER CONTACT', 'UID', 'NAME'],
    detail.connected.map((c) => [c.login, c.userContactId, c.uid, c.formattedName]),
  );
}

/** `liaison firm list | show | merge | delete`: the firm contact list, the firm's master record of each person. */
export function registerFirm(program: Command): void {
  const firm = program
    .command('firm')
    .description("firm contacts: the firm's list of people, fed by every user's contacts (see firm-sync)");

  firm
    .command('list')
    .description('list firm contacts, newest first')
    .option(
      '--search <text>',
      'only those whose name, organization or e-mail contains TEXT (case and accents ignored)',
    )
    .option('--limit <n>', 'at most N (default 100)', limitOf)
    .option('--json', 'print JSON only')
    .action(async (opts: { search?: string; limit?: number; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const list = await listFirmContacts(app.firmDeps(), {
          ...(opts.search !== undefined ? { search: opts.search } : {}),
          ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
        });
        if (opts.json) await printJson(list);
        else {
          printTable(
            ['ID', 'NAME', 'ORGANIZATION', 'E-MAIL', 'CONNECTED', 'POSSIBLE DUPLICATE OF'],
            list.map((f) => [
              f.id,
              f.formattedName,
              f.organization,
              f.emails.join(', '),
              String(f.connected),
              f.possibleDuplicate ? f.candidates.join(', ') : '',
            ]),
          );
        }
      });
    });

  firm
    .command('show')
    .description('a firm contact: its fields, who set each one and in which run, its connected user contacts')
    .argument('<id>', 'firm contact id')
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const deps = app.firmDeps();
        const detail = await getFirmContact(deps, id);
        const candidates = await candidateNames(deps, detail);
        if (opts.json) await printJson({ ...detail.firmContact, connected: detail.connected });
        else printDetail(detail, candidates);
      });
    });

  firm
    .command('merge')
    .description(
      "merge OTHER into KEEP: field by field (KEEP's value wins, e-mails and numbers are united); OTHER's user contacts move to KEEP; OTHER is deleted",
    )
    .argument('<keep>', 'the firm contact to keep')
    .argument('<other>', 'the firm contact merged into it and deleted')
    .option('--json', 'print JSON only')
    .action(async (keep: string, other: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const outcome = await mergeFirmContacts(app.firmDeps(), keep, other);
        if (opts.json) await printJson(outcome);
        else {
          say(
            `Merged firm contact ${outcome.removed} into ${outcome.kept}: ${outcome.fieldsChanged.length > 0 ? `took ${outcome.fieldsChanged.join(', ')}` : 'no field changed'}; ${outcome.reconnected} user contact(s) reconnected`,
          );
          say(
            'The next `liaison firm-sync --step down` brings the merged values to every connected user contact.',
          );
        }
      });
    });

  firm
    .command('delete')
    .description('delete a firm contact; its user contacts are disconnected and users keep their copies')
    .argument('<id>', 'firm contact id')
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const deps = app.firmDeps();
        // Read first for the name in the message; the delete checks again in its transaction.
        const before = await getFirmContact(deps, id);
        const outcome = await deleteFirmContact(deps, asFirmContactId(id));
        if (opts.json) await printJson(outcome);
        else {
          say(
            `Deleted firm contact ${outcome.deleted} (${nameOf(before.firmContact.fields)}); ${outcome.disconnected} user contact(s) disconnected, their copies kept`,
          );
        }
      });
    });
}
