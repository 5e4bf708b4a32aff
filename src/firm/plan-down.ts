/**
 * The down step's planner: connected user contacts whose firm contact changed → writes to
 * those user contacts (or reviews). Pure.
 *
 * Per firm field of a user contact, against its base (the value last exchanged):
 *
 * | firm vs base | user vs base | → action                                                   |
 * |--------------|--------------|------------------------------------------------------------|
 * | same         | any          | nothing: the firm did not change it                        |
 * | differs      | same         | take the firm value (or propose it, preference `review`)   |
 * | differs      | differs, = firm | base := that value: both already agree                  |
 * | differs      | differs, ≠ firm | keep the user's value: their pending edit goes up next  |
 */

import type { Fields, FieldValue } from '../domain/fields.js';
import { sameValue } from '../domain/fields.js';
import type { FirmItemId } from '../domain/ids.js';
import { isContactGroup } from '../formats/contact-group.js';
import { FIRM_FIELDS, firmFieldsOf, pickFirmFields, withFirmValues } from './firm-fields.js';
import type {
  BaseWrite,
  DownRow,
  FirmJournalLine,
  FirmReview,
  FirmUser,
  NewReview,
  UserContactWrite,
} from './firm-types.js';

/** What the down step does with one user contact. */
export type DownOutcomeKind =
  /** Firm values written into the user contact. */
  | 'updated'
  /** Nothing to bring down (at most the base caught up). */
  | 'unchanged'
  /** Preference `review`: the changes are held in a review. */
  | 'held'
  /** These changes were proposed already (held, approved or rejected) for this firm seq. */
  | 'already-reviewed'
  /** Private, or no longer connected to that firm contact: left alone. */
  | 'skipped';

/** One user contact's outcome in a down plan. */
export interface DownOutcome {
  readonly userContactId: FirmItemId;
  readonly kind: DownOutcomeKind;
  /** The fields written or proposed. */
  readonly fields: readonly string[];
}

/** What the down planner needs: plain values read by the step. */
export interface DownInput {
  readonly user: FirmUser;
  readonly rows: readonly DownRow[];
  /** Existing `update` reviews of these user contacts (any state). */
  readonly reviews: readonly FirmReview[];
}

/** The writes of one down batch, and the outcome of each row. */
export interface DownPlan {
  readonly contactWrites: UserContactWrite[];
  /** One line per contact write: the fields' values before and after. */
  readonly journal: FirmJournalLine[];
  /** Bases that caught up without a write to the contact. */
  readonly baseWrites: BaseWrite[];
  readonly reviews: NewReview[];
  /** Held reviews replaced by a newer proposal. */
  readonly supersede: string[];
  readonly outcomes: DownOutcome[];
  /**
   * Some written contact keeps an edit of its user that the up step has yet to take (a field the
   * user changed since the last exchange): its values differ from its new base.
   */
  pendingUp: boolean;
}

/** What the firm contact would change in the user contact, field by field (see the table). */
export function downChanges(
  firm: Fields,
  base: Fields,
  user: Fields,
): { readonly take: Record<string, FieldValue>; readonly catchUp: Record<string, FieldValue> } {
  const take: Record<string, FieldValue> = {};
  const catchUp: Record<string, FieldValue> = {};
  for (const k of FIRM_FIELDS) {
    const f = firm[k] ?? null;
    const b = base[k] ?? null;
    const u = user[k] ?? null;
    if (sameValue(f, b)) continue;
    if (sameValue(u, b)) take[k] = f;
    else if (sameValue(u, f)) catchUp[k] = f;
  }
  return { take, catchUp };
}

/** Plans one batch of the down step. */
export function planDown(input: DownInput): DownPlan {
  const plan: DownPlan = {
    contactWrites: [],
    journal: [],
    baseWrites: [],
    reviews: [],
    supersede: [],
    outcomes: [],
    pendingUp: false,
  };
  const reviewsOf = new Map<FirmItemId, FirmReview[]>();
  for (const r of input.reviews) {
    if (r.kind === 'update') reviewsOf.set(r.userContactId, [...(reviewsOf.get(r.userContactId) ?? []), r]);
  }
  for (const { userContact: uc, firm } of input.rows) {
    const outcome = (kind: DownOutcomeKind, fields: readonly string[] = []) =>
      plan.outcomes.push({ userContactId: uc.id, kind, fields });
    // A group connected by an earlier version is no person: the up step disconnects it.
    if (uc.contact.private || isContactGroup(uc.contact) || uc.firmContactId !== firm.id) {
      outcome('skipped');
      continue;
    }
    const user = firmFieldsOf(uc.contact);
    // A link without a base (not written by this version) starts from the user's values.
    const base = uc.base === null ? user : pickFirmFields(uc.base);
    const { take, catchUp } = downChanges(pickFirmFields(firm.fields), base, user);
    const fields = Object.keys(take);
    const caughtUp = { ...base, ...catchUp };
    if (fields.length === 0) {
      if (Object.keys(catchUp).length > 0 || uc.base === null) {
        plan.baseWrites.push({ userContactId: uc.id, firmContactId: firm.id, base: caughtUp });
      }
      outcome('unchanged');
      continue;
    }
    if (input.user.preferences.updates === 'review') {
      const earlier = reviewsOf.get(uc.id) ?? [];
      if (earlier.some((r) => r.firmContactId === firm.id && (r.firmSeq ?? 0) >= firm.seq)) {
        outcome('already-reviewed', fields);
        continue;
      }
      // A value the user rejected is not proposed again when the firm contact changes in
      // another field since (the user's own edit going up, say); a new value is.
      const declined = earlier.filter((r) => r.state === 'rejected' && r.firmContactId === firm.id);
      const again = fields.filter((k) =>
        declined.some((r) => k in r.proposed && sameValue(r.proposed[k], take[k])),
      );
      if (again.length > 0) {
        for (const k of again) delete take[k];
        fields.splice(0, fields.length, ...Object.keys(take));
        if (fields.length === 0) {
          outcome('already-reviewed', again);
          continue;
        }
      }
      plan.supersede.push(...earlier.filter((r) => r.state === 'held').map((r) => r.id));
      const current: Record<string, FieldValue> = {};
      for (const k of fields) current[k] = user[k] ?? null;
      plan.reviews.push({
        user: input.user.id,
        kind: 'update',
        userContactId: uc.id,
        firmContactId: firm.id,
        firmSeq: firm.seq,
        proposed: take,
        current,
      });
      if (Object.keys(catchUp).length > 0) {
        plan.baseWrites.push({ userContactId: uc.id, firmContactId: firm.id, base: caughtUp });
      }
      outcome('held', fields);
      continue;
    }
    // Fields neither taken nor caught up keep the user's values and the base: equal, unless the
    // user changed one since the last exchange.
    plan.pendingUp ||= FIRM_FIELDS.some(
      (k) => !(k in take) && !(k in catchUp) && !sameValue(user[k], base[k]),
    );
    plan.contactWrites.push({
      id: uc.id,
      user: uc.user,
      read: uc.contact,
      contact: withFirmValues(uc.contact, take),
      base: { ...caughtUp, ...take },
      expectedSeq: uc.changeSeq,
      firmContactId: firm.id,
    });
    const before: Record<string, FieldValue> = {};
    for (const k of fields) before[k] = user[k] ?? null;
    plan.journal.push({
      action: 'contact-update',
      direction: 'down',
      user: uc.user,
      userContactId: uc.id,
      firmContactId: firm.id,
      uid: uc.contact.uid,
      before,
      after: take,
      note: '',
    });
    outcome('updated', fields);
  }
  return plan;
}
