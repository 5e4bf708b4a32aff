import { canonicalJson, type Fields, type FieldValue, sameValue } from '../domain/fields.js';

/** Which side wins a field both sides changed to different values. */
export type Side = 'firm' | 'mailbox';

/** A field both sides changed differently; the loser's value is journaled. */
export interface FieldConflict {
  readonly field: string;
  readonly winner: Side;
  readonly firm: FieldValue;
  readonly mailbox: FieldValue;
}

export interface MergeResult {
  readonly fields: Fields;
  readonly conflicts: readonly FieldConflict[];
}

const EMPTY: FieldValue = null;

function isEmpty(v: FieldValue | undefined): boolean {
  return v === undefined || v === null || v === '' || v === false || (Array.isArray(v) && v.length === 0);
}

/**
 * What makes two elements of a set-like field the same element: a typed value (e-mail,
 * phone, URL) is the same whatever its TYPE parameters or letter case, so a first-sync
 * merge of `tom@example.com` (work) with `Tom@Example.com` keeps one address, the winner's.
 */
function identity(v: FieldValue): string {
  const value =
    v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { value?: FieldValue }).value : null;
  if (typeof value === 'string') return `value:${value.toLowerCase().replace(/\s+/g, '')}`;
  return canonicalJson(v);
}

/** `kept` with the TYPE values of `other` it lacks, when both are typed values. */
function withTypesOf(kept: FieldValue, other: FieldValue): FieldValue {
  const typesOf = (v: FieldValue): string[] | null => {
    const types =
      v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { types?: FieldValue }).types : null;
    return Array.isArray(types) && types.every((t) => typeof t === 'string') ? (types as string[]) : null;
  };
  const mine = typesOf(kept);
  const theirs = typesOf(other);
  if (mine === null || theirs === null || theirs.every((t) => mine.includes(t))) return kept;
  return { ...(kept as object), types: [...new Set([...mine, ...theirs])].sort() } as FieldValue;
}

/**
 * Three-way merge of a set-like field (e-mails, phones, categories, …): each side's
 * additions and removals against the base are all kept, so two people adding a phone
 * number each end with both numbers and no conflict. Order: firm's, then mailbox's additions.
 */
function mergeSet(
  base: readonly FieldValue[],
  firm: readonly FieldValue[],
  mailbox: readonly FieldValue[],
  uniteTypes = false,
) {
  const key = identity;
  const baseKeys = new Set(base.map(key));
  const firmKeys = new Set(firm.map(key));
  const mailboxKeys = new Set(mailbox.map(key));
  const out: FieldValue[] = [];
  const seen = new Map<string, number>();
  const keep = (v: FieldValue) => {
    const k = key(v);
    const at = seen.get(k);
    if (at !== undefined) {
      // With no base, a value one side typed (WORK) and the other did not keeps its types.
      if (uniteTypes) out[at] = withTypesOf(out[at]!, v);
      return;
    }
    // Removed on one side (present in base, absent on that side): stays removed.
    if (baseKeys.has(k) && (!firmKeys.has(k) || !mailboxKeys.has(k))) return;
    seen.set(k, out.length);
    out.push(v);
  };
  for (const v of firm) keep(v);
  for (const v of mailbox) keep(v);
  return out;
}

/**
 * Field-level three-way merge against the last synced version (SPEC §4). A field
 * changed on one side only takes that side's value; a field changed on both sides to
 * different values goes to `winner` and is reported as a conflict. Fields named in
 * `setFields` merge element-wise and never conflict.
 */
export function mergeThreeWay(
  base: Fields,
  firm: Fields,
  mailbox: Fields,
  winner: Side,
  setFields: ReadonlySet<string>,
): MergeResult {
  const out: Record<string, FieldValue> = {};
  const conflicts: FieldConflict[] = [];
  const keys = new Set([...Object.keys(base), ...Object.keys(firm), ...Object.keys(mailbox)]);
  for (const k of [...keys].sort()) {
    const b = base[k] ?? EMPTY;
    const f = firm[k] ?? EMPTY;
    const m = mailbox[k] ?? EMPTY;
    if (sameValue(f, m)) out[k] = f;
    else if (sameValue(f, b)) out[k] = m;
    else if (sameValue(m, b)) out[k] = f;
    else if (setFields.has(k) && Array.isArray(f) && Array.isArray(m)) {
      out[k] = mergeSet(Array.isArray(b) ? b : [], f, m);
    } else {
      out[k] = winner === 'firm' ? f : m;
      conflicts.push({ field: k, winner, firm: f, mailbox: m });
    }
  }
  return { fields: out, conflicts };
}

/**
 * Merge of two versions with no common base (first-sync matches and recovery):
 * set-like fields are united, other fields take the winner's value unless it is
 * empty. Nothing either side holds is dropped from a set field.
 */
export function mergeTwoWay(
  firm: Fields,
  mailbox: Fields,
  winner: Side,
  setFields: ReadonlySet<string>,
): MergeResult {
  const out: Record<string, FieldValue> = {};
  const conflicts: FieldConflict[] = [];
  const keys = new Set([...Object.keys(firm), ...Object.keys(mailbox)]);
  for (const k of [...keys].sort()) {
    const f = firm[k] ?? EMPTY;
    const m = mailbox[k] ?? EMPTY;
    if (sameValue(f, m)) out[k] = f;
    else if (setFields.has(k) && Array.isArray(f) && Array.isArray(m)) {
      out[k] = winner === 'firm' ? mergeSet([], f, m, true) : mergeSet([], m, f, true);
    } else if (isEmpty(f)) out[k] = m;
    else if (isEmpty(m)) out[k] = f;
    else {
      out[k] = winner === 'firm' ? f : m;
      conflicts.push({ field: k, winner, firm: f, mailbox: m });
    }
  }
  return { fields: out, conflicts };
}
