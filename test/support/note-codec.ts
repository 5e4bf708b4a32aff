import { createHash } from 'node:crypto';
import type { ItemCodec } from '../../src/domain/codec.js';
import { LiaisonError } from '../../src/domain/errors.js';
import { canonicalJson, type Fields } from '../../src/domain/fields.js';
import type { Uid } from '../../src/domain/ids.js';

/** A small item type for planner and property tests: a title, a body and a set of tags. */
export interface Note {
  readonly uid: Uid;
  readonly title: string;
  readonly body: string;
  readonly tags: readonly string[];
  readonly private: boolean;
}

const KEYS = new Set(['UID', 'TITLE', 'BODY', 'TAGS', 'PRIVATE']);

/**
 * A codec over a small line format (`KEY:json` per line, with a UID line as vCards have);
 * any other line is invalid data.
 */
export const noteCodec: ItemCodec<Note> = {
  kind: 'contacts',
  parse(text, fallbackUid) {
    const o: Record<string, unknown> = {};
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const at = line.indexOf(':');
      const key = line.slice(0, at);
      if (at < 0 || !KEYS.has(key))
        throw new LiaisonError('InvalidData', `not a note line: ${line.slice(0, 40)}`);
      o[key] = key === 'UID' ? line.slice(at + 1) : JSON.parse(line.slice(at + 1));
    }
    return {
      uid: (o.UID ?? fallbackUid) as Uid,
      title: String(o.TITLE ?? ''),
      body: String(o.BODY ?? ''),
      tags: Array.isArray(o.TAGS) ? o.TAGS.map(String) : [],
      private: o.PRIVATE === true,
    };
  },
  serialize: (n) =>
    `UID:${n.uid}\nTITLE:${JSON.stringify(n.title)}\nBODY:${JSON.stringify(n.body)}\nTAGS:${JSON.stringify(n.tags)}\nPRIVATE:${n.private}\n`,
  // `categories`, not `tags`: contacts merge that field element-wise, and so should notes.
  fields: (n) => ({ title: n.title, body: n.body, categories: [...n.tags].sort(), private: n.private }),
  fromFields: (uid, f: Fields) => ({
    uid,
    title: String(f.title ?? ''),
    body: String(f.body ?? ''),
    tags: Array.isArray(f.categories) ? f.categories.map(String) : [],
    private: f.private === true,
  }),
  hash: (f) => createHash('sha256').update(canonicalJson(f)).digest('hex'),
  isPrivate: (n) => n.private,
  matchKeys: (n) => [[`uid:${n.uid}`], n.title ? [`title:${n.title.toLowerCase()}`] : []],
  span: () => null,
};
