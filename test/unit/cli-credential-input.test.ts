import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { authFromFlags, promptHidden, secretFromEnv } from '../../src/cli/credential-input.js';
import { isLiaisonError } from '../../src/domain/errors.js';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isLiaisonError(e, 'Usage')) return e.message;
    throw e;
  }
  throw new Error('expected a Usage error');
}

async function usageMessageAsync(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (isLiaisonError(e, 'Usage')) return e.message;
    throw e;
  }
  throw new Error('expected a Usage error');
}

describe('secrets from the environment', () => {
  it('reads the variable a flag names', () => {
    expect(secretFromEnv('--password-env', 'DAV_PW', { DAV_PW: 's3cret' })).toBe('s3cret');
  });

  it('names a missing conventional variable, and never echoes what may be the password itself', () => {
    expect(usageMessage(() => secretFromEnv('--password-env', 'DAV_PW', {}))).toContain('DAV_PW');
    expect(usageMessage(() => secretFromEnv('--password-env', 'DAV_PW', { DAV_PW: '' }))).toContain('DAV_PW');
    const typed = usageMessage(() => secretFromEnv('--password-env', 'Summer2024', {}));
    expect(typed).not.toContain('Summer2024');
    const notAName = usageMessage(() => secretFromEnv('--password-env', 'p@ss word!', {}));
    expect(notAName).not.toContain('p@ss');
    expect(notAName).toMatch(/NAME of an environment variable/);
  });
});

describe('credential flags', () => {
  const env = process.env;

  it('turns flags into basic, bearer or no auth', async () => {
    env.LIAISON_TEST_PW = 'pw';
    env.LIAISON_TEST_TOKEN = 'tok';
    try {
      expect(await authFromFlags({ username: 'svc', passwordEnv: 'LIAISON_TEST_PW' }, 'server x')).toEqual({
        kind: 'basic',
        username: 'svc',
        password: 'pw',
      });
      expect(await authFromFlags({ tokenEnv: 'LIAISON_TEST_TOKEN' }, 'server x')).toEqual({
        kind: 'bearer',
        token: 'tok',
      });
      expect(await authFromFlags({ auth: false }, 'server x')).toEqual({ kind: 'none' });
      expect(await authFromFlags({ auth: true }, 'server x')).toBeUndefined();
      // Only the password changes: the known username is kept.
      expect(await authFromFlags({ passwordEnv: 'LIAISON_TEST_PW' }, 'server x', 'svc')).toMatchObject({
        username: 'svc',
      });
    } finally {
      delete env.LIAISON_TEST_PW;
      delete env.LIAISON_TEST_TOKEN;
    }
  });

  it('refuses contradictory flags and a password that can be neither read nor prompted for', async () => {
    expect(await usageMessageAsync(authFromFlags({ auth: false, username: 'svc' }, 'x'))).toMatch(
      /--no-auth/,
    );
    expect(await usageMessageAsync(authFromFlags({ tokenEnv: 'T', username: 'svc' }, 'x'))).toMatch(
      /--token-env/,
    );
    expect(await usageMessageAsync(authFromFlags({ passwordEnv: 'P' }, 'x'))).toMatch(/needs --username/);
    // Vitest's stdin is not a terminal, so there is nobody to prompt.
    expect(await usageMessageAsync(authFromFlags({ username: 'svc' }, 'x'))).toMatch(/--password-env/);
  });
});

describe('promptHidden', () => {
  function terminal() {
    const input = Object.assign(new PassThrough(), {
      raw: [] as boolean[],
      setRawMode(mode: boolean) {
        input.raw.push(mode);
      },
    });
    const output = new PassThrough();
    let shown = '';
    output.on('data', (d: Buffer) => {
      shown += d.toString();
    });
    return { input, output, shown: () => shown };
  }

  it('reads a line in raw mode without echoing it, honouring backspace', async () => {
    const t = terminal();
    const answer = promptHidden('Password: ', t.input, t.output);
    t.input.write('s3x\u007fcret');
    t.input.write('\r');
    expect(await answer).toBe('s3cret');
    expect(t.input.raw).toEqual([true, false]);
    expect(t.shown()).toBe('Password: \n');
  });

  it('cancels on Ctrl-C', async () => {
    const t = terminal();
    const answer = promptHidden('Password: ', t.input, t.output);
    t.input.write('abc\u0003');
    expect(await usageMessageAsync(answer)).toMatch(/cancelled/);
    expect(t.input.raw).toEqual([true, false]);
  });
});
