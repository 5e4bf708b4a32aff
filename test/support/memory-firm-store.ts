import { LiaisonError } from '../../src/domain/errors.js';
import {
  asFirmItemId,
  type CollectionKind,
  type Etag,
  type FirmItemId,
  type Href,
  type UserId,
} from '../../src/domain/ids.js';
import type {
  CollectionState,
  FirmDelta,
  FirmItem,
  FirmSyncStore,
  HeldPlanRecord,
  HeldPlanStore,
  ItemCommit,
  JournalEntry,
  StatePatch,
  StatusEntry,
} from '../../src/sync/ports.js';

const INITIAL: CollectionState = {
  lastSync: null,
  pendingSync: null,
  outOfSync: false,
  outOfSyncReason: null,
  probe: null,
  token: null,
  firmCounter: 0,
  lastChanges: null,
  lastFailed: false,
};

/**
 * An in-memory firm database for unit and property tests, with the same transaction
 * semantics as the SQL store: a commit applies whole or not at all.
 */
export class MemoryFirmStore<T> implements FirmSyncStore<T> {
  private nextId = 1;
  private revision = 1;
  readonly revisions = new Map<FirmItemId, string>();
  readonly items = new Map<FirmItemId, T>();
  status = new Map<FirmItemId, StatusEntry>();
  state: CollectionState = INITIAL;
  counter = 0;
  readonly journal: JournalEntry[] = [];
  /** Throws on the commit with this number (1-based), simulating a crash before it is durable. */
  failCommitAt: number | null = null;
  /** Commits made so far, failed ones included. */
  commits = 0;

  async listItems(): Promise<FirmItem<T>[]> {
    return [...this.items].map(([id, item]) => ({ id, item, revision: this.revisions.get(id) ?? '' }));
  }
  async changeCounter(): Promise<number> {
    return this.counter;
  }
  async revisionsOf(
    _u: UserId,
    _k: CollectionKind,
    ids: readonly FirmItemId[],
  ): Promise<Map<FirmItemId, string>> {
    const out = new Map<FirmItemId, string>();
    for (const id of ids) {
      const r = this.revisions.get(id);
      if (r !== undefined && this.items.has(id)) out.set(id, r);
    }
    return out;
  }
  async loadStatus(): Promise<StatusEntry[]> {
    return [...this.status.values()];
  }
  async statusEtags(
    _u: UserId,
    _k: CollectionKind,
    hrefs?: readonly Href[],
  ): Promise<Map<Href, Etag | null>> {
    const wanted = hrefs === undefined ? null : new Set(hrefs);
    const entries = [...this.status.values()].filter((s) => wanted === null || wanted.has(s.href));
    return new Map(entries.map((s) => [s.href, s.mailboxEtag]));
  }
  async loadPairs(
    _u: UserId,
    _k: CollectionKind,
    hrefs: readonly Href[],
  ): Promise<{ status: StatusEntry[]; items: FirmItem<T>[] }> {
    const wanted = new Set(hrefs);
    const status = [...this.status.values()].filter((s) => wanted.has(s.href));
    const ids = new Set(status.map((s) => s.firmId));
    return { status, items: (await this.listItems()).filter((f) => ids.has(f.id)) };
  }
  /** As the SQL store: with the counter unchanged, only what the contract promises. */
  async loadChanged(
    _u: UserId,
    _k: CollectionKind,
    hrefs: readonly Href[],
    firmChanged: boolean,
  ): Promise<FirmDelta<T>> {
    const wanted = new Set(hrefs);
    const status = [...this.status.values()].filter((s) => {
      if (wanted.has(s.href) || s.firmRevision === null) return true;
      if (!firmChanged) return false;
      const revision = this.items.has(s.firmId) ? this.revisions.get(s.firmId) : undefined;
      return revision === undefined || s.firmRevision !== revision;
    });
    const paired = new Set([...this.status.values()].map((s) => s.href));
    const unpairedToo = firmChanged || hrefs.some((h) => !paired.has(h));
    const ids = new Set(status.map((s) => s.firmId));
    const items = (await this.listItems()).filter(
      (f) => ids.has(f.id) || (unpairedToo && !this.status.has(f.id)),
    );
    const entries = [...this.status.values()];
    return {
      status,
      items,
      statusCount: entries.length,
      itemCount: this.items.size,
      missingEtags: entries.some((s) => s.mailboxEtag === null),
    };
  }
  async loadState(): Promise<CollectionState> {
    return this.state;
  }
  async saveState(_u: UserId, _k: CollectionKind, patch: StatePatch): Promise<void> {
    this.state = { ...this.state, ...patch };
  }
  /** Items kept out of sync: href → reason. */
  readonly quarantine = new Map<Href, string>();
  async recordQuarantine(
    _u: UserId,
    _k: CollectionKind,
    examined: readonly Href[] | null,
    found: readonly { readonly href: Href; readonly reason: string }[],
  ): Promise<void> {
    for (const href of examined ?? [...this.quarantine.keys()]) this.quarantine.delete(href);
    for (const f of found) this.quarantine.set(f.href, f.reason);
  }

