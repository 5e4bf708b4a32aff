/**
 * The up step's planner: one batch of a user's changed contacts → the writes to firm contacts,
 * links, reviews and journal lines. Pure: every lookup it needs comes in the input, and skips,
 * reviews and duplicates are outcomes in the plan, never exceptions.
 *
 * Decision table, per user contact (first matching row wins):
 *
 * | connected | private | other                        | → outcome                                   |
 * |-----------|---------|------------------------------|---------------------------------------------|
 * | yes       | yes     |                              | disconnected: a private contact leaves       |
 * | yes       | no      | a contact group              | disconnected: a group is no person           |
 * | yes       | no      | no base (link without base)  | connected again: two-way fill, base := user |
 * | yes       | no      |                              | updated / unchanged: three-way vs base      |
 * | no        | yes     |                              | private: never reaches the firm list        |
 * | no        | no      | a contact group              | group: never reaches the firm list          |
 * | no        | no      | detached                     | detached: its firm contact was deleted      |
 * | no        | no      | no name and no e-mail        | not-matched: kept, reported                 |
 * | no        | no      | preference private           | kept-private                                |
 * | no        | no      | preference ask, asked before | already-asked                               |
 * | no        | no      | preference ask               | asked: a new-contact review                 |
 * | no        | no      | one candidate                | connected: two-way fill, base := user       |
 * | no        | no      | several candidates           | flagged: created, possible duplicate        |
 * | no        | no      | no candidate                 | created                                     |
 */
import { type Fields, sameValue } from '../domain/fields.js';
import { asUid, type FirmContactId, type FirmItemId } from '../domain/ids.js';
import { isContactGroup } from '../formats/contact-group.js';
import { mergeThreeWay, mergeTwoWay } from '../sync/merge.js';
import {
  changedFirmFields,
  contactOfFirmFields,
  FIRM_FIELDS,
  FIRM_SET_FIELDS,
  firmFieldsOf,
  pickFirmFields,
  sameFirmFields,
} from './firm-fields.js';
import type {
  BaseWrite,
  FieldSource,
  FirmContact,
  FirmContactWrite,
  FirmJournalLine,
  FirmUser,
  LinkReason,
  LinkWrite,
  NewReview,
  Provenance,
  UserContactLink,
} from './firm-types.js';
import { type FirmMatchKeys, firmMatchKeys, isUnmatchable } from './match-keys.js';

/** What the up step does with one user contact (see the table above). */
export type UpOutcomeKind =
  | 'unchanged'
  | 'updated'
  | 'connected'
  | 'created'
  | 'flagged'
  | 'disconnected'
  | 'not-matched'
  | 'private'
  | 'group'
  | 'kept-private'
  | 'detached'
  | 'asked'
  | 'already-asked';

/** The firm fields a firm contact's match keys are made of (see `match-keys.ts`). */
const KEY_FIELDS = ['name', 'formattedName', 'organization', 'emails'] as const;

/** What the plan does with one user contact. */
export interface UpOutcome {
  readonly userContactId: FirmItemId;
  readonly uid: string;
  readonly kind: UpOutcomeKind;
  readonly firmContactId: FirmContactId | null;
  /** Fields another user had changed differently since this user's last exchange: this user's value won. */
  readonly overruled?: readonly string[];
}

/** What the up planner needs: plain values read by the step. */
export interface UpInput {
  readonly user: FirmUser;
  readonly runId: string | null;
  /** ISO time stamped into provenance. */
  readonly at: string;
  readonly contacts: readonly UserContactLink[];
  /** The firm contacts the batch's contacts are connected to, and every match candidate. */
  readonly firm: ReadonlyMap<FirmContactId, FirmContact>;
  readonly byEmail: ReadonlyMap<string, readonly FirmContactId[]>;
  readonly byName: ReadonlyMap<string, readonly FirmContactId[]>;
  /** User contacts that already have a new-contact review (any state): asked once only. */
  readonly asked: ReadonlySet<FirmItemId>;
  readonly newFirmId: () => FirmContactId;
}

/** The writes of one up batch, and the outcome of each contact. */
export interface UpPlan {
  readonly firmWrites: FirmContactWrite[];
  readonly links: LinkWrite[];
  /** New bases of contacts that stay connected where they are. */
  readonly bases: BaseWrite[];
  readonly reviews: NewReview[];
  readonly journal: FirmJournalLine[];
  readonly outcomes: UpOutcome[];
}

