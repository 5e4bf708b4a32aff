import type { ItemCodec } from '../domain/codec.js';
import { errorMessage, isLiaisonError } from '../domain/errors.js';
import type { Fields } from '../domain/fields.js';
import {
  asHref,
  type CollectionKind,
  type Etag,
  type FirmItemId,
  type Href,
  type Uid,
  type UserId,
} from '../domain/ids.js';
import { fallbackUid } from '../formats/fallback-uid.js';
import type { MailboxCollection } from '../mailbox/port.js';
import type { Op } from './plan-types.js';
import type { FirmSyncStore, ItemCommit, JournalEntry } from './ports.js';
import type { CollectionReport } from './report.js';

export interface ExecuteContext<T extends { readonly uid: Uid }> {
  readonly user: UserId;
  readonly kind: CollectionKind;
  readonly runId: string;
  readonly codec: ItemCodec<T>;
  readonly mailbox: MailboxCollection;
  readonly firm: FirmSyncStore<T>;
  readonly report: CollectionReport;
  /** Items per firm transaction. */
  readonly batchSize?: number;
  /** Mailbox writes in flight at once. */
  readonly concurrency?: number;
  readonly onProgress?: (done: number, total: number) => void;
  /** Told of every write that reached the mailbox: the etag it answered, or 'deleted'. */
  readonly onMailboxWrite?: (href: Href, etag: Etag | null | 'deleted') => void;
}

type Outcome<T> =
  | { commit: ItemCommit<T>; count: () => void }
  | { deferred: true }
  /** Not written, nothing to record: reported with why (see `report.notWritten`). */
  | { refused: { readonly href: string; readonly reason: string } };

/**
 * Applies a plan: mailbox writes first, then the firm writes, status and journal of a
 * batch in one transaction. Every state a crash can leave is one the planner resolves
 * on the next run without loss or duplicates: a mailbox item created but not recorded
 * is matched by UID; an update written but not recorded reads as "same change on both
 * sides"; a deletion not recorded reads as "gone on both sides".
 */
export async function executePlan<T extends { readonly uid: Uid }>(
  ops: readonly Op[],
  ctx: ExecuteContext<T>,
): Promise<void> {
  const batchSize = ctx.batchSize ?? 250;
  const concurrency = ctx.concurrency ?? 8;
  let done = 0;
  for (let i = 0; i < ops.length; i += batchSize) {
    const chunk = ops.slice(i, i + batchSize);
    const results: (Outcome<T> | undefined)[] = new Array(chunk.length);
    let failure: unknown = null;
    let next = 0;
    const worker = async () => {
      while (failure === null && next < chunk.length) {
        const at = next++;
        try {
          results[at] = await applyOne(chunk[at]!, ctx);
        } catch (e) {
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chunk.length) }, worker));
    // Record what did reach the mailbox even when a later write failed.
    const ready: ItemCommit<T>[] = [];
    const counters: (() => void)[] = [];
    const stale = await staleFirmItems(chunk, results, ctx);
    results.forEach((r, at) => {
      if (!r) return;
      if ('refused' in r) ctx.report.notWritten.push(r.refused);
      // A firm item edited since it was planned is not overwritten or deleted: it is re-planned.
      else if ('deferred' in r || stale.has(at)) ctx.report.deferred++;
      else {
        ready.push(r.commit);
        counters.push(r.count);
      }
    });
    if (ready.length > 0) await ctx.firm.commit(ctx.user, ctx.kind, ctx.runId, ready);
    for (const c of counters) c();
    if (failure !== null) throw failure;
    done += chunk.length;
    ctx.onProgress?.(done, ops.length);
  }
}

/**
 * The positions of operations that would overwrite or delete a firm item edited since the
 * plan was made (by a CRM user, or after a plan was held): the firm-side precondition, as
 * If-Match is the mailbox's. Checked just before the commit.
 */
async function staleFirmItems<T extends { readonly uid: Uid }>(
  chunk: readonly Op[],
  results: readonly (Outcome<T> | undefined)[],
  ctx: ExecuteContext<T>,
): Promise<Set<number>> {
  const expected = new Map<number, { id: FirmItemId; revision: string }>();
  chunk.forEach((op, at) => {
    const r = results[at];
    if (!r || 'deferred' in r) return;
    if (op.type === 'delete-in-firm' || (op.type === 'update' && op.toFirm)) {
      expected.set(at, { id: op.firmId, revision: op.firmRevision });
    }
  });
  if (expected.size === 0) return new Set();
  const ids = [...new Set([...expected.values()].map((e) => e.id))];
  const current = await ctx.firm.revisionsOf(ctx.user, ctx.kind, ids);
  const stale = new Set<number>();
  for (const [at, e] of expected) if (current.get(e.id) !== e.revision) stale.add(at);
  return stale;
}

