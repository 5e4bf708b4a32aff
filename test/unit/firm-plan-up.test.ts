import { describe, expect, it } from 'vitest';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import type { Fields } from '../../src/domain/fields.js';
import { asFirmContactId, asFirmItemId, asUid, asUserId, type FirmContactId } from '../../src/domain/ids.js';
import { firmFieldsOf } from '../../src/firm/firm-fields.js';
import type { FirmContact, UserContactLink } from '../../src/firm/firm-types.js';
import { firmMatchKeys, isUnmatchable } from '../../src/firm/match-keys.js';
import { firmContactKeys, planUp, type UpInput } from '../../src/firm/plan-up.js';
import { DEFAULT_PREFERENCES, type FirmPreferences } from '../../src/firm/preferences.js';

const USER = asUserId('u-alice');

function person(uid: string, over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid(uid)),
    name: { prefix: '', given: 'Tom', additional: '', family: 'Smith', suffix: '' },
    formattedName: 'Tom Smith',
    organization: 'Acme',
    emails: [{ types: ['work'], value: 'tom@acme.example' }],
    ...over,
  };
}

function link(id: string, contact: Contact, over: Partial<UserContactLink> = {}): UserContactLink {
  return {
    id: asFirmItemId(id),
    user: USER,
    contact,
    changeSeq: 10,
    firmContactId: null,
    base: null,
    detached: false,
    ...over,
  };
}

function firm(id: string, fields: Fields, seq = 5): FirmContact {
  return {
    id: asFirmContactId(id),
    fields,
    provenance: {},
    seq,
    possibleDuplicate: false,
    candidates: [],
    createdAt: 't0',
    updatedAt: 't0',
  };
}

/** Index maps as the store would answer them for these firm contacts. */
function indexOf(firms: readonly FirmContact[]) {
  const byEmail = new Map<string, FirmContactId[]>();
  const byName = new Map<string, FirmContactId[]>();
  for (const f of firms) {
    const keys = firmContactKeys(f.id, f.fields);
    for (const e of keys.emails) byEmail.set(e, [...(byEmail.get(e) ?? []), f.id]);
    if (keys.name !== '') byName.set(keys.name, [...(byName.get(keys.name) ?? []), f.id]);
  }
  return { byEmail, byName };
}

function plan(
  contacts: UserContactLink[],
  firms: FirmContact[] = [],
  over: Partial<UpInput> = {},
  prefs?: Partial<FirmPreferences>,
) {
  let n = 0;
  return planUp({
    user: { id: USER, login: 'alice', group: null, preferences: { ...DEFAULT_PREFERENCES, ...prefs } },
    runId: 'run-1',
    at: '2030-01-01T00:00:00.000Z',
    contacts,
    firm: new Map(firms.map((f) => [f.id, f])),
    ...indexOf(firms),
    asked: new Set(),
    newFirmId: () => asFirmContactId(`new-${++n}`),
    ...over,
  });
}

describe('firm match keys', () => {
  it('normalizes e-mail case, white space and mailto:, and every address counts', () => {
    const keys = firmMatchKeys(
      person('a', {
        emails: [
          { types: [], value: ' MAILTO:Tom@ACME.example ' },
          { types: [], value: 'T @ home.example' },
        ],
      }),
    );
    expect(keys.emails).toEqual(['tom@acme.example', 't@home.example']);
  });

  it('normalizes names and organizations: accents, case, punctuation, spaces', () => {
    const a = firmMatchKeys(
      person('a', {
        name: { prefix: 'Dr.', given: ' Émile ', additional: '', family: 'ZOLA', suffix: '' },
        organization: 'ACME, Inc.',
      }),
    );
    const b = firmMatchKeys(
      person('b', {
        name: { prefix: '', given: 'emile', additional: '', family: 'Zola', suffix: 'Jr' },
        organization: 'acme inc',
      }),
    );
    expect(a.name).toBe('emile zola|acme inc');
    expect(b.name).toBe(a.name);
  });

  it('falls back to the formatted name; no name and no e-mail is unmatchable', () => {
    const fnOnly = person('a', {
      name: { prefix: '', given: '', additional: '', family: '', suffix: '' },
      formattedName: 'Tom  Smith',
    });
    expect(firmMatchKeys(fnOnly).name).toBe('tom smith|acme');
    const nothing = {
      ...emptyContact(asUid('z')),
      organization: 'Acme',
      phones: [{ types: [], value: '1' }],
    };
    expect(isUnmatchable(firmMatchKeys(nothing))).toBe(true);
  });
});

