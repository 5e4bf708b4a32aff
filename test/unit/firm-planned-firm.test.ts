import { describe, expect, it } from 'vitest';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { asFirmContactId, asUid, type FirmContactId } from '../../src/domain/ids.js';
import { firmFieldsOf } from '../../src/firm/firm-fields.js';
import type { FirmContact, FirmContactWrite } from '../../src/firm/firm-types.js';
import { firmContactKeys } from '../../src/firm/plan-up.js';
import { mergeFirmWrites, PlannedFirm } from '../../src/firm/planned-firm.js';
import type { FirmReads } from '../../src/firm/ports.js';

const F1 = asFirmContactId('F1');
const F2 = asFirmContactId('F2');

function person(email: string, over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid('x')),
    name: { prefix: '', given: 'Tom', additional: '', family: 'Smith', suffix: '' },
    formattedName: 'Tom Smith',
    organization: 'Acme',
    emails: [{ types: [], value: email }],
    ...over,
  };
}

function write(
  op: 'create' | 'update',
  id: FirmContactId,
  contact: Contact,
  over: Partial<FirmContactWrite> = {},
) {
  const fields = firmFieldsOf(contact);
  return {
    op,
    id,
    fields,
    provenance: {},
    keys: firmContactKeys(id, fields),
    possibleDuplicate: false,
    candidates: [],
    ...over,
  } satisfies FirmContactWrite;
}

/** A stored firm list of one contact, F1 (tom@acme.example), as the store answers lookups. */
function stored(): Pick<FirmReads, 'firmContacts' | 'firmIdsByEmail' | 'firmIdsByName'> {
  const fields = firmFieldsOf(person('tom@acme.example'));
  const f1: FirmContact = {
    id: F1,
    fields,
    provenance: {},
    seq: 7,
    possibleDuplicate: false,
    candidates: [],
    createdAt: 't0',
    updatedAt: 't0',
  };
  const keys = firmContactKeys(F1, fields);
  return {
    firmContacts: async (ids) => new Map(ids.includes(F1) ? [[F1, f1]] : []),
    firmIdsByEmail: async (emails) =>
      new Map(emails.filter((e) => keys.emails.includes(e)).map((e) => [e, [F1]])),
    firmIdsByName: async (names) => new Map(names.filter((n) => n === keys.name).map((n) => [n, [F1]])),
  };
}

describe('PlannedFirm: planned firm contacts seen through the stored ones', () => {
  it('finds a planned creation by its keys, and reads it as planned', async () => {
    const planned = new PlannedFirm();
    planned.record([write('create', F2, person('ann@beta.example', { organization: 'Beta' }))]);
    const reads = planned.over(stored());
    expect(await reads.firmIdsByEmail(['ann@beta.example', 'tom@acme.example'])).toEqual(
      new Map([
        ['ann@beta.example', [F2]],
        ['tom@acme.example', [F1]],
      ]),
    );
    expect((await reads.firmContacts([F1, F2])).get(F2)?.fields.organization).toBe('Beta');
    expect(planned.size).toBe(1);
  });

  it('a planned change of a stored contact replaces it: found by its new keys, not its old ones', async () => {
    const planned = new PlannedFirm();
    planned.record([write('update', F1, person('thomas@acme.example'))]);
    const reads = planned.over(stored());
    expect(await reads.firmIdsByEmail(['tom@acme.example'])).toEqual(new Map());
    expect(await reads.firmIdsByEmail(['thomas@acme.example'])).toEqual(
      new Map([['thomas@acme.example', [F1]]]),
    );
    const f1 = (await reads.firmContacts([F1])).get(F1);
    expect(f1?.fields.emails).toEqual([{ types: [], value: 'thomas@acme.example' }]);
    // Not written yet: no change sequence value (the up planner does not read it).
    expect(f1?.seq).toBe(0);
  });

  it('layers: a group’s plans over a dry run’s', async () => {
    const run = new PlannedFirm();
    run.record([write('create', F2, person('ann@beta.example'))]);
    const group = new PlannedFirm();
    group.record([write('update', F2, person('ann@gamma.example'))]);
    const reads = group.over(run.over(stored()));
    expect(await reads.firmIdsByEmail(['ann@beta.example', 'ann@gamma.example'])).toEqual(
      new Map([['ann@gamma.example', [F2]]]),
    );
  });
});

describe('mergeFirmWrites', () => {
  it('keeps one write per firm contact: the last values, the first operation', () => {
    const created = write('create', F2, person('ann@beta.example'));
    const updated = write('update', F2, person('ann@beta.example', { title: 'Partner' }), {
      emailsUnchanged: true,
      keysUnchanged: true,
    });
    const merged = mergeFirmWrites([[created], [updated, write('update', F1, person('tom@acme.example'))]]);
    expect(merged.map((w) => [w.id, w.op, w.fields.title])).toEqual([
      [F2, 'create', 'Partner'],
      [F1, 'update', ''],
    ]);
  });

  it('lookup rows and key columns stay only when no plan changed them', () => {
    const same = { emailsUnchanged: true, keysUnchanged: true };
    const a = write('update', F1, person('tom@acme.example'), same);
    const b = write('update', F1, person('tom@acme.example', { title: 'Partner' }), same);
    expect(mergeFirmWrites([[a], [b]])[0]).toMatchObject(same);
    const c = write('update', F1, person('tom@acme.example'), {
      emailsUnchanged: false,
      keysUnchanged: false,
    });
    expect(mergeFirmWrites([[c], [b]])[0]).toMatchObject({ emailsUnchanged: false, keysUnchanged: false });
  });
});
