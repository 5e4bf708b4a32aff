/**
 * Mailbox credentials: encrypts them on their way into the database, decrypts them into
 * the `DavServerConfig` the DAV adapter needs. Repositories only ever see encrypted text;
 * records, listings and messages never hold a password or token.
 */
import { inspect } from 'node:util';
import type {
  MailboxServerRecord,
  ServerRepo,
  StoredUserCredential,
  UserRecord,
  UserRepo,
} from '../db/index.js';
import { LiaisonError } from '../domain/errors.js';
import type { DavAuth, DavServerConfig } from '../mailbox/dav/dav-config.js';
import {
  type CollectionNames,
  checkCredential,
  checkDavUrl,
  davOptionsOf,
  withDavOptions,
} from './dav-server-options.js';
import { openSecret, sealedKeyId, sealSecret, WRONG_KEY_MESSAGE } from './sealed-secret.js';
import { SECRET_KEY_ENV, SECRET_KEY_FILE_ENV, type SecretKey, SecretKeySource } from './secret-key.js';

/** What to do when the key is gone for good. */
const LOST_KEY_HINT =
  'if that key is lost, `liaison credentials reset --yes` removes every stored password and token so that they can be entered again';

/** A credential a user can carry instead of the server's service account. */
export type UserCredential = Exclude<DavAuth, { readonly kind: 'none' }>;

/** A CardDAV/CalDAV server to add. */
export interface NewDavServer {
  readonly name: string;
  /** Where discovery starts; http(s), without credentials in it. */
  readonly url: string;
  /** The service account (allowed into every mailbox), or none. */
  readonly auth: DavAuth;
  readonly tlsSkipVerify?: boolean;
  /** The address book to sync in each mailbox instead of the user's default one. */
  readonly addressbook?: string;
  /** The calendar to sync in each mailbox instead of the user's default one. */
  readonly calendar?: string;
}

/** Changes to a DAV server; absent fields stay as they are, a null collection name goes back to the default. */
export interface DavServerChanges extends CollectionNames {
  readonly url?: string;
  readonly auth?: DavAuth;
  readonly tlsSkipVerify?: boolean;
}

/** The repositories the service reads and writes. */
export interface CredentialRepos {
  readonly servers: ServerRepo;
  readonly users: UserRepo;
}

/*
 * What each secret is bound to (authenticated, not stored): a server's secret to its name
 * and URL, a user's to their login and their server's name and URL. Editing a URL in the
 * database therefore cannot make Liaison send a password to another host.
 */
const serverBinding = (server: { name: string; url: string }) =>
  JSON.stringify(['mailbox_servers', server.name, server.url]);
const userBinding = (login: string, server: { name: string; url: string }) =>
  JSON.stringify(['users', login, server.name, server.url]);

/**
 * Stores and reads back the credentials of mailbox servers and users, encrypted at rest
 * with the key of a {@link SecretKeySource}. Before it encrypts anything it checks the key
 * against what is already stored, so a database never ends up holding secrets under two
 * keys, and a lost key file is reported instead of silently replaced.
 */
export class ServerCredentials {
  #storing: Promise<SecretKey> | undefined;

  constructor(
    private readonly repos: CredentialRepos,
    private readonly keys: SecretKeySource = new SecretKeySource(),
  ) {}

  /**
   * Adds a DAV server with its service account's credential encrypted, in one insert.
   * Throws `Usage` for a bad URL or credential, `AlreadyExists` for a taken name, `Config`
   * for a key problem.
   */
  async addDavServer(server: NewDavServer): Promise<MailboxServerRecord> {
    const url = checkDavUrl(server.url);
    checkCredential(server.auth);
    const secret = await this.#seal(server.auth, serverBinding({ name: server.name, url }));
    return this.repos.servers.add({
      name: server.name,
      kind: 'dav',
      url,
      options: withDavOptions({}, server.auth, server.tlsSkipVerify ?? false, {
        addressbook: server.addressbook ?? null,
        calendar: server.calendar ?? null,
      }),
      secret,
    });
  }

