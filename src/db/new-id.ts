import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let counter = 0;

/** Random bytes drawn a few kilobytes at a time: one draw per id costs more than the rest of it. */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function randomEight(): Buffer {
  if (poolAt + 8 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  poolAt += 8;
  return pool.subarray(poolAt - 8, poolAt);
}

/**
 * A new row id: a UUIDv7-shaped string (RFC 9562 §5.7) whose text order follows creation
 * order within a process. Time-ordered ids keep B-tree inserts local, and the journal can
 * be listed in the order it was written by sorting on its id.
 */
export function newId(): string {
  let ms = Date.now();
  if (ms <= lastMs) {
    // Same millisecond (or a clock step back): count up so that order is kept.
    ms = lastMs;
    counter += 1;
    if (counter > 0xfff) {
      ms += 1;
      counter = 0;
    }
  } else {
    counter = 0;
  }
  lastMs = ms;
  const rand = randomEight();
  const time = ms.toString(16).padStart(12, '0');
  const seq = (0x7000 | counter).toString(16);
  const variant =
    ((rand[0]! & 0x3f) | 0x80).toString(16).padStart(2, '0') + rand.subarray(1, 2).toString('hex');
  return `${time.slice(0, 8)}-${time.slice(8)}-${seq}-${variant}-${rand.subarray(2).toString('hex')}`;
}
