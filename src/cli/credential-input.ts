import type { Readable, Writable } from 'node:stream';
import { LiaisonError } from '../domain/errors.js';
import type { DavAuth } from '../mailbox/dav/dav-config.js';
import type { App } from '../main.js';
import { SecretKeySource } from '../secrets/secret-key.js';
import { ServerCredentials } from '../secrets/server-credentials.js';

/** The credential flags of `server add|set` and `user add|set`, as commander parses them. */
export interface CredentialFlags {
  readonly username?: string;
  readonly passwordEnv?: string;
  readonly tokenEnv?: string;
  /** false when `--no-auth` was given. */
  readonly auth?: boolean;
}

/** Whether any credential flag was given. */
export function hasCredentialFlags(flags: CredentialFlags): boolean {
  return (
    flags.username !== undefined ||
    flags.passwordEnv !== undefined ||
    flags.tokenEnv !== undefined ||
    flags.auth === false
  );
}

/** The credentials service over the app's repositories; says on stderr when it creates the key file. */
export function credentialsOf(app: App): ServerCredentials {
  const keys = new SecretKeySource({
    onCreated: (path) =>
      process.stderr.write(
        `liaison: created the secret key file ${path} (mode 0600). Back it up apart from the database: without it the stored credentials cannot be read.\n`,
      ),
  });
  return new ServerCredentials(app.repos, keys);
}

/**
 * Reads a secret from the environment variable a flag names. Messages name the variable
 * only when it looks like one (capitals, digits, underscores): an administrator who typed
 * the password itself after `--password-env` must not see it echoed into a log.
 */
export function secretFromEnv(flag: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  const shown = /^[A-Z_][A-Z0-9_]*$/.test(name) ? name : `named by ${flag}`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new LiaisonError(
      'Usage',
      `${flag} takes the NAME of an environment variable holding the secret, not the secret itself`,
    );
  }
  const value = env[name];
  if (value === undefined || value === '') {
    throw new LiaisonError(
      'Usage',
      `the environment variable ${shown} is not set or is empty: export it first (${flag} VAR reads the secret from env VAR)`,
    );
  }
  return value;
}

/**
 * The credential the flags describe, or undefined when they give none. The password comes
 * from `--password-env VAR`, else from a prompt without echo when stdin is a terminal;
 * otherwise it is a `Usage` error. `knownUsername` is used when `--password-env` comes
 * without `--username` (changing only the password).
 */
export async function authFromFlags(
  flags: CredentialFlags,
  what: string,
  knownUsername: string | null = null,
): Promise<DavAuth | undefined> {
  const basic = flags.username !== undefined || flags.passwordEnv !== undefined;
  if (flags.auth === false && (basic || flags.tokenEnv !== undefined)) {
    throw new LiaisonError(
      'Usage',
      '--no-auth cannot be combined with --username, --password-env or --token-env',
    );
  }
  if (flags.tokenEnv !== undefined && basic) {
    throw new LiaisonError('Usage', '--token-env cannot be combined with --username or --password-env');
  }
  if (flags.auth === false) return { kind: 'none' };
  if (flags.tokenEnv !== undefined)
    return { kind: 'bearer', token: secretFromEnv('--token-env', flags.tokenEnv) };
  if (!basic) return undefined;
  const username = flags.username ?? knownUsername;
  if (username === null) throw new LiaisonError('Usage', '--password-env needs --username');
  if (flags.passwordEnv !== undefined) {
    return { kind: 'basic', username, password: secretFromEnv('--password-env', flags.passwordEnv) };
  }
  if (process.stdin.isTTY !== true) {
    throw new LiaisonError(
      'Usage',
      `no password given for ${username}: pass --password-env VAR with the password in env VAR (it is prompted for only when stdin is a terminal)`,
    );
  }
  const password = await promptHidden(`Password of ${username} on ${what}: `);
  return { kind: 'basic', username, password };
}

/** A terminal input: a readable stream that can be switched to raw mode. */
export interface TerminalInput extends Readable {
  setRawMode?(mode: boolean): unknown;
}

/**
 * Asks for a secret on the terminal without echoing it. The question goes to stderr so
 * that stdout stays clean for `--json`. Ctrl-C or Ctrl-D on an empty line cancels.
 */
export function promptHidden(
  question: string,
  input: TerminalInput = process.stdin,
  output: Writable = process.stderr,
): Promise<string> {
  output.write(question);
  input.setRawMode?.(true);
  input.setEncoding('utf8');
  input.resume();
  return new Promise((resolve, reject) => {
    let value: string[] = [];
    const finish = () => {
      input.off('data', onData);
      input.setRawMode?.(false);
      input.pause();
      output.write('\n');
    };
    const onData = (chunk: string) => {
      // Arrow and function keys arrive as escape sequences: ignore them whole.
      if (chunk.startsWith('\u001b')) return;
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(value.join(''));
          return;
        }
        if (ch === '\u0003' || (ch === '\u0004' && value.length === 0)) {
          finish();
          reject(new LiaisonError('Usage', 'cancelled: no password given'));
          return;
        }
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value.push(ch);
      }
    };
    input.on('data', onData);
  });
}
