import type { ItemCodec } from '../domain/codec.js';
import { errorMessage, isLiaisonError } from '../domain/errors.js';
import type { CollectionKind, Etag, Href, SyncToken, Uid, UserId } from '../domain/ids.js';
import type { ChangeSet, ItemRef, MailboxCollection } from '../mailbox/port.js';
import type { FirmView, MailboxView } from './plan-types.js';
import type { FirmSyncStore, StatusEntry } from './ports.js';

/** Both sides of one collection as the planner needs them, gathered through the ports. */
export interface Sides<T> {
  readonly status: StatusEntry[];
  readonly refs: ItemRef[];
  /** The mailbox change-list token that goes with this listing, for the next express run. */
  readonly token: SyncToken | null;
  readonly mailbox: MailboxView<T>[];
  readonly firm: FirmView<T>[];
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
  /** Names the user and collection in quarantine reasons. */
  readonly where: string;
}

/**
 * Lists the mailbox (from the change list where there is a valid token), reads only
 * the items that are new or whose etag moved, and loads the firm side, rehashing only
 * items written since they were synced.
 */
export async function gatherSides<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  firm: FirmSyncStore<T>,
  codec: ItemCodec<T>,
  target: { readonly user: UserId; readonly kind: CollectionKind },
  options: GatherOptions,
): Promise<Sides<T>> {
  const status = await firm.loadStatus(target.user, target.kind);
  const { refs, token } = options.listed
    ? { refs: options.listed, token: await collection.currentToken() }
    : await listMailbox(collection, status, options.token, options.changes);
  const known = options.recovery ? [] : status;
  const mailbox = await readChanged(collection, refs, known, codec, options.where);
  const statusById = new Map(known.map((s) => [s.firmId, s]));
  const firmItems = (await firm.listItems(target.user, target.kind)).map((f): FirmView<T> => {
    // An item not written since it was synced has the synced content: no need to rehash it.
    const s = statusById.get(f.id);
    if (s && s.firmRevision !== null && s.firmRevision === f.revision) {
      return { id: f.id, item: f.item, revision: f.revision, fields: s.base, hash: s.firmHash };
    }
    const fields = codec.fields(f.item);
    return { id: f.id, item: f.item, revision: f.revision, fields, hash: codec.hash(fields) };
  });
  return { status, refs, token, mailbox, firm: firmItems };
}

/**
 * The mailbox listing: from the change list when express mode has a valid token
 * (unchanged items filled in from the status), else a full listing.
 */
export async function listMailbox(
  collection: MailboxCollection,
  status: readonly StatusEntry[],
  token: SyncToken | null,
  asked: ChangeSet | null = null,
): Promise<{ refs: ItemRef[]; token: SyncToken | null }> {
  if (token !== null || asked !== null) {
    try {
      const changes = asked ?? (token === null ? null : await changesOrNull(collection, token));
      if (changes) {
        const byHref = new Map<Href, Etag>();
        for (const s of status) if (s.mailboxEtag !== null) byHref.set(s.href, s.mailboxEtag);
        // A status without an etag (the server returned none) must be listed to learn it.
        if (status.some((s) => s.mailboxEtag === null)) return fullListing(collection);
        for (const h of changes.removed) byHref.delete(h);
        for (const c of changes.changed) byHref.set(c.href, c.etag);
        return { refs: [...byHref].map(([href, etag]) => ({ href, etag })), token: changes.token };
      }
    } catch (e) {
      if (!isLiaisonError(e, 'InvalidSyncToken')) throw e;
    }
  }
  return fullListing(collection);
}

/**
 * The changes since `token`, or null when the store keeps no change list or no longer
 * knows the token (RFC 6578 §3.2: an invalid token means a full listing, reconciled
 * against the status).
 */
export async function changesOrNull(
  collection: MailboxCollection,
  token: SyncToken,
): Promise<ChangeSet | null> {
  try {
    return await collection.changesSince(token);
  } catch (e) {
    if (isLiaisonError(e, 'InvalidSyncToken')) return null;
    throw e;
  }
}

async function fullListing(
  collection: MailboxCollection,
): Promise<{ refs: ItemRef[]; token: SyncToken | null }> {
  return collection.listAll();
}

/** Reads only items that are new or whose etag moved; parse failures are quarantined. */
async function readChanged<T extends { readonly uid: Uid }>(
  collection: MailboxCollection,
  refs: readonly ItemRef[],
  status: readonly StatusEntry[],
  codec: ItemCodec<T>,
  where: string,
): Promise<MailboxView<T>[]> {
  const known = new Map(status.map((s) => [s.href, s.mailboxEtag]));
  const views = new Map<Href, MailboxView<T>>();
  const toRead: Href[] = [];
  for (const r of refs) {
    if (known.has(r.href) && known.get(r.href) === r.etag) views.set(r.href, { href: r.href, etag: r.etag });
    else toRead.push(r.href);
  }
  for await (const view of readViews(collection, toRead, codec, where)) views.set(view.href, view);
  return refs.map((r) => views.get(r.href)).filter((v): v is MailboxView<T> => v !== undefined);
}

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
    let view: MailboxView<T>;
    try {
      const item = codec.parse(got.text, fallbackUid(got.href));
      const fields = codec.fields(item);
      view = { href: got.href, etag: got.etag, content: { item, fields, hash: codec.hash(fields) } };
    } catch (e) {
      const at = `${where}, ${collection.location}, ${got.href}`;
      view = { href: got.href, etag: got.etag, quarantine: `${at}: ${errorMessage(e)}` };
    }
    yield view;
  }
}

/** A stable UID for an item that has none: derived from where it lives. */
function fallbackUid(href: Href): Uid {
  return `liaison-${href.replace(/\.(vcf|ics)$/i, '')}` as Uid;
}