describe('planUp: new contacts', () => {
  it('creates a firm contact when nothing matches, connects, journals, stamps provenance', () => {
    const p = plan([link('c1', person('a'))]);
    expect(p.outcomes.map((o) => o.kind)).toEqual(['created']);
    expect(p.firmWrites).toHaveLength(1);
    const w = p.firmWrites[0]!;
    expect(w).toMatchObject({ op: 'create', id: 'new-1', possibleDuplicate: false });
    expect(w.fields).toEqual(firmFieldsOf(person('a')));
    expect(w.provenance.emails).toEqual({ user: 'alice', run: 'run-1', at: '2030-01-01T00:00:00.000Z' });
    expect(w.keys.emails).toEqual(['tom@acme.example']);
    expect(p.links).toEqual([
      { userContactId: 'c1', firmContactId: 'new-1', base: firmFieldsOf(person('a')), detached: false },
    ]);
    expect(p.journal.map((l) => l.action)).toEqual(['firm-create', 'connect']);
  });

  it('connects on any e-mail address, whatever its case or spacing, and fills empty fields', () => {
    const existing = firm(
      'F1',
      firmFieldsOf(person('f', { emails: [{ types: [], value: 'tom@home.example' }], title: '' })),
    );
    const mine = person('a', {
      name: { prefix: '', given: 'Thomas', additional: '', family: 'Smith', suffix: '' },
      emails: [
        { types: [], value: 'x@y.example' },
        { types: [], value: ' TOM@Home.Example ' },
      ],
      title: 'Partner',
    });
    const p = plan([link('c1', mine)], [existing]);
    expect(p.outcomes.map((o) => [o.kind, o.firmContactId])).toEqual([['connected', 'F1']]);
    const w = p.firmWrites[0]!;
    expect(w.op).toBe('update');
    expect(w.fields.title).toBe('Partner');
    // Set fields are united; the firm's name wins where both differ.
    expect((w.fields.emails as { value: string }[]).map((e) => e.value).sort()).toEqual([
      'tom@home.example',
      'x@y.example',
    ]);
    expect((w.fields.name as { given: string }).given).toBe('Tom');
    expect(w.provenance.title?.user).toBe('alice');
    expect(p.journal.map((l) => l.action)).toEqual(['firm-update', 'connect']);
  });

  it('connects on name and organization when no address matches', () => {
    const existing = firm('F1', firmFieldsOf(person('f', { emails: [] })));
    const p = plan(
      [link('c1', person('a', { emails: [{ types: [], value: 'new@acme.example' }], organization: 'ACME' }))],
      [existing],
    );
    expect(p.outcomes[0]).toMatchObject({ kind: 'connected', firmContactId: 'F1' });
  });

  it('never merges namesakes: same name and organization but different addresses is a flagged new contact', () => {
    const existing = firm(
      'F1',
      firmFieldsOf(person('f', { emails: [{ types: [], value: 'tom.smith@acme.example' }] })),
    );
    const p = plan(
      [link('c1', person('a', { emails: [{ types: [], value: 'tsmith2@acme.example' }] }))],
      [existing],
    );
    expect(p.outcomes[0]?.kind).toBe('flagged');
    expect(p.firmWrites).toEqual([
      expect.objectContaining({ op: 'create', possibleDuplicate: true, candidates: ['F1'] }),
    ]);
  });

  it('does not match on the name when the organization differs', () => {
    const existing = firm('F1', firmFieldsOf(person('f', { emails: [] })));
    const p = plan([link('c1', person('a', { emails: [], organization: 'Other Ltd' }))], [existing]);
    expect(p.outcomes[0]?.kind).toBe('created');
  });

  it('several candidates: creates a new firm contact flagged as a possible duplicate naming them', () => {
    const f1 = firm('F1', firmFieldsOf(person('f1', { emails: [{ types: [], value: 'tom@acme.example' }] })));
    const f2 = firm('F2', firmFieldsOf(person('f2', { emails: [{ types: [], value: 'tom@home.example' }] })));
    const mine = person('a', {
      emails: [
        { types: [], value: 'tom@acme.example' },
        { types: [], value: 'tom@home.example' },
      ],
    });
    const p = plan([link('c1', mine)], [f1, f2]);
    expect(p.outcomes[0]?.kind).toBe('flagged');
    expect(p.firmWrites).toEqual([
      expect.objectContaining({ op: 'create', possibleDuplicate: true, candidates: ['F1', 'F2'] }),
    ]);
    expect(p.journal[0]?.note).toBe('possible duplicate of F1, F2');
  });

  it('a contact later in the batch matches the firm contact created earlier in it', () => {
    const p = plan([
      link('c1', person('a')),
      link('c2', person('b', { emails: [{ types: [], value: 'TOM@acme.example' }] })),
    ]);
    expect(p.outcomes.map((o) => [o.kind, o.firmContactId])).toEqual([
      ['created', 'new-1'],
      ['connected', 'new-1'],
    ]);
    expect(p.firmWrites).toHaveLength(1);
  });

  it('keeps a contact with no name and no e-mail, unmatched and reported', () => {
    const nameless = { ...emptyContact(asUid('n')), phones: [{ types: [], value: '+1 555' }] };
    const p = plan([link('c1', nameless)]);
    expect(p.outcomes.map((o) => o.kind)).toEqual(['not-matched']);
    expect(p.firmWrites).toEqual([]);
    expect(p.links).toEqual([]);
  });

  it('never takes a private contact up, nor a detached one', () => {
    const p = plan([link('c1', person('a', { private: true })), link('c2', person('b'), { detached: true })]);
    expect(p.outcomes.map((o) => o.kind)).toEqual(['private', 'detached']);
    expect(p.firmWrites).toEqual([]);
  });

  it('never takes a contact group up, in the 4.0 or the Apple form, whatever its name matches', () => {
    const existing = firm('F1', firmFieldsOf(person('team', { formattedName: 'Hooli people' })));
    const p = plan(
      [
        link(
          'g1',
          person('g1', { formattedName: 'Hooli people', extra: ['KIND:group', 'MEMBER:urn:uuid:x'] }),
        ),
        link(
          'g2',
          person('g2', { formattedName: 'Hooli people', extra: ['X-ADDRESSBOOKSERVER-KIND:group'] }),
        ),
      ],
      [existing],
    );
    expect(p.outcomes.map((o) => o.kind)).toEqual(['group', 'group']);
    expect(p.firmWrites).toEqual([]);
    expect(p.links).toEqual([]);
  });

  it('preference private keeps new contacts in the list; ask holds a review once', () => {
    expect(plan([link('c1', person('a'))], [], {}, { newContacts: 'private' }).outcomes[0]?.kind).toBe(
      'kept-private',
    );
    const asked = plan([link('c1', person('a'))], [], {}, { newContacts: 'ask' });
    expect(asked.outcomes[0]?.kind).toBe('asked');
    expect(asked.reviews).toEqual([
      expect.objectContaining({
        kind: 'new-contact',
        userContactId: 'c1',
        proposed: firmFieldsOf(person('a')),
      }),
    ]);
    expect(asked.firmWrites).toEqual([]);
    const again = plan(
      [link('c1', person('a'))],
      [],
      { asked: new Set([asFirmItemId('c1')]) },
      { newContacts: 'ask' },
    );
    expect(again.outcomes[0]?.kind).toBe('already-asked');
    expect(again.reviews).toEqual([]);
  });
});