function journalLine(
  action: JournalEntry['action'],
  direction: JournalEntry['direction'],
  firmId: FirmItemId | null,
  href: Href | null,
  uid: Uid | null,
  before: Fields | null,
  after: Fields | null,
  note = '',
): JournalEntry {
  return { action, direction, firmId, href, uid, before, after, note };
}

async function applyOne<T extends { readonly uid: Uid }>(
  op: Op,
  ctx: ExecuteContext<T>,
): Promise<Outcome<T>> {
  const { codec, mailbox, report } = ctx;
  const hashOf = (f: Fields) => codec.hash(f);

  switch (op.type) {
    case 'create-in-mailbox': {
      const item = codec.fromFields(op.uid, op.fields);
      let written: { href: Href; etag: Etag | null };
      try {
        written = await mailbox.create(op.uid, codec.serialize(item));
        ctx.onMailboxWrite?.(written.href, written.etag);
      } catch (e) {
        if (isLiaisonError(e, 'AlreadyExists')) {
          // The UID is taken outside this collection (Cyrus allows a UID once in all of a
          // user's calendars): no later run can match it here, so it is said, not deferred.
          const holder = e.context.href;
          if (holder !== undefined && holder !== null && !mailbox.holds(asHref(holder))) {
            return {
              refused: {
                href: holder,
                reason: `${e.message}: the UID ${op.uid} is used by ${holder}, outside the synced ${ctx.kind === 'contacts' ? 'address book' : 'calendar'}; it is written once that item is moved into it or deleted`,
              },
            };
          }
          // Someone created an item at that place meanwhile: the next run matches it by UID.
          return { deferred: true };
        }
        throw e;
      }
      return {
        commit: {
          status: {
            op: 'put',
            entry: {
              firmId: op.firmId,
              href: written.href,
              firmHash: op.firmHash,
              firmRevision: op.firmRevision,
              mailboxEtag: written.etag,
              mailboxHash: hashOf(op.fields),
              base: op.fields,
            },
          },
          journal: [journalLine('create', 'to-mailbox', op.firmId, written.href, op.uid, null, op.fields)],
        },
        count: () => report.toMailbox.created++,
      };
    }
    case 'create-in-firm': {
      const hash = op.hash ?? hashOf(op.fields);
      return {
        commit: {
          firm: { op: 'create', item: codec.fromFields(op.uid, op.fields) },
          status: {
            op: 'put',
            entry: {
              href: op.href,
              firmHash: hash,
              firmRevision: null, // the store records the new row's revision
              mailboxEtag: op.etag,
              mailboxHash: hash,
              base: op.fields,
            },
          },
          journal: [journalLine('create', 'to-firm', null, op.href, op.uid, null, op.fields)],
        },
        count: () => report.toFirm.created++,
      };
    }
    case 'update': {
      const resultHash = hashOf(op.result);
      const item = codec.fromFields(op.uid, op.result);
      let etag: Etag | null = op.etag;
      if (op.toMailbox) {
        try {
          let text = codec.serialize(item);
          if (codec.keepFromStored) {
            const stored = await storedText(mailbox, op.href);
            if (stored !== null) text = codec.keepFromStored(text, stored);
          }
          etag = (await mailbox.update(op.href, text, op.etag)).etag;
          ctx.onMailboxWrite?.(op.href, etag);
        } catch (e) {
          // Changed in the mailbox since it was read: never a blind retry; the next run re-plans it.
          if (isLiaisonError(e, 'PreconditionFailed') || isLiaisonError(e, 'NotFound'))
            return { deferred: true };
          if (isLiaisonError(e, 'Unsupported')) return keepMailboxVersion(op, ctx, errorMessage(e));
          throw e;
        }
      }
      const entries: JournalEntry[] = [];
      if (op.toFirm)
        entries.push(
          journalLine('update', 'to-firm', op.firmId, op.href, op.uid, op.previous.firm, op.result),
        );
      if (op.toMailbox) {
        entries.push(
          journalLine('update', 'to-mailbox', op.firmId, op.href, op.uid, op.previous.mailbox, op.result),
        );
      }
      if (op.reason === 'matched' || op.reason === 'recovered') {
        entries.push(journalLine('link', 'none', op.firmId, op.href, op.uid, null, null, op.reason));
      }
      for (const c of op.conflicts) {
        const lost = c.winner === 'firm' ? c.mailbox : c.firm;
        const loser = c.winner === 'firm' ? 'mailbox' : 'firm database';
        entries.push(
          journalLine(
            'conflict',
            'none',
            op.firmId,
            op.href,
            op.uid,
            op.previous.firm,
            op.result,
            `${c.field}: the ${loser}'s value ${JSON.stringify(lost)} lost to the ${c.winner === 'firm' ? 'firm database' : 'mailbox'}`,
          ),
        );
      }
      return {
        commit: {
          ...(op.toFirm ? { firm: { op: 'update' as const, id: op.firmId, item } } : {}),
          status: {
            op: 'put',
            entry: {
              firmId: op.firmId,
              href: op.href,
              firmHash: op.toFirm ? resultHash : op.firmHash,
              firmRevision: op.firmRevision,
              mailboxEtag: etag,
              mailboxHash: op.toMailbox ? resultHash : op.mailboxHash,
              base: op.result,
            },
          },
          journal: entries,
        },
        count: () => {
          if (op.toFirm) report.toFirm.updated++;
          if (op.toMailbox) report.toMailbox.updated++;
          if (op.conflicts.length > 0 || op.reason === 'both-changed') report.conflicts++;
          if (op.reason === 'matched' || op.reason === 'recovered') report.paired++;
        },
      };
    }
    case 'delete-in-mailbox': {
      try {
        await mailbox.delete(op.href, op.etag);
        ctx.onMailboxWrite?.(op.href, 'deleted');
      } catch (e) {
        // Edited in the mailbox since it was listed: modify beats delete, next run.
        if (isLiaisonError(e, 'PreconditionFailed')) return { deferred: true };
        if (isLiaisonError(e, 'Unsupported')) return restoreFromMailbox(op, ctx, errorMessage(e));
        throw e;
      }
      return {
        commit: {
          status: { op: 'remove', firmId: op.firmId },
          journal: [journalLine('delete', 'to-mailbox', op.firmId, op.href, op.uid, op.fields, null)],
        },
        count: () => report.toMailbox.deleted++,
      };
    }
    case 'delete-in-firm':
      return {
        commit: {
          firm: { op: 'delete', id: op.firmId },
          status: { op: 'remove', firmId: op.firmId },
          journal: [journalLine('delete', 'to-firm', op.firmId, op.href, op.uid, op.fields, null)],
        },
        count: () => report.toFirm.deleted++,
      };
    case 'forget':
      return { commit: { status: { op: 'remove', firmId: op.firmId }, journal: [] }, count: () => {} };
  }
}

