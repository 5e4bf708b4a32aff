import type { ItemCodec } from '../domain/codec.js';
import { errorMessage, isLiaisonError } from '../domain/errors.js';
import {
  asEtag,
  type CollectionKind,
  type Etag,
  type Href,
  type SyncToken,
  type Uid,
  type UserId,
} from '../domain/ids.js';
import { fallbackUid } from '../formats/fallback-uid.js';
import type { ChangeListOptions, ChangeSet, ItemRef, MailboxCollection } from '../mailbox/port.js';
import type { FirmView, MailboxView } from './plan-types.js';
import type { FirmDelta, FirmItem, FirmSyncStore, StatusEntry } from './ports.js';

/** Both sides of one collection as the planner needs them, gathered through the ports. */
export interface Sides<T> {
  /** The status entries the planner needs (all of them, or those an express sync can touch). */
  readonly status: StatusEntry[];
  /** The mailbox change-list token that goes with this listing, for the next express run. */
  readonly token: SyncToken | null;
  readonly mailbox: MailboxView<T>[];
  readonly firm: FirmView<T>[];
  /** Status entries in all: the items synced before, which the mass-change guard counts. */
  readonly existing: number;
  /** Whether each side holds nothing at all (the empty-side guard). */
  readonly firmEmpty: boolean;
  readonly mailboxEmpty: boolean;
  /** The mailbox items looked at: those of the change list, or null for all (a full listing). */
  readonly examined: readonly Href[] | null;
  /** Pairs of a large change left out of the sides above, to be planned a slice at a time. */
  readonly waiting: WaitingPairs<T> | null;
}

/**
 * Pairs changed more than this many at once wait, out of the sides, and are read and
 * planned a slice of this many at a time: a change of thousands of contacts with large
 * photos would otherwise be held whole in memory (a few megabytes each, parsed, with the
 * firm item and the last synced fields beside it).
 */
export const PAIR_SLICE = 100;

/** One slice of waiting pairs, as the planner needs it. */
export interface SliceSides<T> {
  readonly status: StatusEntry[];
  readonly firm: FirmView<T>[];
  readonly mailbox: MailboxView<T>[];
}

/**
 * Pairs changed in the mailbox and not on the firm side (their firm item is there, as it
 * was synced): each plans to one update at most, never a deletion, and independently of
 * every other item, so planning them a slice at a time plans exactly what planning them
 * with the rest would.
 */
export interface WaitingPairs<T> {
  /** How many pairs wait: the most modifications they can add to the plan of the rest. */
  readonly count: number;
  slices(): AsyncIterable<SliceSides<T>>;
}

export interface GatherOptions {
  /** A listing already made (when a folder's probe is its listing). */
  readonly listed: ItemRef[] | null;
  /** Express mode's change-list token, or null for a full listing. */
  readonly token: SyncToken | null;
  /** The changes since that token, when already asked for. */
  readonly changes: ChangeSet | null;
  /** Recovery ignores the status: every item is read and matched. */
  readonly recovery: boolean;
  /** False when the firm side's change counter has not moved since the last sync. */
  readonly firmChanged: boolean;
  /** Names the user and collection in quarantine reasons. */
  readonly where: string;
  /** Whether a large change may leave pairs waiting (see {@link PAIR_SLICE}). */
  readonly slice: boolean;
}

/**
 * Gathers both sides. Where express mode has the mailbox's change list, only what can have
 * changed is loaded — the pairs the change list names, the pairs whose firm item was written
 * since, and firm items without a pair — so the cost follows the changes, not the size of the
 * collection. Otherwise the mailbox is listed whole and compared with the etags the status
 * keeps, which gives the same change list; only a recovery, which ignores the status, loads
 * the firm side whole. Either way only items that are new or whose etag moved are read, and
 * firm items are rehashed only when written since they were synced.
 */
