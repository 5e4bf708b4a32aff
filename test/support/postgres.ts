/**
 * A throwaway PostgreSQL cluster for the test run: initdb into a temporary folder, a free
 * port on 127.0.0.1, the unix socket inside the folder, fsync off. PostgreSQL refuses to
 * run as root, so when the tests run as root (CI does) the server runs as `nobody`, or as
 * a system user created for it when `nobody` is missing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the run's PostgreSQL cluster; '' when it could not start. */
    postgresUrl: string;
    /** Why the cluster could not start; '' when it runs. */
    postgresError: string;
  }
}

/** Points the tests at an existing server instead of starting one. */
export const EXTERNAL_URL_VARIABLE = 'LIAISON_TEST_POSTGRES_URL';
/** Folder holding `initdb` and `postgres`, when they are not where Debian puts them. */
export const BIN_VARIABLE = 'LIAISON_PG_BIN';

export interface PostgresCluster {
  /** Superuser URL of the `postgres` database. */
  readonly url: string;
  stop(): Promise<void>;
}

/** The folder with initdb and postgres, or an error telling how to get them. */
export function findPostgresBin(): string {
  const tried: string[] = [];
  const has = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  const fromEnv = process.env[BIN_VARIABLE];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (has(fromEnv)) return fromEnv;
    tried.push(fromEnv);
  }
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const dir = join(debian, v, 'bin');
      if (has(dir)) return dir;
      tried.push(dir);
    }
  }
  for (const dir of (process.env.PATH ?? '').split(':').filter((d) => d !== '')) {
    if (has(dir)) return dir;
  }
  tried.push(`${debian}/<version>/bin`, 'PATH');
  throw new Error(
    `PostgreSQL server binaries (initdb, postgres) not found in ${tried.join(', ')}. ` +
      `Install the Debian package "postgresql" (.ci/run does), set ${BIN_VARIABLE} to their folder, ` +
      `or set ${EXTERNAL_URL_VARIABLE} to a superuser URL of an existing server.`,
  );
}

interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

/** Root cannot run PostgreSQL: pick an unprivileged account, creating one if need be. */
function unprivilegedAccount(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = (name: string): RunAs | undefined => {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const nobody = lookup('nobody');
  if (nobody !== undefined) return nobody;
  const name = 'liaison-pg';
  if (lookup(name) === undefined) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name]);
  }
  const created = lookup(name);
  if (created === undefined) throw new Error(`Could not create the system user ${name} to run PostgreSQL`);
  return created;
}

/** A temporary folder the server account can reach: every parent must be searchable by others. */
function tempBase(runAs: RunAs | undefined): string {
  const base = tmpdir();
  if (runAs === undefined) return base;
  for (let dir = base; ; dir = dirname(dir)) {
    if ((statSync(dir).mode & 0o001) === 0) return '/tmp';
    if (dirname(dir) === dir) return base;
  }
}

async function freePort(): Promise<number> {
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

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

async function waitUntilReady(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `PostgreSQL exited while starting (${child.exitCode ?? child.signalCode}):\n${tail(log)}`,
      );
    }
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (e) {
      if (Date.now() > deadline)
        throw new Error(`PostgreSQL did not accept connections in 30 s: ${e}\n${tail(log)}`);
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // SIGINT is PostgreSQL's "fast" shutdown: sessions are ended, no checkpoint wait.
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts a cluster (or returns the server named by LIAISON_TEST_POSTGRES_URL). Throws
 * with a message saying what is missing when it cannot.
 */
export async function startPostgres(): Promise<PostgresCluster> {
  const external = process.env[EXTERNAL_URL_VARIABLE];
  if (external !== undefined && external !== '') return { url: external, stop: async () => {} };

  const bin = findPostgresBin();
  const runAs = unprivilegedAccount();
  const root = mkdtempSync(join(tempBase(runAs), 'liaison-pg-'));
  const data = join(root, 'data');
  const sockets = join(root, 'sockets');
  const log = join(root, 'postgres.log');
  mkdirSync(sockets);
  if (runAs !== undefined) for (const p of [root, sockets]) chownSync(p, runAs.uid, runAs.gid);
  const spawnOptions = { cwd: root, env: { ...process.env, LC_ALL: 'C', LANG: 'C' }, ...(runAs ?? {}) };

  try {
    execFileSync(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      { ...spawnOptions, stdio: 'pipe' },
    );
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? String(e);
    rmSync(root, { recursive: true, force: true });
    throw new Error(`initdb failed: ${stderr}`);
  }

  // A port can be taken between probing and binding: try a few.
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const logFd = openSync(log, 'a');
    if (runAs !== undefined) chownSync(log, runAs.uid, runAs.gid);
    const child = spawn(
      join(bin, 'postgres'),
      [
        ['-D', data],
        ['-p', String(port)],
        ['-k', sockets],
        ['-c', 'listen_addresses=127.0.0.1'],
        // Durability is worthless for a throwaway cluster; speed is not.
        ['-c', 'fsync=off'],
        ['-c', 'synchronous_commit=off'],
        ['-c', 'full_page_writes=off'],
        ['-c', 'max_connections=200'],
      ].flat(),
      { ...spawnOptions, stdio: ['ignore', logFd, logFd] },
    );
    closeSync(logFd);
    // If the test runner exits without its teardown, do not leave the server behind.
    const onExit = () => child.kill('SIGQUIT');
    process.once('exit', onExit);
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    try {
      await waitUntilReady(url, child, log);
    } catch (e) {
      await stopChild(child);
      process.removeListener('exit', onExit);
      if (attempt < 3 && /could not bind|address already in use/i.test(tail(log))) continue;
      rmSync(root, { recursive: true, force: true });
      throw e;
    }
    return {
      url,
      async stop() {
        await stopChild(child);
        process.removeListener('exit', onExit);
        rmSync(root, { recursive: true, force: true });
      },
    };
  }
}

/** A fresh, empty database on the cluster at `adminUrl`; `drop` removes it. */
export async function createDatabase(
  adminUrl: string,
  prefix = 'liaison_test',
): Promise<{ readonly url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`create database "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    // FORCE (PostgreSQL 13+) ends sessions a failed test may have left open.
    drop: () => admin(`drop database if exists "${name}" with (force)`),
  };
}