  /**
   * Changes a DAV server's URL, credential or TLS setting. A new URL re-encrypts the
   * stored secrets (the server's and its users') for it, in the same transaction.
   * Throws `NotFound` for an unknown server, `Usage` for a server that is not DAV.
   */
  async updateDavServer(name: string, changes: DavServerChanges): Promise<MailboxServerRecord> {
    const record = await this.#server(name);
    const options = davOptionsOf(record);
    const url = changes.url === undefined ? record.url : checkDavUrl(changes.url);
    if (changes.auth !== undefined) checkCredential(changes.auth);
    const moved = url !== record.url;
    const target = { name, url };

    let auth = changes.auth;
    const userSecrets: { login: string; secret: string }[] = [];
    if (moved) {
      // Decrypt everything bound to the old URL before writing anything.
      auth ??= await this.#serverAuth(record);
      for (const user of await this.repos.users.list({ server: name })) {
        if (!user.hasSecret) continue;
        const credential = await this.#userAuth(record, user);
        userSecrets.push({
          login: user.login,
          secret: await this.#sealUser(credential, userBinding(user.login, target)),
        });
      }
    }
    const secret = auth === undefined ? undefined : await this.#seal(auth, serverBinding(target));
    return this.repos.servers.update(name, {
      url,
      options: withDavOptions(
        record.options,
        auth ?? { kind: options.auth, username: options.username },
        changes.tlsSkipVerify ?? options.tlsSkipVerify,
        changes,
      ),
      ...(secret !== undefined ? { secret } : {}),
      userSecrets,
    });
  }

  /**
   * Encrypts a user's own credential for their DAV server, for `UserRepo.add`.
   * Throws `Usage` when the server is not DAV or the credential is malformed.
   */
  async sealUserCredential(
    server: MailboxServerRecord,
    login: string,
    credential: UserCredential,
  ): Promise<StoredUserCredential> {
    if (server.kind !== 'dav') {
      throw new LiaisonError(
        'Usage',
        `mailbox server ${server.name} is of kind ${server.kind}: its mailboxes take no credentials`,
      );
    }
    checkCredential(credential);
    const secret = await this.#sealUser(credential, userBinding(login, server));
    return { username: credential.kind === 'basic' ? credential.username : null, secret };
  }

  /**
   * Stores a user's own credential, or removes it (null) so that the server's account is
   * used again. Throws `NotFound` for an unknown user.
   */
  async setUserCredential(login: string, credential: UserCredential | null): Promise<UserRecord> {
    const user = await this.repos.users.get(login);
    if (user === null) throw new LiaisonError('NotFound', `There is no user with login ${login}`);
    const stored =
      credential === null
        ? null
        : await this.sealUserCredential(await this.#server(user.server), login, credential);
    await this.repos.users.setCredential(login, stored);
    const updated = await this.repos.users.get(login);
    if (updated === null) throw new LiaisonError('Database', `User ${login} vanished while being changed`);
    return updated;
  }

  /**
   * Removes every stored password and token — of servers and of users — for when the key
   * they were stored with is lost: they can then be entered again and are stored under the
   * key in use now (or a new one). Returns what was removed. Users who carried credentials
   * of their own use their server's account until they are given theirs again.
   */
  async forgetAll(): Promise<{ servers: string[]; users: string[] }> {
    const servers: string[] = [];
    for (const server of await this.repos.servers.list()) {
      if (!server.hasSecret) continue;
      await this.repos.servers.setSecret(server.name, null);
      servers.push(server.name);
    }
    const users: string[] = [];
    for (const user of await this.repos.users.list()) {
      if (!user.hasSecret) continue;
      await this.repos.users.setCredential(user.login, null);
      users.push(user.login);
    }
    this.#storing = undefined;
    return { servers, users };
  }

  /**
   * The configuration the DAV adapter needs to reach `server`, with its credential
   * decrypted: the user's own when `user` carries one, else the server's service account.
   * Defaults come from `DAV_DEFAULTS`; the options may override them.
   *
   * Throws `Config` when the server is not DAV, when a needed credential is missing, when
   * no key is found or the key is not the one the credentials were stored with.
   */
  async davConfig(server: MailboxServerRecord, user?: UserRecord | null): Promise<DavServerConfig> {
    if (server.kind !== 'dav') {
      throw new LiaisonError('Config', `mailbox server ${server.name} is of kind ${server.kind}, not dav`, {
        context: { server: server.name },
      });
    }
    if (user && user.server !== server.name) {
      throw new LiaisonError(
        'Config',
        `user ${user.login} is on mailbox server ${user.server}, not ${server.name}`,
      );
    }
    const options = davOptionsOf(server);
    const auth = user?.hasSecret ? await this.#userAuth(server, user) : await this.#serverAuth(server);
    return {
      name: server.name,
      url: server.url,
      auth: hidden(auth),
      ...(user?.hasSecret ? { authOf: user.login } : {}),
      tls: { skipVerify: options.tlsSkipVerify },
      maxConnections: options.maxConnections,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      multigetBatch: options.multigetBatch,
      ...(options.addressbook !== null ? { addressbook: options.addressbook } : {}),
      ...(options.calendar !== null ? { calendar: options.calendar } : {}),
    };
  }

  async #server(name: string): Promise<MailboxServerRecord> {
    const record = await this.repos.servers.get(name);
    if (record === null) throw new LiaisonError('NotFound', `There is no mailbox server named ${name}`);
    if (record.kind !== 'dav') {
      throw new LiaisonError(
        'Usage',
        `mailbox server ${name} is of kind ${record.kind}: it takes no credentials`,
      );
    }
    return record;
  }