export async function gatherSides<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  firm: FirmSyncStore<T>,
  codec: ItemCodec<T>,
  target: { readonly user: UserId; readonly kind: CollectionKind },
  options: GatherOptions,
): Promise<Sides<T>> {
  const askable = !options.recovery && options.listed === null;
  const changes =
    askable && options.changes !== null
      ? options.changes
      : askable && options.token !== null
        ? // A later round of a run: most changed items were written since, and few are read.
          await changesOrNull(collection, options.token)
        : null;
  if (changes) {
    const sides = await sidesOfChanges(collection, firm, codec, target, changes, options, null);
    if (sides !== null) return sides;
  }
  const { refs, token } = options.listed
    ? { refs: options.listed, token: await collection.currentToken() }
    : await collection.listAll();
  if (!options.recovery) {
    // Every pair not named here is unchanged in the mailbox; whether it changed on the firm
    // side is the firm store's to tell (the counter is not trusted: a listing checks all).
    const etags = await firm.statusEtags(target.user, target.kind);
    const listed = new Set(refs.map((r) => r.href));
    const derived: Changes = {
      token,
      changed: refs.filter((r) => etags.get(r.href) !== r.etag),
      removed: [...etags.keys()].filter((h) => !listed.has(h)),
    };
    const sides = await sidesOfChanges(
      collection,
      firm,
      codec,
      target,
      derived,
      { ...options, firmChanged: true },
      etags,
    );
    // Every item was looked at.
    if (sides !== null) return { ...sides, examined: null };
  }
  // A recovery: every item is read and matched, whatever the status says.
  const status = await firm.loadStatus(target.user, target.kind);
  const mailbox = await readChanged(collection, refs, [], codec, options.where);
  const firmItems = firmViews(await firm.listItems(target.user, target.kind), [], codec);
  return {
    status,
    token,
    mailbox,
    firm: firmItems,
    existing: status.length,
    firmEmpty: firmItems.length === 0,
    mailboxEmpty: refs.length === 0,
    examined: null,
    waiting: null,
  };
}

/**
 * The sides of the changes since the last sync. Of a large change, the pairs changed in the
 * mailbox only wait (see {@link PAIR_SLICE}). Null when the change list cannot serve: some
 * status entry lacks an etag (the server returned none) and only a listing supplies it.
 * `etags` are the status's etags when already loaded (they tell the change list).
 */
async function sidesOfChanges<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  firm: FirmSyncStore<T>,
  codec: ItemCodec<T>,
  target: { readonly user: UserId; readonly kind: CollectionKind },
  changes: Changes,
  options: GatherOptions,
  etags: ReadonlyMap<Href, Etag | null> | null,
): Promise<Sides<T> | null> {
  const { where } = options;
  // Of a large change, the items already paired wait (those changed on the firm side too
  // are taken back below, and planned with the rest).
  const waiting = new Set<Href>();
  if (options.slice && changes.changed.length > PAIR_SLICE) {
    const hrefs = changes.changed.map((c) => c.href);
    const paired = etags ?? (await firm.statusEtags(target.user, target.kind, hrefs));
    for (const href of hrefs) if (paired.has(href)) waiting.add(href);
  }
  // The changed items are asked for before the firm side is loaded, so that the server
  // works on them while the database is read. Those the status shows unchanged (this
  // Liaison's own writes) are read in vain, which is rare: the token moves past them.
  const early = waiting.size === 0 ? readAhead(collection, changes, codec, where) : null;
  // Sent before the database is read, which gives the event loop no turn to send them.
  if (early !== null) await collection.sendStarted();
  const hrefs = [...changes.changed.map((c) => c.href).filter((h) => !waiting.has(h)), ...changes.removed];
  const delta = await firm.loadChanged(target.user, target.kind, hrefs, options.firmChanged);
  if (delta.missingEtags && etags === null) {
    await early?.settled;
    return null;
  }
  if (early !== null) return changedSides(collection, codec, changes, delta, where, early);
  for (const s of delta.status) waiting.delete(s.href);
  const rest = { ...changes, changed: changes.changed.filter((c) => !waiting.has(c.href)) };
  const sides = await changedSides(
    collection,
    codec,
    rest,
    delta,
    where,
    readAhead(collection, rest, codec, where),
  );
  const slices = changes.changed.filter((c) => waiting.has(c.href));
  return {
    ...sides,
    examined: [...changes.changed.map((c) => c.href), ...changes.removed],
    waiting: waitingPairs(collection, firm, codec, target, slices, where),
  };
}