type UpdateOp = Extract<Op, { type: 'update' }>;
type DeleteInMailboxOp = Extract<Op, { type: 'delete-in-mailbox' }>;

/**
 * The mailbox would not take the firm's change (a meeting its server schedules, which the
 * change would announce to the attendees): the firm database takes the mailbox's version
 * back, the lost values kept in the journal line.
 */
function keepMailboxVersion<T extends { readonly uid: Uid }>(
  op: UpdateOp,
  ctx: ExecuteContext<T>,
  reason: string,
): Outcome<T> {
  const fields = op.previous.mailbox;
  return {
    commit: {
      firm: { op: 'update', id: op.firmId, item: ctx.codec.fromFields(op.uid, fields) },
      status: {
        op: 'put',
        entry: {
          firmId: op.firmId,
          href: op.href,
          firmHash: op.mailboxHash,
          firmRevision: op.firmRevision,
          mailboxEtag: op.etag,
          mailboxHash: op.mailboxHash,
          base: fields,
        },
      },
      journal: [
        journalLine('update', 'to-firm', op.firmId, op.href, op.uid, op.previous.firm, fields, reason),
      ],
    },
    count: () => {
      ctx.report.toFirm.updated++;
      ctx.report.notWritten.push({ href: op.href, reason: `kept as in the mailbox: ${reason}` });
    },
  };
}

/**
 * The mailbox would not delete the item (a meeting its server schedules, whose deletion
 * would cancel it for the attendees): it comes back into the firm database as it is in
 * the mailbox, under a new id.
 */
async function restoreFromMailbox<T extends { readonly uid: Uid }>(
  op: DeleteInMailboxOp,
  ctx: ExecuteContext<T>,
  reason: string,
): Promise<Outcome<T>> {
  const { codec } = ctx;
  for await (const got of ctx.mailbox.read([op.href])) {
    if (!('text' in got)) break;
    const item = codec.parse(got.text, op.uid ?? fallbackUid(op.href));
    const fields = codec.fields(item);
    const hash = codec.hash(fields);
    return {
      commit: {
        firm: { op: 'create', item },
        status: {
          op: 'put',
          entry: {
            href: op.href,
            firmHash: hash,
            firmRevision: null,
            mailboxEtag: got.etag,
            mailboxHash: hash,
            base: fields,
          },
        },
        journal: [journalLine('create', 'to-firm', null, op.href, item.uid, null, fields, reason)],
      },
      count: () => {
        ctx.report.toFirm.created++;
        ctx.report.notWritten.push({ href: op.href, reason: `put back as in the mailbox: ${reason}` });
      },
    };
  }
  // Gone or unreadable meanwhile: the next run sees what it became.
  return { deferred: true };
}

/** The mailbox's stored text of an item, or null when it is gone or cannot be read. */
async function storedText(mailbox: MailboxCollection, href: Href): Promise<string | null> {
  for await (const got of mailbox.read([href])) if ('text' in got) return got.text;
  return null;
}
