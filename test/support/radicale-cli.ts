import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { liaison } from './cli.js';
import type { RadicaleServer } from './dav-servers/radicale.js';

/**
 * The environment a CLI test runs with against Radicale: its database in `dir`, a secret
 * key in the environment (no key file is made, and the tester's own key stays out of
 * reach), a home of its own, and Radicale's service password in DAV_PW.
 */
export function radicaleCliEnv(radicale: RadicaleServer, dir: string): Record<string, string> {
  return {
    LIAISON_DB: join(dir, 'firm.db'),
    LIAISON_SECRET_KEY: randomBytes(32).toString('base64'),
    LIAISON_SECRET_KEY_FILE: '',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'xdg'),
    DAV_PW: radicale.password,
  };
}

/**
 * A firm database set up through the CLI in `dir`, as an administrator would: a DAV server
 * named `radicale` at `url` (Radicale itself, or a proxy in front of it) with Radicale's
 * service account, and user alice on it with the given collections made. Returns the
 * environment the CLI runs with.
 */
export async function aliceOnRadicale(
  radicale: RadicaleServer,
  url: string,
  dir: string,
  sync: { readonly contacts: boolean; readonly calendar: boolean },
): Promise<Record<string, string>> {
  const env = radicaleCliEnv(radicale, dir);
  const onOff = (on: boolean) => (on ? 'on' : 'off');
  const steps = [
    ['init'],
    ['server', 'add', 'radicale', '--kind', 'dav', '--url', url, '--username', radicale.username],
    ['user', 'add', 'alice', '--name', 'Alice Adams', '--server', 'radicale', '--mailbox', 'alice'],
  ];
  steps[1]!.push('--password-env', 'DAV_PW');
  steps[2]!.push(
    '--contacts',
    onOff(sync.contacts),
    '--calendar',
    onOff(sync.calendar),
    '--create-collections',
  );
  for (const step of steps) {
    const r = await liaison(step, env);
    if (r.code !== 0) throw new Error(`liaison ${step.join(' ')}: ${r.code} ${r.stderr}`);
  }
  return env;
}

/** Writes a vCard into alice's address book on the server, as her phone would. */
export async function putContact(radicale: RadicaleServer, name: string, text: string): Promise<void> {
  const response = await fetch(new URL(`/alice/contacts/${name}`, radicale.url), {
    method: 'PUT',
    headers: {
      authorization: `Basic ${Buffer.from(`${radicale.username}:${radicale.password}`).toString('base64')}`,
      'content-type': 'text/vcard; charset=utf-8',
    },
    body: text,
  });
  if (response.status !== 201 && response.status !== 204) throw new Error(`PUT ${name}: ${response.status}`);
}