/** Waiting pairs: each slice's status entries and firm items are loaded in its turn. */
function waitingPairs<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  firm: FirmSyncStore<T>,
  codec: ItemCodec<T>,
  target: { readonly user: UserId; readonly kind: CollectionKind },
  refs: readonly ItemRef[],
  where: string,
): WaitingPairs<T> | null {
  if (refs.length === 0) return null;
  return {
    count: refs.length,
    async *slices() {
      for (let at = 0; at < refs.length; at += PAIR_SLICE) {
        const slice = refs.slice(at, at + PAIR_SLICE);
        const pairs = await firm.loadPairs(
          target.user,
          target.kind,
          slice.map((r) => r.href),
        );
        // A firm item written or deleted while this run works is planned as it is now.
        const mailbox = await readChanged(collection, slice, pairs.status, codec, where);
        yield { status: pairs.status, firm: firmViews(pairs.items, pairs.status, codec), mailbox };
      }
    },
  };
}

/** A change list, or one told by comparing a listing with the status (no token then). */
type Changes = Omit<ChangeSet, 'token'> & { readonly token: SyncToken | null };

/** The sides of an express sync from the mailbox's change list and the firm side's changes. */
async function changedSides<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  codec: ItemCodec<T>,
  changes: Changes,
  delta: FirmDelta<T>,
  where: string,
  early: ReadAhead<T>,
): Promise<Sides<T>> {
  const changed = new Map(changes.changed.map((c) => [c.href, c.etag]));
  const removed = new Set(changes.removed);
  const paired = new Set<Href>();
  const refs: ItemRef[] = [];
  let gone = 0;
  for (const s of delta.status) {
    paired.add(s.href);
    const etag = changed.get(s.href);
    if (etag !== undefined) refs.push({ href: s.href, etag });
    else if (removed.has(s.href)) gone++;
    // Not in the change list: as the last sync left it (the status has its etag).
    else refs.push({ href: s.href, etag: s.mailboxEtag as Etag });
  }
  let added = 0;
  for (const c of changes.changed) {
    if (paired.has(c.href)) continue;
    refs.push(c);
    added++;
  }
  const mailbox = await readChanged(collection, refs, delta.status, codec, where, early);
  return {
    status: delta.status,
    token: changes.token,
    mailbox,
    firm: firmViews(delta.items, delta.status, codec),
    existing: delta.statusCount,
    firmEmpty: delta.itemCount === 0,
    mailboxEmpty: delta.statusCount - gone + added === 0,
    examined: [...changed.keys(), ...removed],
    waiting: null,
  };
}

/** Firm items as the planner sees them; one not written since it was synced is not rehashed. */
function firmViews<T extends { readonly uid: Uid }>(
  items: readonly FirmItem<T>[],
  status: readonly StatusEntry[],
  codec: ItemCodec<T>,
): FirmView<T>[] {
  const statusById = new Map(status.map((s) => [s.firmId, s]));
  return items.map((f): FirmView<T> => {
    const s = statusById.get(f.id);
    if (s && s.firmRevision !== null && s.firmRevision === f.revision) {
      // Its fields are those synced last; the item itself is read only if a plan needs it.
      return {
        id: f.id,
        get item() {
          return f.item;
        },
        revision: f.revision,
        fields: s.base,
        hash: s.firmHash,
      };
    }
    const fields = codec.fields(f.item);
    return { id: f.id, item: f.item, revision: f.revision, fields, hash: codec.hash(fields) };
  });
}

/**
 * The changes since `token`, or null when the store keeps no change list or no longer
 * knows the token (RFC 6578 §3.2: an invalid token means a full listing, reconciled
 * against the status).
 */
export async function changesOrNull(
  collection: MailboxCollection,
  token: SyncToken,
  options: ChangeListOptions = {},
): Promise<ChangeSet | null> {
  try {
    return await collection.changesSince(token, options);
  } catch (e) {
    if (isLiaisonError(e, 'InvalidSyncToken')) return null;
    throw e;
  }
}

