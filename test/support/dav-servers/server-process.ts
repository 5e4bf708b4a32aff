/**
 * Starting and stopping a DAV server program for the tests: each runs as the leader of a
 * process group of its own on a free port of 127.0.0.1, so stopping it ends every process
 * it started; an exit hook kills the group if the test runner dies without its teardown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Where throwaway server data goes: /dev/shm when there is one (Radicale and Xandikos fsync
 * every write, which a memory file system makes free), else the temporary directory.
 */
export function scratchBase(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/**
 * The path of program `name`: the one `variable` names, else the first on PATH (or in
 * /usr/bin, /usr/sbin). Throws an error naming the Debian package to install when there is
 * none, so a test that needs the server fails saying what to do — it never skips.
 */
export function findProgram(name: string, debianPackage: string, variable: string): string {
  const fromEnv = process.env[variable];
  const candidates =
    fromEnv !== undefined && fromEnv !== ''
      ? [fromEnv]
      : [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/sbin']
          .filter((dir) => dir !== '')
          .map((dir) => join(dir, name));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${name} not found (looked at ${fromEnv ? fromEnv : 'PATH, /usr/bin, /usr/sbin'}): install the Debian package "${debianPackage}" (.ci/run does), or set ${variable} to the program's path`,
  );
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running server program. */
export interface ServerProcess {
  readonly child: ChildProcess;
  /** Ends the whole process group: SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** Ends the whole process group at once with SIGKILL (a crash), and waits for the leader to exit. */
  kill(): Promise<void>;
}

/** Starts `program` in a process group of its own, its output appended to `log`. */
export function startProcess(program: string, args: readonly string[], log: string): ServerProcess {
  const fd = openSync(log, 'a');
  const child = spawn(program, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const kill = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => kill('SIGKILL');
  process.once('exit', onExit);
  const ended = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    async kill() {
      process.removeListener('exit', onExit);
      if (ended()) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      kill('SIGKILL');
      await gone;
    },
    async stop() {
      process.removeListener('exit', onExit);
      if (ended()) {
        kill('SIGKILL');
        return;
      }
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      // Children the leader started and left behind.
      kill('SIGKILL');
    },
  };
}

/** Waits until `url` answers HTTP at all (any status), or fails with the log's tail. */
export async function waitForHttp(
  url: string,
  server: ServerProcess,
  log: string,
  what: string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { child } = server;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited while starting (${child.exitCode ?? child.signalCode}):\n${tail(log)}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return;
    } catch (e) {
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`${what} did not answer at ${url} within 30 s: ${e}\n${tail(log)}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2_000);
  } catch {
    return '';
  }
}
