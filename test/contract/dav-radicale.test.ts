import { afterAll, beforeAll } from 'vitest';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import { type RadicaleServer, startRadicale } from '../support/dav-servers/radicale.js';
import { defineMailboxContract } from './mailbox-contract.js';

// One Radicale for the file; each test gets a user of its own, hence an empty mailbox.
let radicale: RadicaleServer;
let users = 0;

beforeAll(async () => {
  radicale = await startRadicale();
});

afterAll(async () => {
  await radicale?.stop();
});

defineMailboxContract(
  'dav (Radicale)',
  async () => {
    users += 1;
    const account = `user${users}`;
    await radicale.addUser(account);
    const server = new DavMailboxServer(davTestConfig(radicale));
    return { server, account, cleanup: () => server.close() };
  },
  // Radicale re-serializes events (property order), so only the content is compared.
  { changeList: true, preservesText: false },
);