/** Items read ahead of knowing which are needed: the hrefs asked for, and the views read. */
interface ReadAhead<T> {
  readonly hrefs: ReadonlySet<Href>;
  readonly views: Promise<Map<Href, MailboxView<T>>>;
  /** Resolves once the reads are over, whether they failed or not. */
  readonly settled: Promise<void>;
}

/** Starts reading every item a change list names as changed. */
function readAhead<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  changes: Changes,
  codec: ItemCodec<T>,
  where: string,
): ReadAhead<T> {
  const hrefs = new Set(changes.changed.map((c) => c.href));
  const views = (async () => {
    const read = new Map<Href, MailboxView<T>>();
    for await (const view of readViews(collection, [...hrefs], codec, where)) read.set(view.href, view);
    return read;
  })();
  // A failure is the reader's to report; unread, it must not surface as unhandled.
  const settled = views.then(
    () => undefined,
    () => undefined,
  );
  return { hrefs, views, settled };
}

/** Reads only items that are new or whose etag moved; parse failures are quarantined. */
async function readChanged<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  refs: readonly ItemRef[],
  status: readonly StatusEntry[],
  codec: ItemCodec<T>,
  where: string,
  early: ReadAhead<T> | null = null,
): Promise<MailboxView<T>[]> {
  const known = new Map(status.map((s) => [s.href, s.mailboxEtag]));
  const views = new Map<Href, MailboxView<T>>();
  const toRead: Href[] = [];
  const readEarly: Href[] = [];
  for (const r of refs) {
    if (known.has(r.href) && known.get(r.href) === r.etag) views.set(r.href, { href: r.href, etag: r.etag });
    else if (early?.hrefs.has(r.href)) readEarly.push(r.href);
    else toRead.push(r.href);
  }
  if (early !== null) {
    const got = await early.views;
    for (const href of readEarly) {
      const view = got.get(href);
      if (view !== undefined) views.set(href, view);
    }
  }
  if (toRead.length > 0) {
    for await (const view of readViews(collection, toRead, codec, where)) views.set(view.href, view);
  }
  return refs.map((r) => views.get(r.href)).filter((v): v is MailboxView<T> => v !== undefined);
}

/**
 * Items longer than this are quarantined unparsed: no contact or event comes near it
 * (a vCard with a large photo is a few hundred thousand characters), and parsing one would
 * cost memory out of all proportion.
 */
export const MAX_ITEM_CHARS = 8_000_000;

/**
 * Reads `hrefs` and parses each into a view, in the order read; an item deleted between
 * listing and reading is left out (gone), one that does not parse is quarantined.
 */
export async function* readViews<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  hrefs: readonly Href[],
  codec: ItemCodec<T>,
  where: string,
): AsyncIterable<MailboxView<T>> {
  for await (const got of collection.read(hrefs)) {
    if ('missing' in got) continue;
    if ('failed' in got) {
      // There but unread: reported, its pair left alone. The etag is unknown and unused.
      const at = `${where}, ${collection.location}, item ${got.href}`;
      yield { href: got.href, etag: asEtag(''), quarantine: `${at}: not read: ${got.failed}`, notRead: true };
      continue;
    }
    let view: MailboxView<T>;
    if (got.text.length > MAX_ITEM_CHARS) {
      const size = (got.text.length / 1_000_000).toFixed(1);
      const at = `${where}, ${collection.location}, item ${got.href}`;
      yield {
        href: got.href,
        etag: got.etag,
        quarantine: `${at}: the item is ${size} million characters long, more than the ${MAX_ITEM_CHARS / 1_000_000} million Liaison reads`,
      };
      continue;
    }
    try {
      const item = codec.parse(got.text, fallbackUid(got.href));
      const fields = codec.fields(item);
      view = { href: got.href, etag: got.etag, content: { item, fields, hash: codec.hash(fields) } };
    } catch (e) {
      // Not a kind of item this collection's sync carries (a task in a calendar): left
      // alone, never quarantined: there is nothing wrong with it.
      if (isLiaisonError(e, 'Unsupported')) continue;
      const at = `${where}, ${collection.location}, item ${got.href}`;
      view = { href: got.href, etag: got.etag, quarantine: `${at}: ${errorMessage(e)}` };
    }
    yield view;
  }
}
