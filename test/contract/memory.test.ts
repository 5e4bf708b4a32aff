import { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import { defineMailboxContract } from './mailbox-contract.js';

defineMailboxContract('memory', async () => ({ server: new MemoryMailboxServer(), account: 'alice' }), {
  changeList: true,
});

// The same store without change lists, the path vdir and ctag-only servers take.
defineMailboxContract(
  'memory without change lists',
  async () => ({ server: new MemoryMailboxServer({ changeLists: false }), account: 'alice' }),
  { changeList: false },
);
