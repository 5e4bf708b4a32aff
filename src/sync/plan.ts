import type { ItemCodec } from '../domain/codec.js';
import { canonicalJson, type Fields } from '../domain/fields.js';
import type { CollectionKind, FirmItemId, Href, Uid } from '../domain/ids.js';
import { type MergeResult, mergeThreeWay, mergeTwoWay } from './merge.js';
import type {
  FirmView,
  MailboxView,
  Op,
  Plan,
  PlanOptions,
  Quarantined,
  UpdateReason,
} from './plan-types.js';
import type { StatusEntry } from './ports.js';

export interface PlanInput<T extends { readonly uid: Uid }> {
  readonly codec: ItemCodec<T>;
  readonly firm: readonly FirmView<T>[];
  /** The whole mailbox collection as it is now (express mode fills unchanged items from the status). */
  readonly mailbox: readonly MailboxView<T>[];
  readonly status: readonly StatusEntry[];
  readonly options: PlanOptions;
  readonly setFields: ReadonlySet<string>;
}

interface Content {
  readonly fields: Fields;
  readonly hash: string;
  readonly uid: Uid | null;
}

/**
 * The decision table of mailbox sync (SPEC §4): a pure function of both sides and
 * the status. Every case of present/absent/changed has exactly one branch.
 */