describe('planUp: connected contacts', () => {
  const base = firmFieldsOf(person('a', { phones: [{ types: ['work'], value: '111' }], title: 'Associate' }));

  it('a field another user changed differently too: this user’s value is taken, and the overruled one named', () => {
    const f = {
      ...firm('F1', { ...base, title: 'Partner' }),
      provenance: { title: { user: 'bob', run: 'r0', at: 't0' } },
    };
    const mine = person('a', { phones: [{ types: ['work'], value: '111' }], title: 'Counsel' });
    const p = plan([link('c1', mine, { firmContactId: f.id, base })], [f]);
    expect(p.outcomes[0]).toMatchObject({ kind: 'updated', overruled: ['title'] });
    expect(p.firmWrites[0]?.fields.title).toBe('Counsel');
    expect(p.journal[0]).toMatchObject({
      action: 'firm-update',
      before: { title: 'Partner' },
      after: { title: 'Counsel' },
      note: "title changed by bob too: this user's value taken",
    });
  });

  it('takes up only the fields the user changed: a phone change keeps another user’s title change', () => {
    // Bob changed the title on the firm side since Alice's base; Alice changed the phone.
    const f = firm('F1', { ...base, title: 'Partner' });
    const mine = person('a', { phones: [{ types: ['work'], value: '222' }], title: 'Associate' });
    const p = plan([link('c1', mine, { firmContactId: f.id, base })], [f]);
    expect(p.outcomes[0]?.kind).toBe('updated');
    const w = p.firmWrites[0]!;
    expect(w.fields.title).toBe('Partner');
    expect(w.fields.phones).toEqual([{ types: ['work'], value: '222' }]);
    expect(Object.keys(w.provenance)).toEqual(['phones']);
    expect(p.journal[0]).toMatchObject({
      action: 'firm-update',
      before: { phones: [{ types: ['work'], value: '111' }] },
      after: { phones: [{ types: ['work'], value: '222' }] },
    });
    expect(p.links).toEqual([]);
    expect(p.bases).toEqual([{ userContactId: 'c1', firmContactId: f.id, base: firmFieldsOf(mine) }]);
  });

  it('two users adding a phone each: both numbers stay', () => {
    const f = firm('F1', {
      ...base,
      phones: [
        { types: ['work'], value: '111' },
        { types: ['cell'], value: '333' },
      ],
    });
    const mine = person('a', {
      phones: [
        { types: ['work'], value: '111' },
        { types: ['home'], value: '444' },
      ],
      title: 'Associate',
    });
    const p = plan([link('c1', mine, { firmContactId: f.id, base })], [f]);
    expect((p.firmWrites[0]!.fields.phones as { value: string }[]).map((x) => x.value)).toEqual([
      '111',
      '333',
      '444',
    ]);
  });

  it('a change of a personal field (note) goes nowhere', () => {
    const f = firm('F1', base);
    const p = plan(
      [
        link(
          'c1',
          person('a', { phones: [{ types: ['work'], value: '111' }], title: 'Associate', note: 'mine' }),
          { firmContactId: f.id, base },
        ),
      ],
      [f],
    );
    expect(p.outcomes[0]?.kind).toBe('unchanged');
    expect(p.firmWrites).toEqual([]);
    expect(p.links).toEqual([]);
  });

  it('a contact that became private is disconnected and its change is not taken up', () => {
    const f = firm('F1', base);
    const p = plan(
      [link('c1', person('a', { private: true, title: 'Secret' }), { firmContactId: f.id, base })],
      [f],
    );
    expect(p.outcomes[0]?.kind).toBe('disconnected');
    expect(p.firmWrites).toEqual([]);
    expect(p.links).toEqual([{ userContactId: 'c1', firmContactId: null, base: null, detached: false }]);
  });

  it('a connected contact that is a group is disconnected: groups are no people', () => {
    const f = firm('F1', base);
    const p = plan([link('c1', person('a', { extra: ['KIND:group'] }), { firmContactId: f.id, base })], [f]);
    expect(p.outcomes[0]?.kind).toBe('disconnected');
    expect(p.firmWrites).toEqual([]);
  });

  it('writes a firm contact the user connects to without filling anything, so the down step sees it', () => {
    const richer = firm(
      'F1',
      firmFieldsOf(person('f', { title: 'Partner', phones: [{ types: [], value: '9' }] })),
    );
    const mine = person('a', { title: 'Partner', phones: [{ types: [], value: '9' }], organization: 'Acme' });
    const plain = person('b', { title: '', phones: [] });
    expect(plan([link('c1', mine)], [richer]).firmWrites).toEqual([]);
    const p = plan([link('c1', plain)], [richer]);
    expect(p.firmWrites).toEqual([
      expect.objectContaining({ id: 'F1', op: 'update', fields: richer.fields }),
    ]);
    expect(p.journal.map((l) => l.action)).toEqual(['connect']);
  });
});
