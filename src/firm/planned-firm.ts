/**
 * Firm contacts as planned but not yet written, seen through the database's: several up plans
 * can then be made one after the other before any is written, each seeing what the ones before
 * it would create or change. The up step plans a group of users this way in one transaction;
 * a dry run plans the whole run this way, so that it reports what a real run would do — the
 * copies of one person in several users' lists are connected to one planned firm contact, not
 * counted as as many creations.
 */
import type { FirmContactId } from '../domain/ids.js';
import type { FirmContact, FirmContactWrite } from './firm-types.js';
import type { FirmReads } from './ports.js';

type Lookups = Pick<FirmReads, 'firmContacts' | 'firmIdsByEmail' | 'firmIdsByName'>;

export class PlannedFirm {
  readonly #firm = new Map<FirmContactId, FirmContact>();
  readonly #keys = new Map<FirmContactId, { readonly emails: readonly string[]; readonly name: string }>();
  readonly #byEmail = new Map<string, Set<FirmContactId>>();
  readonly #byName = new Map<string, Set<FirmContactId>>();

  /** How many firm contacts are planned (a dry run holds them all in memory). */
  get size(): number {
    return this.#firm.size;
  }

  /** `reads` with the planned firm contacts in place of the stored ones. */
  over(reads: Lookups): Lookups {
    return {
      firmContacts: async (ids) => {
        const out = await reads.firmContacts(ids.filter((id) => !this.#firm.has(id)));
        for (const id of ids) {
          const planned = this.#firm.get(id);
          if (planned !== undefined) out.set(id, planned);
        }
        return out;
      },
      firmIdsByEmail: async (emails) =>
        this.#correct(await reads.firmIdsByEmail(emails), emails, this.#byEmail),
      firmIdsByName: async (keys) => this.#correct(await reads.firmIdsByName(keys), keys, this.#byName),
    };
  }

  /** Takes a plan's firm contact writes as done. */
  record(writes: readonly FirmContactWrite[]): void {
    for (const w of writes) {
      const before = this.#firm.get(w.id);
      const old = this.#keys.get(w.id);
      if (old !== undefined) {
        for (const e of old.emails) this.#byEmail.get(e)?.delete(w.id);
        if (old.name !== '') this.#byName.get(old.name)?.delete(w.id);
      }
      this.#firm.set(w.id, {
        id: w.id,
        fields: w.fields,
        provenance: w.provenance,
        // Not written: no change sequence value yet. The up planner does not read it.
        seq: before?.seq ?? 0,
        possibleDuplicate: w.possibleDuplicate,
        candidates: w.candidates,
        createdAt: before?.createdAt ?? '',
        updatedAt: before?.updatedAt ?? '',
      });
      this.#keys.set(w.id, { emails: w.keys.emails, name: w.keys.name });
      for (const e of w.keys.emails) add(this.#byEmail, e, w.id);
      if (w.keys.name !== '') add(this.#byName, w.keys.name, w.id);
    }
  }

  /** A stored lookup, with planned firm contacts found by their planned keys only. */
  #correct(
    stored: Map<string, FirmContactId[]>,
    keys: readonly string[],
    planned: Map<string, Set<FirmContactId>>,
  ): Map<string, FirmContactId[]> {
    const out = new Map<string, FirmContactId[]>();
    for (const key of new Set(keys)) {
      const ids = (stored.get(key) ?? []).filter((id) => !this.#firm.has(id));
      ids.push(...(planned.get(key) ?? []));
      if (ids.length > 0) out.set(key, ids);
    }
    return out;
  }
}

function add(index: Map<string, Set<FirmContactId>>, key: string, id: FirmContactId): void {
  const ids = index.get(key);
  if (ids === undefined) index.set(key, new Set([id]));
  else ids.add(id);
}

/**
 * The writes of several plans made one after the other through a `PlannedFirm`, as one list: a
 * firm contact written by several keeps its last values (each plan started from the one before)
 * and its first operation; its e-mail lookup rows stay only if no plan changed its addresses.
 */
export function mergeFirmWrites(lists: readonly (readonly FirmContactWrite[])[]): FirmContactWrite[] {
  const byId = new Map<FirmContactId, FirmContactWrite>();
  for (const list of lists) {
    for (const w of list) {
      const first = byId.get(w.id);
      if (first === undefined) byId.set(w.id, w);
      else {
        byId.set(w.id, {
          ...w,
          op: first.op,
          emailsUnchanged: first.emailsUnchanged === true && w.emailsUnchanged === true,
          keysUnchanged: first.keysUnchanged === true && w.keysUnchanged === true,
        });
      }
    }
  }
  return [...byId.values()];
}