  /** Counts the calls: a run asks for upkeep only while it waits on the mailbox. */
  tidied = 0;

  async tidy(): Promise<void> {
    this.tidied += 1;
  }

  /** A CRM user's edit on the firm side: bumps the change counter. */
  userPut(id: FirmItemId | null, item: T): FirmItemId {
    const key = id ?? asFirmItemId(`f${this.nextId++}`);
    this.items.set(key, item);
    this.revisions.set(key, String(this.revision++));
    this.counter++;
    return key;
  }
  userDelete(id: FirmItemId): void {
    this.items.delete(id);
    this.counter++;
  }

  async commit(
    _u: UserId,
    _k: CollectionKind,
    _run: string,
    batch: readonly ItemCommit<T>[],
  ): Promise<FirmItemId[]> {
    this.commits++;
    if (this.failCommitAt === this.commits)
      throw new LiaisonError('Unavailable', 'simulated crash before commit');
    const items = new Map(this.items);
    const status = new Map(this.status);
    const revisions = new Map(this.revisions);
    const ids: FirmItemId[] = [];
    for (const c of batch) {
      let id: FirmItemId | null = null;
      if (c.firm?.op === 'create') {
        id = asFirmItemId(`f${this.nextId++}`);
        items.set(id, c.firm.item);
        revisions.set(id, String(this.revision++));
      } else if (c.firm?.op === 'update') {
        id = c.firm.id;
        if (!items.has(id)) throw new LiaisonError('NotFound', `no firm item ${id}`);
        items.set(id, c.firm.item);
        revisions.set(id, String(this.revision++));
      } else if (c.firm?.op === 'delete') {
        id = c.firm.id;
        items.delete(id);
      }
      if (c.status?.op === 'put') {
        const firmId = c.status.entry.firmId ?? id;
        if (!firmId) throw new Error('status put without a firm id');
        for (const [k, s] of status) if (k === firmId || s.href === c.status.entry.href) status.delete(k);
        const written = c.firm?.op === 'create' || c.firm?.op === 'update';
        const firmRevision = written ? (revisions.get(firmId) ?? null) : c.status.entry.firmRevision;
        status.set(firmId, { ...c.status.entry, firmId, firmRevision });
        id = firmId;
      } else if (c.status?.op === 'remove') {
        status.delete(c.status.firmId);
        id ??= c.status.firmId;
      }
      ids.push(id ?? asFirmItemId(''));
    }
    this.items.clear();
    for (const [k, v] of items) this.items.set(k, v);
    this.status = status;
    this.revisions.clear();
    for (const [k, v] of revisions) this.revisions.set(k, v);
    for (const c of batch) this.journal.push(...c.journal);
    return ids;
  }
}

export class MemoryHeldStore implements HeldPlanStore {
  readonly plans: HeldPlanRecord[] = [];
  async saveHeld(rec: Omit<HeldPlanRecord, 'id' | 'createdAt' | 'state'>): Promise<string> {
    const id = String(this.plans.length + 1);
    this.plans.push({ ...rec, id, createdAt: new Date(0).toISOString(), state: 'held' });
    return id;
  }
  async listHeld(): Promise<HeldPlanRecord[]> {
    return this.plans;
  }
  async getHeld(id: string): Promise<HeldPlanRecord | null> {
    return this.plans.find((p) => p.id === id) ?? null;
  }
  async hasHeld(user: UserId, kind: CollectionKind): Promise<boolean> {
    return this.plans.some((p) => p.user === user && p.kind === kind && p.state === 'held');
  }
  async resolveHeld(id: string, state: 'approved' | 'rejected' | 'superseded'): Promise<void> {
    const i = this.plans.findIndex((p) => p.id === id);
    if (i >= 0) this.plans[i] = { ...this.plans[i]!, state };
  }
}
