import type { ItemCodec } from '../domain/codec.js';
import { errorMessage, LiaisonError } from '../domain/errors.js';
import type { Etag, Href, Uid } from '../domain/ids.js';
import type { MailboxCollection } from '../mailbox/port.js';
import { type CollectionDeps, type CollectionTarget, commitMarker } from './collection-sync.js';
import { executePlan } from './execute.js';
import type { Op, Plan } from './plan-types.js';
import type { HeldPlanRecord } from './ports.js';
import type { CollectionReport } from './report.js';

/** Reads a stored plan back; a plan that does not parse is a data error naming the held id. */
export function parseHeldPlan(rec: HeldPlanRecord): Plan {
  try {
    return JSON.parse(rec.plan) as Plan;
  } catch (e) {
    throw new LiaisonError('InvalidData', `held plan ${rec.id} cannot be read: ${errorMessage(e)}`);
  }
}

/**
 * The operations that undo where held changes came from (SPEC §6 "reject"): a deletion
 * made in the mailbox is answered by putting the item back into the mailbox from the
 * firm database, and the other way round; a one-sided edit is overwritten with the
 * other side's version. Creations are dropped: new items never count toward a hold and
 * are picked up by the next run.
 */
export async function reverseOps<T extends { readonly uid: Uid }>(
  plan: Plan,
  codec: ItemCodec<T>,
  readMailbox: (href: Href) => Promise<{ etag: Etag; item: T } | null>,
): Promise<Op[]> {
  const out: Op[] = [];
  for (const op of plan.ops) {
    switch (op.type) {
      case 'delete-in-firm':
        out.push({
          type: 'create-in-mailbox',
          firmId: op.firmId,
          uid: op.uid,
          fields: op.fields,
          firmHash: op.firmHash,
          firmRevision: op.firmRevision,
          replaces: op.href,
        });
        break;
      case 'delete-in-mailbox': {
        const now = await readMailbox(op.href);
        if (!now) break; // gone meanwhile: nothing to put back
        out.push({
          type: 'create-in-firm',
          href: op.href,
          etag: now.etag,
          uid: now.item.uid,
          fields: codec.fields(now.item),
          replaces: op.firmId,
        });
        break;
      }
      case 'update': {
        if (!op.toFirm && !op.toMailbox) break;
        // Restore the side that was about to be overwritten: keep the firm's version on a two-sided edit.
        const keep = op.toMailbox && !op.toFirm ? op.previous.mailbox : op.previous.firm;
        out.push({
          ...op,
          result: keep,
          toFirm: !sameFields(keep, op.previous.firm),
          toMailbox: !sameFields(keep, op.previous.mailbox),
          conflicts: [],
        });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/**
 * The plan's operations without the deletions of firm items whose mailbox item is there
 * again (put back while the plan was held): the next sync sees what it became. One read of
 * those hrefs; an item the server would not hand over counts as there.
 */
async function stillGone(
  ops: readonly Op[],
  collection: MailboxCollection,
  report: CollectionReport,
): Promise<Op[]> {
  const hrefs = ops.flatMap((op) => (op.type === 'delete-in-firm' ? [op.href] : []));
  if (hrefs.length === 0) return [...ops];
  const back = new Set<string>();
  for await (const r of collection.read(hrefs)) if (!('missing' in r)) back.add(r.href);
  report.deferred += back.size;
  return ops.filter((op) => op.type !== 'delete-in-firm' || !back.has(op.href));
}

function sameFields(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Applies (approve) or undoes (reject) a held plan for one user's collection, then
 * writes a fresh marker. The mailbox probe is cleared so the next express run compares
 * everything once.
 */
export async function resolveHeldPlan<T extends { readonly uid: Uid }>(
  rec: HeldPlanRecord,
  decision: 'approve' | 'reject',
  target: CollectionTarget,
  deps: CollectionDeps<T>,
  report: CollectionReport,
): Promise<void> {
  if (rec.state !== 'held') {
    throw new LiaisonError('Usage', `held plan ${rec.id} was already ${rec.state}`);
  }
  const plan = parseHeldPlan(rec);
  const collection = await deps.mailbox.collection(target.kind);
  // Read before anything is applied: a note that cannot be read now fails the decision,
  // with the plan still held. Written back without it, the note would lose the other
  // collection's time, and that collection would turn up out of sync.
  const note = await deps.mailbox.readMarker();
  const ops =
    decision === 'approve'
      ? await stillGone(plan.ops, collection, report)
      : await reverseOps(plan, deps.codec, async (href) => {
          for await (const r of collection.read([href])) {
            if ('missing' in r) return null;
            if ('failed' in r) {
              throw new LiaisonError('Unavailable', `${href} cannot be read to put it back: ${r.failed}`);
            }
            return { etag: r.etag, item: deps.codec.parse(r.text, `liaison-${href}` as Uid) };
          }
          return null;
        });
  await executePlan(ops, {
    user: target.user,
    kind: target.kind,
    runId: target.runId,
    codec: deps.codec,
    mailbox: collection,
    firm: deps.firm,
    report,
  });
  await deps.held.resolveHeld(rec.id, decision === 'approve' ? 'approved' : 'rejected');
  const counter = await deps.firm.changeCounter(target.user, target.kind);
  await commitMarker(target, deps, note, { probe: null, token: null, firmCounter: counter }, true);
}