export function planSync<T extends { readonly uid: Uid }>(input: PlanInput<T>): Plan {
  const { codec, options } = input;
  const ops: Op[] = [];
  const quarantined: Quarantined[] = [];
  const firmById = new Map(input.firm.map((f) => [f.id, f]));
  const mailboxByHref = new Map(input.mailbox.map((m) => [m.href, m]));
  const pairedFirm = new Set<FirmItemId>();
  const pairedHref = new Set<Href>();

  for (const m of input.mailbox) if (m.quarantine) quarantined.push({ href: m.href, reason: m.quarantine });

  const mailboxContent = (m: MailboxView<T>, s: StatusEntry | null): Content | null => {
    if (m.content) return { fields: m.content.fields, hash: m.content.hash, uid: m.content.item.uid };
    // Not read: its etag matches the status, so its content is what was synced last.
    if (s && !m.quarantine) return { fields: s.base, hash: s.mailboxHash, uid: null };
    return null;
  };

  const status = options.recovery ? [] : input.status;
  // A mailbox item that left its href while an item with its UID appeared at a new one was
  // moved (renamed by a client), not deleted and re-created: the pair follows it.
  const statusHrefs = new Set(status.map((s) => s.href));
  const newByUid = new Map<Uid, MailboxView<T>>();
  for (const m of input.mailbox) {
    const uid = m.content?.item.uid;
    if (uid !== undefined && !statusHrefs.has(m.href) && !newByUid.has(uid)) newByUid.set(uid, m);
  }
  const movedTo = (f: FirmView<T> | undefined): MailboxView<T> | undefined => {
    if (!f) return undefined;
    const m = newByUid.get(f.item.uid);
    if (m) newByUid.delete(f.item.uid);
    return m;
  };
  for (const s of status) {
    const f = firmById.get(s.firmId);
    const m = mailboxByHref.get(s.href) ?? movedTo(f);
    if (f) pairedFirm.add(f.id);
    if (m) pairedHref.add(m.href);
    if (m?.quarantine) continue; // unreadable mailbox item: leave the pair alone, report it
    const mc = m ? mailboxContent(m, s) : null;
    const firmChanged = f !== undefined && f.hash !== s.firmHash;
    const mailboxChanged = mc !== null && mc.hash !== s.mailboxHash;

    if (f && m && mc) {
      // A client that replaced the item at this href may have given it another UID. Servers
      // refuse a write that changes a stored item's UID (RFC 4791 §5.3.2.1, RFC 6352
      // §6.3.2.1), and a fresh sync would take the mailbox's: the pair takes it, firm item too.
      const uid = mc.uid ?? f.item.uid;
      const renamed = uid !== f.item.uid;
      if (!firmChanged && !mailboxChanged) {
        // Unchanged both sides; a new etag with equal content only refreshes the status.
        if (m.etag !== s.mailboxEtag || renamed) {
          ops.push(update(f, m, mc, f.fields, renamed, false, [], 'etag-refresh', uid));
        }
      } else if (firmChanged && !mailboxChanged) {
        // Changed in the firm database only: carry it to the mailbox.
        ops.push(update(f, m, mc, f.fields, renamed, true, [], 'firm-changed', uid));
      } else if (!firmChanged && mailboxChanged) {
        // Changed in the mailbox only: carry it to the firm database.
        ops.push(update(f, m, mc, mc.fields, true, false, [], 'mailbox-changed', uid));
      } else if (f.hash === mc.hash) {
        // Both changed to the same content (also: a crash after writing one side): record it.
        ops.push(update(f, m, mc, f.fields, renamed, false, [], 'same-change', uid));
      } else {
        // Changed on both sides: resolve by policy.
        const merged = resolveConflict(s.base, f.fields, mc.fields, input);
        ops.push(updateFromMerge(f, m, mc, normalize(codec, uid, merged), 'both-changed', uid));
      }
    } else if (f && !m) {
      if (!firmChanged) {
        // Deleted in the mailbox, unchanged in the firm database: delete it there.
        ops.push({
          type: 'delete-in-firm',
          firmId: f.id,
          href: s.href,
          uid: f.item.uid,
          fields: f.fields,
          firmHash: f.hash,
          firmRevision: f.revision,
        });
      } else {
        // Deleted in the mailbox but changed in the firm database: modify beats delete.
        ops.push(createInMailbox(f, s.href));
      }
    } else if (!f && m && mc) {
      if (!mailboxChanged) {
        // Deleted in the firm database, unchanged in the mailbox: delete it there.
        ops.push({
          type: 'delete-in-mailbox',
          firmId: s.firmId,
          href: m.href,
          etag: m.etag,
          uid: mc.uid,
          fields: mc.fields,
        });
      } else {
        // Deleted in the firm database but changed in the mailbox: modify beats delete.
        ops.push(createInFirm(m, mc, s.firmId));
      }
    } else {
      // Gone on both sides: forget the pair.
      ops.push({ type: 'forget', firmId: s.firmId, href: s.href });
    }
  }

  // Items with no status: match them instead of duplicating (first sync, recovery, or a
  // rerun after a crash between a mailbox create and its status record).
  const firmFree = input.firm.filter((f) => !pairedFirm.has(f.id));
  const mailboxFree: { m: MailboxView<T>; c: Content; item: T }[] = [];
  for (const m of input.mailbox) {
    if (pairedHref.has(m.href) || m.quarantine || !m.content) continue;
    mailboxFree.push({ m, c: mailboxContent(m, null)!, item: m.content.item });
  }
  // Recovery does not trust the last sync's record, but where it paired an item with one of
  // the same UID, that pair stands: two items sharing a UID (two files, one card) would
  // otherwise be matched crosswise, each taking the other's content.
  const linked: [number, number][] = [];
  if (options.recovery) {
    const firmAt = new Map(firmFree.map((f, i) => [f.id, i]));
    const mailboxAt = new Map(mailboxFree.map((x, i) => [x.m.href, i]));
    for (const s of input.status) {
      const fi = firmAt.get(s.firmId);
      const mi = mailboxAt.get(s.href);
      if (fi === undefined || mi === undefined) continue;
      if (firmFree[fi]!.item.uid !== mailboxFree[mi]!.item.uid) continue;
      linked.push([fi, mi]);
      firmAt.delete(s.firmId);
      mailboxAt.delete(s.href);
    }
  }
  const linkedFirm = new Set(linked.map(([fi]) => fi));
  const linkedMailbox = new Set(linked.map(([, mi]) => mi));
  const firmRest = firmFree.map((_, i) => i).filter((i) => !linkedFirm.has(i));
  const mailboxRest = mailboxFree.map((_, i) => i).filter((i) => !linkedMailbox.has(i));
  const matches = [
    ...linked,
    ...matchItems(
      firmRest.map((i) => codec.matchKeys(firmFree[i]!.item)),
      mailboxRest.map((i) => codec.matchKeys(mailboxFree[i]!.item)),
    ).map(([fi, mi]): [number, number] => [firmRest[fi]!, mailboxRest[mi]!]),
  ];
  const matchedFirm = new Set<number>();
  const matchedMailbox = new Set<number>();
  for (const [fi, mi] of matches) {
    const f = firmFree[fi]!;
    const x = mailboxFree[mi]!;
    matchedFirm.add(fi);
    matchedMailbox.add(mi);
    const reason: UpdateReason = options.recovery ? 'recovered' : 'matched';
    if (f.hash === x.c.hash) {
      ops.push(update(f, x.m, x.c, f.fields, x.item.uid !== f.item.uid, false, [], reason, x.item.uid));
    } else {
      const merged = mergeTwoWay(f.fields, x.c.fields, winnerOf(input.options), input.setFields);
      ops.push(updateFromMerge(f, x.m, x.c, normalize(codec, x.item.uid, merged), reason, x.item.uid));
    }
  }

  let leftAlone = 0;
  const creatable = (item: T) => {
    if (options.privateItems === 'keep' && codec.isPrivate(item)) return false;
    return insideWindow(codec.span(item), options.window);
  };
  firmFree.forEach((f, i) => {
    if (matchedFirm.has(i)) return;
    // In the firm database only: create it in the mailbox.
    if (creatable(f.item)) ops.push(createInMailbox(f, null));
    else leftAlone++;
  });
  mailboxFree.forEach((x, i) => {
    if (matchedMailbox.has(i)) return;
    // In the mailbox only: create it in the firm database.
    if (creatable(x.item)) ops.push(createInFirm(x.m, x.c, null));
    else leftAlone++;
  });

  return { kind: codec.kind as CollectionKind, ops, quarantined, leftAlone };
}

/**
 * A merged result in the codec's normal form (sets sorted as the codec sorts them, …), so
 * that what is written hashes the same when read back and a merge never loops.
 */