  async #serverAuth(server: MailboxServerRecord): Promise<DavAuth> {
    const options = davOptionsOf(server);
    if (options.auth === 'none') return { kind: 'none' };
    const sealed = await this.repos.servers.getSecret(server.name);
    const noun = options.auth === 'basic' ? 'password' : 'token';
    if (sealed === null) {
      throw new LiaisonError(
        'Config',
        `mailbox server ${server.name} has no ${noun} stored: run \`liaison server set ${server.name} --${noun}-env VAR\``,
        { context: { server: server.name } },
      );
    }
    const secret = await this.#open(sealed, serverBinding(server), `the ${noun} of server ${server.name}`);
    if (options.auth === 'bearer') return { kind: 'bearer', token: secret };
    if (options.username === null) {
      throw new LiaisonError('Config', `mailbox server ${server.name} uses basic auth but names no username`);
    }
    return { kind: 'basic', username: options.username, password: secret };
  }

  async #userAuth(server: MailboxServerRecord, user: UserRecord): Promise<UserCredential> {
    const stored = await this.repos.users.getCredential(user.login);
    if (stored === null)
      throw new LiaisonError('Config', `user ${user.login} has no credentials of their own`);
    const noun = stored.username === null ? 'token' : 'password';
    const secret = await this.#open(
      stored.secret,
      userBinding(user.login, server),
      `the ${noun} of user ${user.login}`,
    );
    return stored.username === null
      ? { kind: 'bearer', token: secret }
      : { kind: 'basic', username: stored.username, password: secret };
  }

  /** Encrypts the secret part of `auth` (null for no auth) with the database's key. */
  async #seal(auth: DavAuth, binding: string): Promise<string | null> {
    return auth.kind === 'none' ? null : this.#sealUser(auth, binding);
  }

  /** Encrypts the password or token of a credential with the database's key. */
  async #sealUser(credential: UserCredential, binding: string): Promise<string> {
    const key = await this.#keyForStoring();
    return sealSecret(key, credential.kind === 'basic' ? credential.password : credential.token, binding);
  }

  async #open(sealed: string, binding: string, what: string): Promise<string> {
    const key = await this.keys.load();
    if (key === null) {
      throw new LiaisonError(
        'Config',
        `${what} cannot be read: no secret key was found at ${this.keys.describe()}; set ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} to the key it was stored with`,
      );
    }
    return openSecret(key, sealed, binding, what);
  }

  /**
   * The key to encrypt with. When the database already holds secrets, it must be the key
   * they were stored with; a key file is only created for a database that holds none.
   */
  #keyForStoring(): Promise<SecretKey> {
    this.#storing ??= this.#checkedKey();
    return this.#storing;
  }

  async #checkedKey(): Promise<SecretKey> {
    const existing = await this.repos.servers.anySecret();
    if (existing === null) return this.keys.loadOrCreate();
    const key = await this.keys.load();
    if (key === null) {
      throw new LiaisonError(
        'Config',
        `this database already holds credentials, but no secret key was found at ${this.keys.describe()}: set ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} to the key they were stored with; ${LOST_KEY_HINT}`,
      );
    }
    const storedWith = sealedKeyId(existing);
    if (storedWith !== null && storedWith !== key.id) {
      throw new LiaisonError(
        'Config',
        `${WRONG_KEY_MESSAGE} (key from ${key.source}): set ${SECRET_KEY_ENV} or ${SECRET_KEY_FILE_ENV} to the key used before; ${LOST_KEY_HINT}`,
      );
    }
    return key;
  }
}

/**
 * Makes a credential print as `[credential]`: JSON and `util.inspect` (console.log, most
 * loggers) show no password or token, even if a config object is logged by mistake.
 */
function hidden<T extends DavAuth>(auth: T): T {
  const copy = { ...auth };
  const shown = { kind: auth.kind, credential: auth.kind === 'none' ? 'none' : '[hidden]' };
  Object.defineProperty(copy, 'toJSON', { value: () => shown, enumerable: false });
  Object.defineProperty(copy, inspect.custom, { value: () => shown, enumerable: false });
  return copy;
}

/**
 * Replaces every occurrence of `auth`'s password or token in `text` (also inside a basic
 * auth header value) by `***`, for messages built from a third party's error text.
 */
export function redactCredential(text: string, auth: DavAuth): string {
  const secrets: string[] = [];
  if (auth.kind === 'basic' && auth.password !== '') {
    secrets.push(auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64'));
    secrets.push(encodeURIComponent(auth.password));
  }
  if (auth.kind === 'bearer' && auth.token !== '') secrets.push(auth.token);
  return secrets
    .sort((a, b) => b.length - a.length)
    .reduce((out, secret) => out.replaceAll(secret, '***'), text);
}
