import { LiaisonError } from '../../domain/errors.js';
import type { CollectionKind } from '../../domain/ids.js';
import { asEtag } from '../../domain/ids.js';
import type { MarkerNote } from '../port.js';
import { MemoryCollectionState } from './memory-collection-state.js';

/** The port calls a memory mailbox server counts, and can fail on purpose. */
export type MemoryOperation =
  | 'collection'
  | 'list'
  | 'probe'
  | 'currentToken'
  | 'changesSince'
  | 'read'
  | 'create'
  | 'update'
  | 'delete'
  | 'readMarker'
  | 'writeMarker';

/** One account's collections and marker. */
export interface MemoryMailbox {
  readonly collections: Record<CollectionKind, MemoryCollectionState>;
  marker: MarkerNote | null;
}

/** A pending injected failure. */
export interface MemoryFault {
  remaining: number;
  readonly operations: readonly MemoryOperation[] | undefined;
  readonly afterEffect: boolean;
}

/**
 * The state shared by a memory server, its stores and their collections: accounts,
 * counters, behaviour switches, and the fault to inject. Not part of the public API;
 * tests drive it through `MemoryMailboxServer`'s hooks.
 */
export class MemoryBackend {
  readonly mailboxes = new Map<string, MemoryMailbox>();
  operations = 0;
  fault: MemoryFault | null = null;
  flakyEtags = false;
  etagsMissingAfterWrite = false;
  #etagCounter = 0;
  #epochCounter = 0;

  constructor(
    readonly horizon: number,
    readonly changeLists: boolean,
  ) {}

  newCollectionState(): MemoryCollectionState {
    return new MemoryCollectionState(
      // One counter for the whole server: an etag is never reused, even across wipe and restore.
      () => asEtag(`m-${++this.#etagCounter}`),
      () => ++this.#epochCounter,
      this.horizon,
    );
  }

  mailbox(account: string): MemoryMailbox {
    const mailbox = this.mailboxes.get(account);
    if (mailbox === undefined) {
      throw new LiaisonError(
        'NotFound',
        `memory mailbox ${account} does not exist (ensureMailbox creates it)`,
        {
          context: { user: account, collection: `memory://${account}` },
        },
      );
    }
    return mailbox;
  }

  state(account: string, kind: CollectionKind): MemoryCollectionState {
    return this.mailbox(account).collections[kind];
  }

  /** Counts an operation and runs it, throwing `Unavailable` before or after it when a fault is due. */
  serve<R>(op: MemoryOperation, account: string, effect: () => R): R {
    this.operations += 1;
    const fault = this.fault;
    let fire = false;
    if (fault !== null && (fault.operations === undefined || fault.operations.includes(op))) {
      fault.remaining -= 1;
      if (fault.remaining === 0) {
        fire = true;
        this.fault = null;
      }
    }
    const failure = () =>
      new LiaisonError('Unavailable', `memory mailbox ${account}: injected failure of ${op}`, {
        context: { user: account },
      });
    if (fire && !fault?.afterEffect) throw failure();
    const result = effect();
    if (fire) throw failure();
    return result;
  }
}