function normalize<T extends { readonly uid: Uid }>(
  codec: ItemCodec<T>,
  uid: Uid,
  merged: MergeResult,
): MergeResult {
  return { ...merged, fields: codec.fields(codec.fromFields(uid, merged.fields)) };
}

function winnerOf(o: PlanOptions) {
  return o.policy === 'mailbox-wins' ? 'mailbox' : o.policy === 'firm-wins' ? 'firm' : o.winner;
}

function resolveConflict<T extends { readonly uid: Uid }>(
  base: Fields,
  firm: Fields,
  mailbox: Fields,
  input: PlanInput<T>,
): MergeResult {
  const { policy } = input.options;
  if (policy === 'merge') {
    const { winner } = input.options;
    const sides = input.codec.alignForMerge?.(base, firm, mailbox, winner) ?? { base, firm, mailbox };
    return mergeThreeWay(sides.base, sides.firm, sides.mailbox, winner, input.setFields);
  }
  // A whole-item policy: the loser's differing fields are still reported for the journal.
  const winner = policy === 'firm-wins' ? 'firm' : 'mailbox';
  const all = mergeThreeWay(base, firm, mailbox, winner, new Set());
  return {
    fields: winner === 'firm' ? firm : mailbox,
    conflicts: all.conflicts,
  };
}

function update<T extends { readonly uid: Uid }>(
  f: FirmView<T>,
  m: MailboxView<T>,
  mc: Content,
  result: Fields,
  toFirm: boolean,
  toMailbox: boolean,
  conflicts: MergeResult['conflicts'],
  reason: UpdateReason,
  uid: Uid = f.item.uid,
): Op {
  return {
    type: 'update',
    firmId: f.id,
    href: m.href,
    etag: m.etag,
    uid,
    firmHash: f.hash,
    firmRevision: f.revision,
    mailboxHash: mc.hash,
    previous: { firm: f.fields, mailbox: mc.fields },
    result,
    toFirm,
    toMailbox,
    conflicts,
    reason,
  };
}

function updateFromMerge<T extends { readonly uid: Uid }>(
  f: FirmView<T>,
  m: MailboxView<T>,
  mc: Content,
  merged: MergeResult,
  reason: UpdateReason,
  uid: Uid = f.item.uid,
): Op {
  const toFirm = canonicalJson(merged.fields) !== canonicalJson(f.fields) || uid !== f.item.uid;
  const toMailbox = canonicalJson(merged.fields) !== canonicalJson(mc.fields);
  return update(f, m, mc, merged.fields, toFirm, toMailbox, merged.conflicts, reason, uid);
}

function createInMailbox<T extends { readonly uid: Uid }>(f: FirmView<T>, replaces: Href | null): Op {
  return {
    type: 'create-in-mailbox',
    firmId: f.id,
    uid: f.item.uid,
    fields: f.fields,
    firmHash: f.hash,
    firmRevision: f.revision,
    replaces,
  };
}

function createInFirm<T extends { readonly uid: Uid }>(
  m: MailboxView<T>,
  mc: Content,
  replaces: FirmItemId | null,
): Op {
  return {
    type: 'create-in-firm',
    href: m.href,
    etag: m.etag,
    uid: mc.uid ?? ('' as Uid),
    fields: mc.fields,
    hash: mc.hash,
    replaces,
  };
}

function insideWindow(
  span: { start: number; end: number | null } | null,
  window: PlanOptions['window'],
): boolean {
  if (!span || !window) return true;
  const end = span.end ?? Number.POSITIVE_INFINITY;
  return end >= window.start && span.start <= window.end;
}

/**
 * Pairs items by match keys, tier by tier (strongest first). A key shared by several
 * unmatched items on one side pairs the first of each, in listing order, so a rerun
 * pairs the same way.
 */
export function matchItems(
  firmKeys: readonly (readonly (readonly string[])[])[],
  mailboxKeys: readonly (readonly (readonly string[])[])[],
): [number, number][] {
  const pairs: [number, number][] = [];
  const firmDone = new Set<number>();
  const mailboxDone = new Set<number>();
  const tiers = Math.max(0, ...firmKeys.map((k) => k.length), ...mailboxKeys.map((k) => k.length));
  for (let t = 0; t < tiers; t++) {
    const byKey = new Map<string, number[]>();
    mailboxKeys.forEach((keys, i) => {
      if (mailboxDone.has(i)) return;
      for (const k of keys[t] ?? []) {
        const list = byKey.get(k);
        if (list) list.push(i);
        else byKey.set(k, [i]);
      }
    });
    firmKeys.forEach((keys, fi) => {
      if (firmDone.has(fi)) return;
      for (const k of keys[t] ?? []) {
        const mi = byKey.get(k)?.find((i) => !mailboxDone.has(i));
        if (mi === undefined) continue;
        pairs.push([fi, mi]);
        firmDone.add(fi);
        mailboxDone.add(mi);
        return;
      }
    });
  }
  return pairs;
}