interface Working {
  readonly id: FirmContactId;
  fields: Fields;
  provenance: Provenance;
  readonly possibleDuplicate: boolean;
  readonly candidates: readonly FirmContactId[];
  readonly created: boolean;
  /** Written by this plan: a new change sequence value makes the down step look at it. */
  written: boolean;
  /** The fields as read (null for a new one), to tell whether lookup rows and key columns need rewriting. */
  readonly read: Fields | null;
}

/** Plans one batch of the up step. */
export function planUp(input: UpInput): UpPlan {
  const planner = new UpPlanner(input);
  for (const c of input.contacts) planner.take(c);
  return planner.result();
}

/** The match keys of a firm contact's fields. */
export function firmContactKeys(id: FirmContactId, fields: Fields): FirmMatchKeys {
  return firmMatchKeys(contactOfFirmFields(asUid(id), fields));
}

function isEmptyValue(v: Fields[string] | undefined): boolean {
  return v === undefined || v === null || v === '' || v === false || (Array.isArray(v) && v.length === 0);
}

class UpPlanner {
  private readonly work = new Map<FirmContactId, Working>();
  private readonly byEmail: Map<string, FirmContactId[]>;
  private readonly byName: Map<string, FirmContactId[]>;
  private readonly links: LinkWrite[] = [];
  private readonly bases: BaseWrite[] = [];
  private readonly reviews: NewReview[] = [];
  private readonly journal: FirmJournalLine[] = [];
  private readonly outcomes: UpOutcome[] = [];
  private readonly source: FieldSource;

  constructor(private readonly input: UpInput) {
    for (const f of input.firm.values()) {
      this.work.set(f.id, {
        id: f.id,
        fields: pickFirmFields(f.fields),
        provenance: f.provenance,
        possibleDuplicate: f.possibleDuplicate,
        candidates: f.candidates,
        created: false,
        written: false,
        read: f.fields,
      });
    }
    this.byEmail = new Map([...input.byEmail].map(([k, v]) => [k, [...v]]));
    this.byName = new Map([...input.byName].map(([k, v]) => [k, [...v]]));
    this.source = { user: input.user.login, run: input.runId, at: input.at };
  }

  take(c: UserContactLink): void {
    const user = firmFieldsOf(c.contact);
    const linked = c.firmContactId === null ? undefined : this.work.get(c.firmContactId);
    const group = isContactGroup(c.contact);
    if (c.firmContactId !== null && (c.contact.private || group)) this.disconnect(c);
    else if (linked !== undefined && c.base === null) {
      this.connect(c, user, linked, 'relinked', 'connected without a base: taken as a new connection');
    } else if (linked !== undefined && c.base !== null) this.update(c, user, c.base, linked);
    else if (c.contact.private) this.outcome(c, 'private', null);
    else if (group) this.outcome(c, 'group', null);
    else if (c.detached) this.outcome(c, 'detached', null);
    else this.takeNew(c, user);
  }

  /** A contact not connected yet: matched, kept, or asked about, as the user prefers. */
  private takeNew(c: UserContactLink, user: Fields): void {
    const keys = firmMatchKeys(c.contact);
    const preference = this.input.user.preferences.newContacts;
    if (isUnmatchable(keys)) this.outcome(c, 'not-matched', null);
    else if (preference === 'private') this.outcome(c, 'kept-private', null);
    else if (preference === 'ask') this.ask(c, user);
    else this.match(c, user, keys);
  }

  result(): UpPlan {
    const firmWrites: FirmContactWrite[] = [];
    for (const w of this.work.values()) {
      if (!w.written) continue;
      firmWrites.push({
        op: w.created ? 'create' : 'update',
        id: w.id,
        fields: w.fields,
        provenance: w.provenance,
        keys: firmContactKeys(w.id, w.fields),
        possibleDuplicate: w.possibleDuplicate,
        candidates: w.candidates,
        emailsUnchanged: w.read !== null && sameValue(w.read.emails, w.fields.emails),
        keysUnchanged: w.read !== null && KEY_FIELDS.every((k) => sameValue(w.read?.[k], w.fields[k])),
      });
    }
    return {
      firmWrites,
      links: this.links,
      bases: this.bases,
      reviews: this.reviews,
      journal: this.journal,
      outcomes: this.outcomes,
    };
  }

