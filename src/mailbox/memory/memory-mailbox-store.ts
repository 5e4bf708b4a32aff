import { LiaisonError } from '../../domain/errors.js';
import type { CollectionKind, Etag, Href, SyncToken, Uid } from '../../domain/ids.js';
import { itemName } from '../item-name.js';
import type {
  ChangeSet,
  ItemRef,
  MailboxCollection,
  MailboxStore,
  MarkerNote,
  ReadResult,
  WriteResult,
} from '../port.js';
import type { MemoryBackend } from './memory-backend.js';
import type { MemoryCollectionState } from './memory-collection-state.js';
import { uidOf } from './memory-collection-state.js';

/** One account of a memory server, as the port sees it. */
export class MemoryMailboxStore implements MailboxStore {
  readonly location: string;

  constructor(
    private readonly backend: MemoryBackend,
    private readonly account: string,
  ) {
    this.location = `memory://${account}`;
  }

  async collection(kind: CollectionKind): Promise<MailboxCollection> {
    return this.backend.serve('collection', this.account, () => {
      this.backend.state(this.account, kind);
      return new MemoryCollection(this.backend, this.account, kind);
    });
  }

  async readMarker(): Promise<MarkerNote | null> {
    return this.backend.serve('readMarker', this.account, () => {
      // A mailbox that does not exist holds no marker, as a missing folder holds none.
      const marker = this.backend.mailboxes.get(this.account)?.marker ?? null;
      return marker === null ? null : copyMarker(marker);
    });
  }

  /** Nothing goes over a network. */
  async sendStarted(): Promise<void> {}

  async writeMarker(note: MarkerNote): Promise<void> {
    this.backend.serve('writeMarker', this.account, () => {
      this.backend.mailbox(this.account).marker = copyMarker(note);
    });
  }
}

/** One collection of a memory account. Looks its state up on every call, so a wipe is seen at once. */
class MemoryCollection implements MailboxCollection {
  readonly location: string;
  /** The memory server's fingerprint is a change counter, not a listing digest. */
  readonly probeFromListing = null;

  get keepsChangeList(): boolean {
    return this.backend.changeLists;
  }

  constructor(
    private readonly backend: MemoryBackend,
    private readonly account: string,
    readonly kind: CollectionKind,
  ) {
    this.location = `memory://${account}/${kind}`;
  }

  holds(href: Href): boolean {
    return href !== '' && !href.includes('/');
  }

  /** Nothing goes over a network. */
  async sendStarted(): Promise<void> {}

  async list(): Promise<ItemRef[]> {
    return this.backend.serve('list', this.account, () => {
      const state = this.#state();
      if (this.backend.flakyEtags) for (const { href } of state.refs()) state.retag(href);
      return state.refs();
    });
  }

  async probe(): Promise<string> {
    // The token moves with every change and is replaced on wipe and restore: a fine ctag.
    return this.backend.serve('probe', this.account, () => this.#state().token());
  }

  async listAll(): Promise<{ refs: ItemRef[]; token: SyncToken | null }> {
    // The token first: a change made between the two is then reported again, never missed.
    const token = await this.currentToken();
    return { refs: await this.list(), token };
  }

  async currentToken(): Promise<SyncToken | null> {
    return this.backend.serve('currentToken', this.account, () =>
      this.backend.changeLists ? this.#state().token() : null,
    );
  }

  async changesSince(token: SyncToken): Promise<ChangeSet | null> {
    return this.backend.serve('changesSince', this.account, () =>
      this.backend.changeLists ? this.#state().changesSince(token) : null,
    );
  }

  async *read(hrefs: readonly Href[]): AsyncIterable<ReadResult> {
    const state = this.backend.serve('read', this.account, () => this.#state());
    for (const href of hrefs) {
      const item = state.get(href);
      yield item === undefined ? { href, missing: true } : { href, etag: item.etag, text: item.text };
    }
  }

  async create(uid: Uid, text: string): Promise<WriteResult> {
    return this.backend.serve('create', this.account, () => {
      const state = this.#state();
      const href = itemName(uid, this.kind);
      // RFC 6352 §6.3.2.1 / RFC 4791 §5.3.2.1: a UID already in the collection is refused,
      // and the answer names the item that holds it, wherever it lives.
      const existing = state.get(href) !== undefined ? href : state.hrefOfUid(uidOf(text) ?? uid);
      if (existing !== undefined) {
        throw new LiaisonError('AlreadyExists', `${this.location}: an item with UID ${uid} exists`, {
          context: { user: this.account, collection: this.location, href: existing },
        });
      }
      return this.#answer(href, state.set(href, text));
    });
  }

  async update(href: Href, text: string, ifMatch: Etag): Promise<WriteResult> {
    return this.backend.serve('update', this.account, () => {
      const state = this.#state();
      this.#checkEtag(href, ifMatch, state.get(href)?.etag);
      return this.#answer(href, state.set(href, text));
    });
  }

  async delete(href: Href, ifMatch: Etag): Promise<void> {
    this.backend.serve('delete', this.account, () => {
      const state = this.#state();
      const current = state.get(href)?.etag;
      if (current === undefined) return;
      this.#checkEtag(href, ifMatch, current);
      state.remove(href);
    });
  }

  #state(): MemoryCollectionState {
    return this.backend.state(this.account, this.kind);
  }

  #answer(href: Href, etag: Etag): WriteResult {
    return { href, etag: this.backend.etagsMissingAfterWrite ? null : etag };
  }

  #checkEtag(href: Href, expected: Etag, actual: Etag | undefined): void {
    if (actual !== expected) {
      throw new LiaisonError(
        'PreconditionFailed',
        `${this.location}/${href}: expected etag ${expected}, found ${actual ?? 'no item'}`,
        { context: { user: this.account, collection: this.location, href } },
      );
    }
  }
}

/** Markers are copied in and out so a caller cannot change the stored one by accident. */
export function copyMarker(note: MarkerNote): MarkerNote {
  return { collections: { ...note.collections } };
}
