import { afterAll, beforeAll } from 'vitest';
import { DavMailboxServer } from '../../src/mailbox/dav/dav-mailbox-server.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';
import { startXandikos, type XandikosServer } from '../support/dav-servers/xandikos.js';
import { defineMailboxContract } from './mailbox-contract.js';

// One Xandikos for the file; each test gets a principal of its own, hence an empty mailbox.
let xandikos: XandikosServer;
let users = 0;

beforeAll(async () => {
  xandikos = await startXandikos();
});

afterAll(async () => {
  await xandikos?.stop();
});

defineMailboxContract(
  'dav (Xandikos)',
  async () => {
    users += 1;
    const account = `user${users}`;
    await xandikos.addUser(account);
    // Xandikos answers 500 to a sync token it cannot read; the retries of that are not waited for long.
    const server = new DavMailboxServer(davTestConfig(xandikos), { backoffMs: 20 });
    return { server, account, cleanup: () => server.close() };
  },
  // Xandikos re-serializes what it stores (property order), so only the content is compared.
  { changeList: true, preservesText: false },
);
