import { LiaisonError } from '../../domain/errors.js';

/** How long a server that never answered is left alone: longer than a run, short for a process that stays up. */
const DOWN_FOR_MS = 10 * 60_000;

/**
 * Whether a server has answered at all. A server that is down or hung costs every request
 * its timeout and retries (two minutes with the defaults); paid for each of hundreds of
 * users, a run would take hours while the users of other servers wait. So once a request
 * has failed without any answer, and the server has not answered a single request before
 * it, further requests fail at once for a while, naming the first failure. A server that
 * answers others is never cut off by one request that timed out.
 *
 * Shared by every connection to one configured server (users with credentials of their
 * own have connections of their own).
 */
export class ServerHealth {
  #answered = false;
  #down: { readonly error: LiaisonError; readonly until: number } | undefined;

  constructor(private readonly clock: () => number = Date.now) {}

  /** Throws at once when the server is taken for down. */
  check(server: string): void {
    const down = this.#down;
    if (down === undefined) return;
    if (this.clock() >= down.until) {
      this.#down = undefined;
      return;
    }
    throw new LiaisonError(
      'Unavailable',
      `${server}: not asked again: the server has not answered in this run (${down.error.message})`,
      { context: { ...down.error.context, server } },
    );
  }

  /** An answer came (any status). */
  answered(): void {
    this.#answered = true;
    this.#down = undefined;
  }

  /** A request failed after its retries without any answer. */
  failed(error: LiaisonError): void {
    if (!this.#answered && error.kind === 'Unavailable')
      this.#down = { error, until: this.clock() + DOWN_FOR_MS };
  }
}
