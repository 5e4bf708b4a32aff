import { describe, expect, it } from 'vitest';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import type { Fields } from '../../src/domain/fields.js';
import { asFirmContactId, asFirmItemId, asUid, asUserId } from '../../src/domain/ids.js';
import { firmFieldsOf, withFirmValues } from '../../src/firm/firm-fields.js';
import type { DownRow, FirmReview } from '../../src/firm/firm-types.js';
import { downChanges, planDown } from '../../src/firm/plan-down.js';
import { DEFAULT_PREFERENCES, type FirmPreferences } from '../../src/firm/preferences.js';
import { contactFields, contactFromFields } from '../../src/formats/contact-fields.js';

const USER = asUserId('u-bob');
const F1 = asFirmContactId('F1');

function bob(over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid('b1')),
    name: { prefix: '', given: 'Tom', additional: '', family: 'Smith', suffix: '' },
    formattedName: 'Tom Smith',
    organization: 'Acme',
    title: 'Associate',
    phones: [{ types: ['work'], value: '111' }],
    emails: [{ types: ['work'], value: 'tom@acme.example' }],
    note: "Bob's own note",
    ...over,
  };
}

function row(contact: Contact, base: Fields, firm: Fields, seq = 50): DownRow {
  return {
    userContact: {
      id: asFirmItemId('c1'),
      user: USER,
      contact,
      changeSeq: 7,
      firmContactId: F1,
      base,
      detached: false,
    },
    firm: {
      id: F1,
      fields: firm,
      provenance: {},
      seq,
      possibleDuplicate: false,
      candidates: [],
      createdAt: 't',
      updatedAt: 't',
    },
  };
}

function plan(rows: DownRow[], prefs: Partial<FirmPreferences> = {}, reviews: FirmReview[] = []) {
  return planDown({
    user: { id: USER, login: 'bob', group: null, preferences: { ...DEFAULT_PREFERENCES, ...prefs } },
    rows,
    reviews,
  });
}

const base = firmFieldsOf(bob());

/** An update review of Bob's contact c1, held unless said otherwise. */
function review(over: Partial<FirmReview>): FirmReview {
  return {
    id: 'r',
    user: USER,
    login: 'bob',
    kind: 'update',
    userContactId: asFirmItemId('c1'),
    firmContactId: F1,
    firmSeq: 40,
    proposed: {},
    current: { title: 'Associate' },
    state: 'held',
    createdAt: 't',
    resolvedAt: null,
    ...over,
  };
}

