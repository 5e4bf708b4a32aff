import type { Uid } from './ids.js';

/** A typed value such as an e-mail address or phone number; `types` are lower-case vCard TYPE values. */
export interface TypedValue {
  readonly types: readonly string[];
  readonly value: string;
}

export interface PostalAddress {
  readonly types: readonly string[];
  readonly poBox: string;
  readonly extended: string;
  readonly street: string;
  readonly locality: string;
  readonly region: string;
  readonly postalCode: string;
  readonly country: string;
}

export interface NameParts {
  readonly prefix: string;
  readonly given: string;
  readonly additional: string;
  readonly family: string;
  readonly suffix: string;
}

/**
 * A contact, on either side. Every top-level key except `uid` is one field for
 * three-way merge; `extra` holds every vCard property Liaison does not model, as
 * unfolded content lines, verbatim, so a round trip loses nothing.
 */
export interface Contact {
  readonly uid: Uid;
  readonly name: NameParts;
  readonly formattedName: string;
  readonly nickname: string;
  readonly organization: string;
  readonly department: string;
  readonly title: string;
  readonly emails: readonly TypedValue[];
  readonly phones: readonly TypedValue[];
  readonly addresses: readonly PostalAddress[];
  readonly urls: readonly TypedValue[];
  /** ISO date (YYYY-MM-DD, or --MM-DD without year) or ''. */
  readonly birthday: string;
  readonly note: string;
  readonly categories: readonly string[];
  /** CLASS:PRIVATE in the vCard; the firm side's private flag. */
  readonly private: boolean;
  readonly extra: readonly string[];
}

export const EMPTY_NAME: NameParts = { prefix: '', given: '', additional: '', family: '', suffix: '' };

/** A contact with every field empty; spread it and set what you have. */
export function emptyContact(uid: Uid): Contact {
  return {
    uid,
    name: EMPTY_NAME,
    formattedName: '',
    nickname: '',
    organization: '',
    department: '',
    title: '',
    emails: [],
    phones: [],
    addresses: [],
    urls: [],
    birthday: '',
    note: '',
    categories: [],
    private: false,
    extra: [],
  };
}
