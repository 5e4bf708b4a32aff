import { afterAll, beforeAll } from 'vitest';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { type CyrusServer, startCyrus } from '../support/dav-servers/cyrus.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import { defineMailboxContract } from './mailbox-contract.js';

// One Cyrus for the file, reached through its admin account as a service account would be;
// each test gets a user of its own, hence an empty mailbox.
let cyrus: CyrusServer;
let users = 0;

beforeAll(async () => {
  cyrus = await startCyrus();
});

afterAll(async () => {
  await cyrus?.stop();
});

defineMailboxContract(
  'dav (Cyrus)',
  async () => {
    users += 1;
    const account = `user${users}`;
    await cyrus.addUser(account);
    const server = new DavMailboxServer(
      davTestConfig({ url: cyrus.url, username: cyrus.adminUser, password: cyrus.adminPassword }),
    );
    return { server, account, cleanup: () => server.close() };
  },
  // Cyrus re-serializes what it stores, so only the content is compared.
  { changeList: true, preservesText: false },
);
