import type { Command } from 'commander';
import { isLiaisonError, LiaisonError } from '../domain/errors.js';
import type { UserId } from '../domain/ids.js';
import {
  type FirmSyncDeps,
  getFirmContact,
  type JournalLine,
  listJournal,
  undoJournal,
} from '../firm/index.js';
import type { App } from '../main.js';
import { limitOf, withApp } from './context.js';
import { changeText } from './firm-text.js';
import { printJson, printTable, say } from './output.js';

/** Listings are for reading at a terminal: the newest lines first, this many unless told. */
const DEFAULT_LIMIT = 100;

interface JournalFlags {
  user?: string;
  firmContact?: string;
  run?: string;
  limit?: number;
  json?: boolean;
}

/** Journal lines name users by id; listings show their logins. */
async function loginsOf(deps: FirmSyncDeps, lines: readonly JournalLine[]): Promise<Map<UserId, string>> {
  const ids = [...new Set(lines.map((l) => l.user).filter((u): u is UserId => u !== null))];
  return new Map((await deps.users.byIds(ids)).map((u) => [u.id, u.login]));
}

/** `liaison journal [filters]` and `liaison journal undo ENTRY`. */
export function registerJournal(program: Command): void {
  const journal = program
    .command('journal')
    .description(
      'the change journal, newest first: what firm sync, mailbox sync and administrators changed (before and after)',
    )
    .option('--user <login>', "only lines about this user's contacts")
    .option('--firm-contact <id>', 'only lines about this firm contact')
    .option('--run <run>', 'only lines written by this run (the run id in a sync or firm-sync report)')
    .option('--limit <n>', `at most N lines (default ${DEFAULT_LIMIT})`, limitOf)
    .option('--json', 'print JSON only')
    .action(async (opts: JournalFlags, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const deps = app.firmDeps();
        const lines = await listJournal(deps, {
          ...(opts.user !== undefined ? { user: opts.user } : {}),
          ...(opts.firmContact !== undefined ? { firmContactId: opts.firmContact } : {}),
          ...(opts.run !== undefined ? { runId: opts.run } : {}),
          limit: opts.limit ?? DEFAULT_LIMIT,
        });
        if (lines.length === 0) await refuseUnknown(app, opts);
        const logins = await loginsOf(deps, lines);
        const loginOf = (l: JournalLine) => (l.user === null ? null : (logins.get(l.user) ?? l.user));
        if (opts.json) {
          await printJson(lines.map((l) => ({ ...l, login: loginOf(l) })));
          return;
        }
        printTable(
          ['ID', 'AT', 'ACTOR', 'RUN', 'ACTION', 'USER', 'FIRM CONTACT', 'CHANGE', 'NOTE'],
          lines.map((l) => [
            l.id,
            l.at,
            l.actor,
            l.runId ?? '',
            l.direction === 'up' || l.direction === 'down' ? `${l.action} (${l.direction})` : l.action,
            loginOf(l) ?? '',
            l.firmContactId ?? '',
            changeText(l.before, l.after),
            l.note,
          ]),
        );
      });
    });

  journal
    .command('undo')
    .description(
      "undo one firm sync change: put back the entry's before values (refused when a newer change touched the same thing; undo that one first)",
    )
    .argument('<entry>', 'journal entry id (see `liaison journal`)')
    .option('--json', 'print JSON only')
    .action(async (entry: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const outcome = await undoJournal(app.firmDeps(), entry);
        const { undone, reconnected, pendingUp } = outcome;
        if (opts.json) await printJson(outcome);
        else {
          say(`Undid journal entry ${undone.id} (${undone.action} by ${undone.actor}, ${undone.at})`);
          const change = changeText(undone.after, undone.before);
          if (change !== '') say(`  restored ${change}`);
          if (undone.action === 'contact-update') {
            say("  the next mailbox sync carries the restored values to the user's mailbox");
          }
          if (undone.action === 'firm-delete' || reconnected.length > 0) {
            say(
              `  ${reconnected.length} user contact(s) connected to firm contact ${undone.firmContactId} again`,
            );
          }
          if (pendingUp.length > 0) {
            say(
              `  ${pendingUp.length} of them edited while disconnected: the next firm-sync up step takes those edits to the firm contact`,
            );
          }
        }
      });
    });
}

/**
 * An empty answer for a firm contact or run that never existed is a typing mistake,
 * not "nothing happened": say so (exit 2), as for an unknown user.
 */
async function refuseUnknown(app: App, opts: JournalFlags): Promise<void> {
  if (opts.run !== undefined && !(await app.repos.runs.get(opts.run))) {
    throw new LiaisonError('Usage', `unknown run ${opts.run}: run ids are in sync and firm-sync reports`);
  }
  if (opts.firmContact !== undefined) {
    try {
      await getFirmContact(app.firmDeps(), opts.firmContact);
    } catch (e) {
      if (isLiaisonError(e, 'Usage') || isLiaisonError(e, 'NotFound')) {
        throw new LiaisonError(
          'Usage',
          `unknown firm contact ${opts.firmContact}: see \`liaison firm list\``,
        );
      }
      throw e;
    }
  }
}