  /** A connected contact: what the user changed against the base goes to the firm contact. */
  private update(c: UserContactLink, user: Fields, base: Fields, f: Working): void {
    // The user's edit reaches the firm contact now, after the other's: it wins a field another
    // user changed differently, and the overruled value is named in the journal line.
    const result = mergeThreeWay(base, f.fields, user, 'mailbox', FIRM_SET_FIELDS);
    const overruled = result.conflicts
      .map((x) => x.field)
      .filter((k) => (FIRM_FIELDS as readonly string[]).includes(k));
    const by = [...new Set(overruled.map((k) => f.provenance[k]?.user).filter((u) => u !== undefined))];
    const note =
      overruled.length === 0
        ? ''
        : `${overruled.join(', ')} changed by ${by.join(', ') || 'another user'} too: this user's value taken`;
    const changed = this.change(c, f, pickFirmFields(result.fields), note);
    // The link stays as it is: only its base moves (its firm contact column is not rewritten).
    if (!sameFirmFields(base, user))
      this.bases.push({ userContactId: c.id, firmContactId: f.id, base: user });
    this.outcome(c, changed ? 'updated' : 'unchanged', f.id, overruled);
  }

  private match(c: UserContactLink, user: Fields, keys: FirmMatchKeys): void {
    const byEmail = this.candidates(keys.emails.flatMap((e) => this.byEmail.get(e) ?? []));
    if (byEmail.length > 0 || keys.name === '') {
      const only = byEmail.length === 1 ? this.work.get(byEmail[0]!) : undefined;
      if (only !== undefined) {
        const email = keys.emails.find((e) => this.byEmail.get(e)?.includes(only.id)) ?? '';
        this.connect(c, user, only, 'email', `matched by e-mail address ${email}`);
      } else if (byEmail.length > 1) {
        this.create(c, user, byEmail, `several firm contacts share its e-mail address`);
      } else this.create(c, user, [], '');
      return;
    }
    const byName = this.candidates(this.byName.get(keys.name) ?? []);
    // Same name and organization, but both have e-mail addresses and share none: namesakes
    // in one firm are two people, never merged into one record. A name match connects only
    // where one side has no address; the rest is a new firm contact flagged for review.
    const compatible = byName.filter((id) => keys.emails.length === 0 || !hasEmails(this.work.get(id)));
    const only = compatible.length === 1 ? this.work.get(compatible[0]!) : undefined;
    const named = `name "${keys.fullName}" and organization "${keys.organization}"`;
    if (only !== undefined) this.connect(c, user, only, 'name-organization', `matched by ${named}`);
    else if (byName.length === 0) this.create(c, user, [], '');
    else if (compatible.length > 1) this.create(c, user, byName, `several firm contacts have its ${named}`);
    else {
      this.create(c, user, byName, `same ${named} as another firm contact, but no shared e-mail address`);
    }
  }

  /** Connects to an existing firm contact: its empty fields are filled and set fields united. */
  private connect(c: UserContactLink, user: Fields, f: Working, reason: LinkReason, note: string): void {
    const merged = pickFirmFields(mergeTwoWay(f.fields, user, 'firm', FIRM_SET_FIELDS).fields);
    const changed = this.change(c, f, merged);
    // The user must receive the firm contact's other values on the down step, which only looks
    // at firm contacts written since the user's cursor: write it even when nothing was filled.
    if (!changed && !sameFirmFields(merged, user)) f.written = true;
    this.link(c, f.id, user);
    this.journal.push({
      ...this.line(c, 'connect', f.id, { firmContactId: null }, { firmContactId: f.id }, note),
      reason,
    });
    this.index(f);
    this.outcome(c, 'connected', f.id);
  }