describe('planDown', () => {
  it('writes only the fields the firm changed; the personal note stays', () => {
    const firm = { ...base, phones: [{ types: ['work'], value: '222' }] };
    const p = plan([row(bob(), base, firm)]);
    expect(p.outcomes).toEqual([{ userContactId: 'c1', kind: 'updated', fields: ['phones'] }]);
    const w = p.contactWrites[0]!;
    expect(w.contact.phones).toEqual([{ types: ['work'], value: '222' }]);
    expect(w.contact.note).toBe("Bob's own note");
    expect(w.contact.title).toBe('Associate');
    expect(w.base).toEqual(firm);
    expect(w.expectedSeq).toBe(7);
    expect(p.journal).toEqual([
      expect.objectContaining({
        action: 'contact-update',
        direction: 'down',
        before: { phones: [{ types: ['work'], value: '111' }] },
        after: { phones: [{ types: ['work'], value: '222' }] },
      }),
    ]);
  });

  it("keeps the user's own pending edit of a field the firm changed too", () => {
    const firm = { ...base, title: 'Partner', phones: [{ types: ['work'], value: '222' }] };
    const mine = bob({ title: 'Senior Associate' });
    const p = plan([row(mine, base, firm)]);
    const w = p.contactWrites[0]!;
    expect(w.contact.title).toBe('Senior Associate');
    expect(w.contact.phones).toEqual([{ types: ['work'], value: '222' }]);
    // The title's base stays, so the up step still sees Bob's edit as his change.
    expect(w.base?.title).toBe('Associate');
  });

  it('catches the base up where the user already holds the firm value, without a write', () => {
    const firm = { ...base, title: 'Partner' };
    const p = plan([row(bob({ title: 'Partner' }), base, firm)]);
    expect(p.contactWrites).toEqual([]);
    expect(p.baseWrites).toEqual([{ userContactId: 'c1', firmContactId: 'F1', base: firm }]);
    expect(p.outcomes[0]?.kind).toBe('unchanged');
  });

  it('leaves private contacts and contacts connected elsewhere alone', () => {
    const firm = { ...base, title: 'Partner' };
    const moved = row(bob(), base, firm);
    const p = plan([
      row(bob({ private: true }), base, firm),
      { ...moved, userContact: { ...moved.userContact, firmContactId: asFirmContactId('F2') } },
    ]);
    expect(p.outcomes.map((o) => o.kind)).toEqual(['skipped', 'skipped']);
    expect(p.contactWrites).toEqual([]);
  });

  it('preference review: holds the changes, supersedes a held older proposal, never repeats one', () => {
    const firm = { ...base, title: 'Partner' };
    const older = review({ id: 'r-old', firmSeq: 40, proposed: { title: 'Counsel' } });
    const p = plan([row(bob(), base, firm, 50)], { updates: 'review' }, [older]);
    expect(p.contactWrites).toEqual([]);
    expect(p.supersede).toEqual(['r-old']);
    expect(p.reviews).toEqual([
      expect.objectContaining({
        kind: 'update',
        firmSeq: 50,
        proposed: { title: 'Partner' },
        current: { title: 'Associate' },
      }),
    ]);
    const rejected: FirmReview = { ...older, id: 'r-50', firmSeq: 50, state: 'rejected' };
    const again = plan([row(bob(), base, firm, 50)], { updates: 'review' }, [rejected]);
    expect(again.outcomes[0]?.kind).toBe('already-reviewed');
    expect(again.reviews).toEqual([]);
  });

  it('preference review: a rejected value is not proposed again after another field changed; a new value is', () => {
    const rejected = review({
      id: 'r-1',
      firmSeq: 50,
      proposed: { title: 'VP Sales' },
      state: 'rejected',
      resolvedAt: 't',
    });
    // Later the firm contact changed again (Bob's own phone went up, or a colleague's).
    const firm = { ...base, title: 'VP Sales', phones: [{ types: ['work'], value: '222' }] };
    const p = plan([row(bob(), base, firm, 60)], { updates: 'review' }, [rejected]);
    expect(p.reviews).toEqual([expect.objectContaining({ proposed: { phones: firm.phones } })]);
    const onlyTitle = plan([row(bob(), base, { ...base, title: 'VP Sales' }, 60)], { updates: 'review' }, [
      rejected,
    ]);
    expect(onlyTitle.outcomes[0]).toMatchObject({ kind: 'already-reviewed', fields: ['title'] });
    expect(onlyTitle.reviews).toEqual([]);
    const newTitle = plan([row(bob(), base, { ...base, title: 'CFO' }, 60)], { updates: 'review' }, [
      rejected,
    ]);
    expect(newTitle.reviews).toEqual([expect.objectContaining({ proposed: { title: 'CFO' } })]);
  });

  it('downChanges walks the table', () => {
    const b = { a: 1, b: 1, c: 1, d: 1 } as Fields;
    const f = { a: 1, b: 2, c: 2, d: 2 } as Fields;
    const u = { a: 9, b: 1, c: 2, d: 3 } as Fields;
    // Only firm fields count: map the letters onto real field names.
    const rename = (x: Fields) => ({ title: x.a, nickname: x.b, department: x.c, birthday: x.d }) as Fields;
    expect(downChanges(rename(f), rename(b), rename(u))).toEqual({
      take: { nickname: 2 },
      catchUp: { department: 2 },
    });
  });
});

describe('firm fields written into a contact', () => {
  it('normalize to themselves, so a written value reads back equal (no echo on the up step)', () => {
    const messy = bob({
      emails: [{ types: ['INTERNET', 'Work'], value: ' Tom@ACME.example ' }],
      name: { prefix: '', given: ' Tom ', additional: '', family: 'Smith', suffix: '' },
    });
    const fields = firmFieldsOf(messy);
    const written = withFirmValues(bob({ emails: [], phones: [] }), fields);
    expect(firmFieldsOf(written)).toEqual(fields);
    expect(contactFields(contactFromFields(asUid('x'), contactFields(messy)))).toEqual(contactFields(messy));
  });
});
