import type { ItemCodec } from '../domain/codec.js';
import type { CollectionKind, SyncToken, Uid, UserId } from '../domain/ids.js';
import type { ItemRef, MailboxCollection } from '../mailbox/port.js';
import { turn } from './event-loop.js';
import { executePlan } from './execute.js';
import { readViews } from './gather.js';
import { planSync } from './plan.js';
import type { MailboxView, Op, PlanOptions } from './plan-types.js';
import type { FirmSyncStore } from './ports.js';
import { type CollectionReport, tallyPlan } from './report.js';

/**
 * Items parsed and planned together. With a commit per chunk, 50 kept the peak memory of a
 * first sync of 10,000 contacts near 170 MB (100: 186-192 MB, most of it garbage the
 * collector promoted while a larger chunk was in flight); 25 cost a tenth more time and
 * saved nothing more.
 */
const CHUNK = 50;

/**
 * Planned creations committed together, in one transaction. UIDs, e-mail addresses and
 * hrefs are random keys, so each commit rewrites most leaf pages of their indexes whatever
 * its size: committing every 50 wrote about 155 MB of WAL for 10,000 contacts, and a first
 * sync took about a quarter longer. The plan of a creation holds only its fields; waiting
 * for 250 raised that sync's peak memory by about 10 MB, and 500 or 1,000 were no faster.
 */
const COMMIT_EVERY = 250;

export interface FirstLoadContext<T extends { readonly uid: Uid }> {
  readonly target: { readonly user: UserId; readonly kind: CollectionKind; readonly runId: string };
  readonly codec: ItemCodec<T>;
  readonly firm: FirmSyncStore<T>;
  readonly collection: MailboxCollection;
  readonly setFields: ReadonlySet<string>;
  readonly options: PlanOptions;
  readonly dryRun: boolean;
  readonly report: CollectionReport;
  /** Names the user and collection in quarantine reasons. */
  readonly where: string;
  readonly onProgress?: (done: number, total: number) => void;
  /** Awaited before the first plan: false stops the load (the marker said out of sync). */
  readonly ready: () => Promise<boolean>;
  /**
   * Whether the listing is asked for every item's data too. Not after a failed run: a
   * server that builds its whole answer first may fail to build one that large in time.
   */
  readonly listWithItems: boolean;
}

/**
 * The first sync of a collection whose firm side and status are both empty: every mailbox
 * item is a creation in the firm database, so the plan of a chunk of items is exactly that
 * chunk's share of the plan of the whole collection, and the collection is loaded a chunk
 * at a time — parsed and planned while the next chunk's reads are in flight, committed a
 * few chunks' plans at a time — instead of being held whole in memory before the first
 * commit. Creations never trip a mass-change guard (it counts changes to items synced
 * before, and there are none).
 *
 * `listed` is a listing already made, or null to list now. Returns the change-list token
 * that goes with the listing and the number of operations planned, or null when `ready`
 * said to stop.
 */
export async function loadIntoEmptyFirm<T extends { readonly uid: Uid }>(
  ctx: FirstLoadContext<T>,
  listed: ItemRef[] | null,
): Promise<{ token: SyncToken | null; planned: number; examined: null } | null> {
  const { codec, collection, report } = ctx;
  const { refs, token } = listed
    ? { refs: listed, token: await collection.currentToken() }
    : await collection.listAll({ withItems: ctx.listWithItems });
  let planned = 0;
  let done = 0;
  // An item the server would not hand over: no change list then, the next run lists again.
  let notRead = false;
  let chunk: MailboxView<T>[] = [];
  let waiting: Op[] = [];
  const commit = async () => {
    const ops = waiting;
    waiting = [];
    const offset = done;
    done += ops.length;
    await executePlan(ops, {
      ...ctx.target,
      codec,
      mailbox: collection,
      firm: ctx.firm,
      report,
      batchSize: COMMIT_EVERY,
      onProgress: (d) => ctx.onProgress?.(offset + d, refs.length),
    });
  };
  const flush = async () => {
    const plan = planSync({
      codec,
      firm: [],
      mailbox: chunk,
      status: [],
      setFields: ctx.setFields,
      options: ctx.options,
    });
    chunk = [];
    report.quarantined.push(...plan.quarantined);
    planned += plan.ops.length;
    if (ctx.dryRun) {
      tallyPlan(plan, report);
      return;
    }
    waiting.push(...plan.ops);
    if (waiting.length >= COMMIT_EVERY) await commit();
  };
  const hrefs = refs.map((r) => r.href);
  let ready = false;
  for await (const view of readViews(collection, hrefs, codec, ctx.where)) {
    chunk.push(view);
    notRead ||= view.notRead === true;
    if (chunk.length < CHUNK) continue;
    ready ||= await ctx.ready();
    if (!ready) return null;
    await flush();
    // Items handed over with the listing come from memory and SQLite does not yield: a
    // turn of the event loop per chunk lets timers (the user's lease) and sockets run.
    await turn();
  }
  if (!(ready || (await ctx.ready()))) return null;
  if (chunk.length > 0) await flush();
  if (waiting.length > 0) await commit();
  // Every item was looked at.
  return { token: notRead ? null : token, planned, examined: null };
}
