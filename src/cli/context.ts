import { existsSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { redactUrl } from '../db/index.js';
import { LiaisonError } from '../domain/errors.js';
import { type App, openApp } from '../main.js';

/** The firm database URL: `--db`, else env LIAISON_DB, else ./liaison.db. */
export function dbUrl(cmd: Command): string {
  const opts = cmd.optsWithGlobals<{ db?: string }>();
  return opts.db ?? process.env.LIAISON_DB ?? './liaison.db';
}

function isSqliteFile(url: string): string | null {
  if (/^postgres(ql)?:\/\//i.test(url) || url === ':memory:') return null;
  return url.replace(/^sqlite:/, '').replace(/^file:(\/\/)?/, '');
}

/**
 * Runs `fn` with the application opened on the command's database. Every command but
 * `init` refuses a SQLite file that does not exist yet, so a mistyped path is reported
 * instead of silently creating an empty database.
 */
export async function withApp<T>(cmd: Command, fn: (app: App) => Promise<T>, create = false): Promise<T> {
  const url = dbUrl(cmd);
  const file = isSqliteFile(url);
  if (!create && file !== null && !existsSync(file)) {
    throw new LiaisonError(
      'Config',
      `there is no firm database at ${redactUrl(file)}: run \`liaison init --db ${redactUrl(file)}\` first`,
    );
  }
  const app = await openApp(url);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Parses `on` / `off`. */
export function onOff(value: string): boolean {
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new InvalidArgumentError('expected on or off');
}

/** Collects a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Parses one of a closed set of words. */
export function oneOf<T extends string>(...allowed: T[]) {
  return (value: string): T => {
    if ((allowed as string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
  };
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** A listing limit: a whole number of at least one (a limit of 0 would list nothing). */
export function limitOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}
