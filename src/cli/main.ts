import { Command, CommanderError } from 'commander';
import { isConnectionLost } from '../db/sql-errors.js';
import { errorMessage, isLiaisonError, LiaisonError } from '../domain/errors.js';
import { EXIT } from '../sync/report.js';
import { registerAppointments } from './appointments-command.js';
import { registerContacts } from './contacts-command.js';
import { registerCredentials } from './credentials-command.js';
import { registerDemo } from './demo-command.js';
import { registerFirm } from './firm-command.js';
import { registerFirmSync } from './firm-sync-command.js';
import { registerHeld } from './held-command.js';
import { registerInit } from './init-command.js';
import { registerJournal } from './journal-command.js';
import { registerRecover } from './recover-command.js';
import { registerReview } from './review-command.js';
import { registerServer } from './server-command.js';
import { registerStatus } from './status-command.js';
import { registerSync } from './sync-command.js';
import { registerUser } from './user-command.js';

function buildProgram(json: boolean): Command {
  const program = new Command('liaison')
    .description("Two-way sync between the firm database and every user's mailbox")
    .option(
      '--db <url>',
      'firm database: a SQLite file or a postgres:// URL (default: env LIAISON_DB, else ./liaison.db)',
    )
    .exitOverride();
  withUsageOnError(program, json);
  registerInit(program);
  registerServer(program);
  registerCredentials(program);
  registerUser(program);
  registerContacts(program);
  registerAppointments(program);
  registerSync(program);
  registerStatus(program);
  registerHeld(program);
  registerRecover(program);
  registerFirmSync(program);
  registerFirm(program);
  registerReview(program);
  registerJournal(program);
  registerDemo(program);
  // Every command answers a bad flag with the one-line error and its usage line (exit 2).
  const inherit = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub.exitOverride();
      withUsageOnError(sub, json);
      inherit(sub);
    }
  };
  inherit(program);
  return program;
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** A bad flag is answered with the one-line error and the usage line; with `--json`, as JSON only (see `main`). */
function withUsageOnError(cmd: Command, json: boolean): void {
  cmd.configureOutput({
    outputError: (text, write) => {
      if (json) return;
      write(
        `${text.trim()}\nUsage: ${commandPath(cmd)} ${cmd.usage()}\n(run \`${commandPath(cmd)} --help\` for details)\n`,
      );
    },
  });
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code:
 * 0 done; 1 an error; 2 bad arguments; 3 some users skipped or held; 4 some users failed.
 */
export async function main(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined;
  // A script that asked for JSON gets its error as JSON, on stdout, and nothing else.
  const json = argv.includes('--json');
  const program = buildProgram(json);
  // The command being run, so a usage error found by its action still prints its usage line.
  let running: Command = program;
  program.hook('preAction', (_this, action) => {
    running = action;
  });
  const jsonError = (kind: string, message: string) =>
    process.stdout.write(`${JSON.stringify({ error: { kind, message } })}\n`);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (caught) {
    // A database that went away mid-command (PostgreSQL stopped) is said as such, not as a bare socket error.
    const e =
      !isLiaisonError(caught) && isConnectionLost(caught)
        ? new LiaisonError(
            'Database',
            `the firm database could not be reached during the command (${errorMessage(caught)}): what was under way was not kept, and the next run takes it up`,
            { cause: caught },
          )
        : caught;
    if (e instanceof CommanderError) {
      // Commander already printed the help, or the one-line error and the usage hint.
      if (e.exitCode === 0) return EXIT.ok;
      if (json) jsonError('Usage', e.message.replace(/^error: /, ''));
      return EXIT.usage;
    }
    if (json) {
      jsonError(isLiaisonError(e) ? e.kind : 'Internal', errorMessage(e));
      return isLiaisonError(e, 'Usage') ? EXIT.usage : EXIT.error;
    }
    if (isLiaisonError(e, 'Usage')) {
      const path = commandPath(running);
      process.stderr.write(
        `error: ${e.message}\nUsage: ${path} ${running.usage()}\n(run \`${path} --help\` for details)\n`,
      );
      return EXIT.usage;
    }
    process.stderr.write(`liaison: ${errorMessage(e)}\n`);
    return EXIT.error;
  }
}
