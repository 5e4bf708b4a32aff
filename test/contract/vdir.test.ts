import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VdirMailboxServer } from '../../src/mailbox/vdir/vdir-mailbox-server.js';
import { defineMailboxContract } from './mailbox-contract.js';

defineMailboxContract(
  'vdir',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'liaison-vdir-contract-'));
    return {
      server: new VdirMailboxServer(dir),
      account: 'alice@example.com',
      cleanup: () => rm(dir, { recursive: true, force: true }),
    };
  },
  { changeList: false },
);