  /**
   * Creates a firm contact from the user contact. With `candidates` (several matches, or a
   * namesake), flagged as a possible duplicate of them; `why` says why they did not match.
   */
  private create(c: UserContactLink, user: Fields, candidates: readonly FirmContactId[], why: string): void {
    const flagged = candidates.length > 0;
    const id = this.input.newFirmId();
    const provenance: Record<string, FieldSource> = {};
    for (const k of FIRM_FIELDS) if (!isEmptyValue(user[k])) provenance[k] = this.source;
    const f: Working = {
      id,
      fields: user,
      provenance,
      possibleDuplicate: flagged,
      candidates: flagged ? candidates : [],
      created: true,
      written: true,
      read: null,
    };
    this.work.set(id, f);
    const note = flagged ? `possible duplicate of ${candidates.join(', ')}` : '';
    this.journal.push(this.line(c, 'firm-create', id, null, user, note));
    this.link(c, id, user);
    this.journal.push({
      ...this.line(
        c,
        'connect',
        id,
        { firmContactId: null },
        { firmContactId: id },
        flagged ? `${why}: new firm contact, ${note}` : 'no match: new firm contact',
      ),
      reason: flagged ? 'possible-duplicate' : 'created',
    });
    this.index(f);
    this.outcome(c, flagged ? 'flagged' : 'created', id);
  }

  private disconnect(c: UserContactLink): void {
    this.links.push({ userContactId: c.id, firmContactId: null, base: null, detached: false });
    this.journal.push({
      ...this.line(
        c,
        'disconnect',
        c.firmContactId,
        { firmContactId: c.firmContactId, base: c.base },
        { firmContactId: null },
        'the user contact became private',
      ),
      reason: 'private',
    });
    this.outcome(c, 'disconnected', c.firmContactId);
  }

  private ask(c: UserContactLink, user: Fields): void {
    if (this.input.asked.has(c.id)) {
      this.outcome(c, 'already-asked', null);
      return;
    }
    this.reviews.push({
      user: this.input.user.id,
      kind: 'new-contact',
      userContactId: c.id,
      firmContactId: null,
      firmSeq: null,
      proposed: user,
      current: {},
    });
    this.outcome(c, 'asked', null);
  }

  /** Sets a firm contact's fields; journals and stamps the fields that changed. False when none did. */
  private change(c: UserContactLink, f: Working, fields: Fields, note = ''): boolean {
    const changed = changedFirmFields(f.fields, fields);
    if (changed.length === 0) return false;
    const before: Record<string, Fields[string]> = {};
    const after: Record<string, Fields[string]> = {};
    const provenance: Record<string, FieldSource> = { ...f.provenance };
    for (const k of changed) {
      before[k] = f.fields[k] ?? null;
      after[k] = fields[k] ?? null;
      provenance[k] = this.source;
    }
    f.fields = fields;
    f.provenance = provenance;
    f.written = true;
    this.journal.push(this.line(c, 'firm-update', f.id, before, after, note));
    return true;
  }

  private link(c: UserContactLink, firm: FirmContactId, base: Fields): void {
    this.links.push({ userContactId: c.id, firmContactId: firm, base, detached: false });
  }

  /** Later contacts of the batch must find the firm contacts this batch created or changed. */
  private index(f: Working): void {
    const keys = firmContactKeys(f.id, f.fields);
    const add = (map: Map<string, FirmContactId[]>, key: string) => {
      const ids = map.get(key) ?? [];
      if (!ids.includes(f.id)) map.set(key, [...ids, f.id]);
    };
    for (const e of keys.emails) add(this.byEmail, e);
    if (keys.name !== '') add(this.byName, keys.name);
  }

  private candidates(ids: readonly FirmContactId[]): FirmContactId[] {
    return [...new Set(ids)].filter((id) => this.work.has(id)).sort();
  }

  private line(
    c: UserContactLink,
    action: FirmJournalLine['action'],
    firm: FirmContactId | null,
    before: Fields | null,
    after: Fields | null,
    note: string,
  ): FirmJournalLine {
    return {
      action,
      direction: 'up',
      user: this.input.user.id,
      userContactId: c.id,
      firmContactId: firm,
      uid: c.contact.uid,
      before,
      after,
      note,
    };
  }

  private outcome(
    c: UserContactLink,
    kind: UpOutcomeKind,
    firm: FirmContactId | null,
    overruled: readonly string[] = [],
  ): void {
    this.outcomes.push({
      userContactId: c.id,
      uid: c.contact.uid,
      kind,
      firmContactId: firm,
      ...(overruled.length > 0 ? { overruled } : {}),
    });
  }
}

/** Whether a firm contact holds at least one e-mail address. */
function hasEmails(f: { readonly fields: Fields } | undefined): boolean {
  const emails = f?.fields.emails;
  return Array.isArray(emails) && emails.length > 0;
}
