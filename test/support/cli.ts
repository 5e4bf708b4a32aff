import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/liaison.mjs', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real `liaison` command in a child process, the way an administrator does.
 * It needs the build output: `npm test` builds before running the tests.
 */
export function liaison(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  if (!existsSync(ENTRY))
    throw new Error('dist/ is missing: run `npm run build` (npm test does it) before these tests');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs `liaison … --json` and parses its output; fails loudly with stderr when it is not JSON. */
export async function liaisonJson<T = unknown>(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; json: T; stderr: string }> {
  const r = await liaison([...args, '--json'], env);
  try {
    return { code: r.code, json: JSON.parse(r.stdout) as T, stderr: r.stderr };
  } catch {
    throw new Error(`liaison ${args.join(' ')} printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
