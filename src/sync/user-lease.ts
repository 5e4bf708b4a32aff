import type { UserId } from '../domain/ids.js';
import type { UserLocks } from './run-ports.js';

/**
 * How long a user's lock lives without renewal. Short, so that a process killed in the
 * middle of a sync blocks that user for a minute and a half at most; a live run renews
 * it long before then.
 */
export const LEASE_MS = 90_000;
const RENEW_EVERY_MS = 30_000;

/**
 * Runs `work` under the user's lock, renewing the lease while it runs. Returns false,
 * without running it, when another live holder has the lock (SPEC §7: a busy user is
 * skipped, not waited for).
 */
export async function withUserLease(
  locks: UserLocks,
  user: UserId,
  holder: string,
  work: () => Promise<void>,
): Promise<boolean> {
  if (!(await locks.tryAcquire(user, holder, LEASE_MS))) return false;
  const timer = setInterval(() => {
    locks.renew(user, holder, LEASE_MS).catch(() => {
      // A failed renewal is retried on the next tick; the lease outlives two misses.
    });
  }, RENEW_EVERY_MS);
  timer.unref();
  try {
    await work();
  } finally {
    clearInterval(timer);
    await locks.release(user, holder);
  }
  return true;
}
