import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DavTransport } from '../../src/mailbox/dav/dav-transport.js';
import { davTestConfig } from '../support/dav-servers/dav-test-config.js';

/*
 * Whether a request started before synchronous work (SQLite writes) reaches the server
 * during that work. The server runs on a thread of its own and counts the requests that
 * arrive in shared memory, so the main thread can watch for one while it keeps the event
 * loop from turning.
 */

const SERVER = `
const { createServer } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const arrived = new Int32Array(workerData);
createServer((req, res) => {
  Atomics.add(arrived, 0, 1);
  req.resume();
  req.on('end', () => res.end(''));
}).listen(0, '127.0.0.1', function () { parentPort.postMessage(this.address().port); });
`;

const arrived = new Int32Array(new SharedArrayBuffer(4));
let worker: Worker;
let url = '';
const transports: DavTransport[] = [];

function newTransport(): DavTransport {
  const transport = new DavTransport(davTestConfig({ url, username: 'svc', password: 'pw' }));
  transports.push(transport);
  return transport;
}

beforeAll(async () => {
  worker = new Worker(SERVER, { eval: true, workerData: arrived.buffer });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  url = `http://127.0.0.1:${port}/`;
});
afterAll(async () => {
  await Promise.all(transports.map((t) => t.close()));
  await worker.terminate();
});

/** Starts a PUT, runs `before`, then works synchronously: whether the PUT arrived meanwhile. */
async function arrivesDuringWork(transport: DavTransport, before: () => Promise<void>): Promise<boolean> {
  const count = Atomics.load(arrived, 0);
  const answer = transport
    .send({ method: 'PUT', path: '/note.ics', body: 'note', context: {} })
    .then((r) => r.body.dump());
  await before();
  // Work that never lets the event loop turn, for at most half a second (a request sent
  // arrives within a millisecond or two).
  const until = Date.now() + 500;
  let during = false;
  while (!during && Date.now() < until) during = Atomics.load(arrived, 0) > count;
  await answer;
  return during;
}

describe('requests started before synchronous work', () => {
  it('reach the server only after the work, unless the sync waits until they are sent', async () => {
    const idle = newTransport();
    expect(await arrivesDuringWork(idle, async () => {})).toBe(false);
    expect(await arrivesDuringWork(idle, async () => {})).toBe(false);
    // Over a connection still to be made, then over the same one again.
    const waiting = newTransport();
    expect(await arrivesDuringWork(waiting, () => waiting.sendStarted())).toBe(true);
    expect(await arrivesDuringWork(waiting, () => waiting.sendStarted())).toBe(true);
  });
});
