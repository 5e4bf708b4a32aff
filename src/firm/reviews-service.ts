/**
 * Held updates and held new contacts (`liaison review list | approve | reject`). Approving an
 * update applies it the way the down step would have; approving a new contact takes it up the
 * way the up step would have with preference `firm`. Rejecting discards: an update is not
 * proposed again for the same firm contact version, a new contact stays in the user's list only.
 */
import { LiaisonError } from '../domain/errors.js';
import { type FieldValue, sameValue } from '../domain/fields.js';
import { withUserLease } from '../sync/user-lease.js';
import { ADMIN_ACTOR, type AdminOptions } from './firm-contacts-service.js';
import { firmFieldsOf, withFirmValues } from './firm-fields.js';
import type { FirmReview, FirmUser, ReviewState } from './firm-types.js';
import type { UpOutcomeKind } from './plan-up.js';
import type { FirmSyncDeps, FirmTx } from './ports.js';
import { stepContext } from './step-context.js';
import { applyUpPlan, planUpBatch } from './up-step.js';

/** What approving or rejecting a review did. */
export interface ReviewDecision {
  readonly review: FirmReview;
  /** `update`: the fields written into the user contact. */
  readonly applied: readonly string[];
  /** `update`: fields the user changed since the proposal; their own values stay. */
  readonly kept: readonly string[];
  /** `new-contact`: what taking it up did (connected, created, flagged…); null otherwise. */
  readonly upOutcome: UpOutcomeKind | null;
}

/** Reviews, oldest first; by default those still held. Throws `Usage` for an unknown login. */
export async function listReviews(
  deps: FirmSyncDeps,
  filter: { readonly state?: ReviewState | 'all'; readonly user?: string } = {},
): Promise<FirmReview[]> {
  const state = filter.state ?? 'held';
  let user: FirmUser | undefined;
  if (filter.user !== undefined) user = await userByLogin(deps, filter.user);
  return deps.store.listReviews({
    ...(state === 'all' ? {} : { state }),
    ...(user === undefined ? {} : { user: user.id }),
  });
}

/**
 * Approves a held review and applies it, under the user's lease. Throws `Usage` for an unknown
 * id, `PreconditionFailed` when it is no longer held (or the contact no longer fits it), `Busy`
 * when a sync holds the user (try again shortly).
 */
export async function approveReview(
  deps: FirmSyncDeps,
  id: string,
  options: AdminOptions = {},
): Promise<ReviewDecision> {
  const review = await heldReview(deps, id);
  const [user] = await deps.users.byIds([review.user]);
  if (user === undefined) throw new LiaisonError('NotFound', `the user of review ${id} is gone`);
  const actor = options.actor ?? ADMIN_ACTOR;
  let decision: ReviewDecision | undefined;
  const ran = await withUserLease(deps.locks, user.id, deps.holder, async () => {
    decision = await deps.store.transaction({ firmWrites: review.kind === 'new-contact' }, async (tx) => {
      const resolved = await resolve(tx, review, 'approved');
      const done =
        review.kind === 'update'
          ? await applyUpdate(tx, review, actor)
          : await takeUp(deps, tx, user, review, actor);
      return { ...done, review: resolved };
    });
  });
  if (!ran || decision === undefined) {
    throw new LiaisonError('Busy', `user ${user.login} is being synced; approve review ${id} again shortly`, {
      context: { user: user.login },
    });
  }
  return decision;
}

/** Rejects a held review; nothing is written to the contact. Same errors as `approveReview`, except `Busy`. */
export async function rejectReview(deps: FirmSyncDeps, id: string): Promise<ReviewDecision> {
  const review = await heldReview(deps, id);
  const resolved = await deps.store.transaction({ firmWrites: false }, (tx) =>
    resolve(tx, review, 'rejected'),
  );
  return { review: resolved, applied: [], kept: [], upOutcome: null };
}

/**
 * Marks a held review decided and returns it as stored (state and time of the decision). Two
 * administrators deciding at once: the second finds it decided already and changes nothing.
 */
async function resolve(tx: FirmTx, review: FirmReview, state: 'approved' | 'rejected'): Promise<FirmReview> {
  const resolved = await tx.resolveReviews([review.id], state);
  const stored = await tx.getReview(review.id);
  if (resolved === 0 || stored === null) {
    throw new LiaisonError('PreconditionFailed', `review ${review.id} is already ${stored?.state ?? 'gone'}`);
  }
  return stored;
}

type Applied = Omit<ReviewDecision, 'review'>;

async function applyUpdate(tx: FirmTx, review: FirmReview, actor: string): Promise<Applied> {
  const [uc] = await tx.userContacts([review.userContactId]);
  if (uc === undefined || uc.base === null || uc.firmContactId !== review.firmContactId) {
    throw new LiaisonError(
      'PreconditionFailed',
      `the contact of review ${review.id} is no longer connected to firm contact ${review.firmContactId}; reject it`,
    );
  }
  const user = firmFieldsOf(uc.contact);
  const take: Record<string, FieldValue> = {};
  const before: Record<string, FieldValue> = {};
  const kept: string[] = [];
  for (const [k, v] of Object.entries(review.proposed)) {
    // The user's own edit since the last exchange stays (and goes up), as on the down step.
    if (sameValue(user[k], uc.base[k])) {
      take[k] = v;
      before[k] = user[k] ?? null;
    } else kept.push(k);
  }
  const applied = Object.keys(take);
  if (applied.length > 0) {
    await tx.writeUserContacts([
      {
        id: uc.id,
        user: uc.user,
        read: uc.contact,
        contact: withFirmValues(uc.contact, take),
        base: { ...uc.base, ...take },
        expectedSeq: uc.changeSeq,
        firmContactId: uc.firmContactId,
      },
    ]);
    await tx.journal(
      [
        {
          action: 'contact-update',
          direction: 'down',
          user: uc.user,
          userContactId: uc.id,
          firmContactId: uc.firmContactId,
          uid: uc.contact.uid,
          before,
          after: take,
          note: `review ${review.id} approved`,
        },
      ],
      actor,
      null,
    );
  }
  return { applied, kept, upOutcome: null };
}

async function takeUp(
  deps: FirmSyncDeps,
  tx: FirmTx,
  user: FirmUser,
  review: FirmReview,
  actor: string,
): Promise<Applied> {
  const [uc] = await tx.userContacts([review.userContactId]);
  if (uc === undefined)
    throw new LiaisonError('PreconditionFailed', `the contact of review ${review.id} is gone`);
  const asFirm: FirmUser = { ...user, preferences: { ...user.preferences, newContacts: 'firm' } };
  // The administrator's approval overrides a detachment, not the private flag (checked by the planner).
  const plan = await planUpBatch(tx, stepContext(deps, null, false), asFirm, [{ ...uc, detached: false }]);
  await applyUpPlan(tx, plan, null, actor);
  return { applied: [], kept: [], upOutcome: plan.outcomes[0]?.kind ?? null };
}

async function heldReview(deps: FirmSyncDeps, id: string): Promise<FirmReview> {
  const review = await deps.store.getReview(id);
  if (review === null)
    throw new LiaisonError('Usage', `there is no review ${id}: see \`liaison review list\``);
  if (review.state !== 'held') {
    throw new LiaisonError('PreconditionFailed', `review ${id} is already ${review.state}`);
  }
  return review;
}

async function userByLogin(deps: FirmSyncDeps, login: string): Promise<FirmUser> {
  const { found } = await deps.users.byLogins([login]);
  const user = found[0];
  if (user === undefined) throw new LiaisonError('Usage', `unknown user: ${login}`);
  return user;
}
