import { buildMailbox } from './vdir-bench.js';

// Child process entry: node build-mailbox.js ACCOUNT_DIR
const account = process.argv[2];
if (!account) throw new Error('usage: build-mailbox.js ACCOUNT_DIR');
buildMailbox(account);
