/**
 * Golden fixtures: every test/fixtures/vcard/*.vcf and test/fixtures/ical/*.ics is parsed and
 * compared with the JSON beside it (uid, privacy, match keys, span and normalized fields), or,
 * for a `malformed-*` file (broken) or a `not-an-event-*` file (well-formed, not synced), with
 * the kind of error it must raise.
 *
 * The JSON is only ever rewritten when asked: `UPDATE_GOLDEN=1 npx vitest run test/unit/formats-golden`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ItemCodec } from '../../src/domain/codec.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid, type Uid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { contactCodec } from '../../src/formats/contact-codec.js';

const UPDATE = process.env.UPDATE_GOLDEN === '1';

function fixtureDir(kind: string): string {
  return fileURLToPath(new URL(`../fixtures/${kind}/`, import.meta.url));
}

function golden<T extends { readonly uid: Uid }>(codec: ItemCodec<T>, text: string, name: string): unknown {
  let item: T;
  try {
    item = codec.parse(text, asUid(`fallback-${name}`));
  } catch (e) {
    if (isLiaisonError(e)) return { error: e.kind };
    throw e;
  }
  const span = codec.span(item);
  return JSON.parse(
    JSON.stringify({
      uid: item.uid,
      private: codec.isPrivate(item),
      matchKeys: codec.matchKeys(item),
      span: span && {
        start: new Date(span.start).toISOString(),
        end: span.end === null ? null : new Date(span.end).toISOString(),
      },
      fields: codec.fields(item),
    }),
  );
}

function walk<T extends { readonly uid: Uid }>(kind: string, extension: string, codec: ItemCodec<T>): void {
  const dir = fixtureDir(kind);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(extension))
    .sort();

  it(`finds the ${kind} fixtures`, () => {
    expect(files.length).toBeGreaterThan(10);
  });

  for (const file of files) {
    const name = file.slice(0, -extension.length);
    it(name, () => {
      const actual = golden(codec, readFileSync(dir + file, 'utf8'), name);
      const expectedPath = `${dir}${name}.json`;
      expect(
        Object.hasOwn(actual as object, 'error'),
        'only malformed-* and not-an-event-* fixtures may fail to parse',
      ).toBe(name.startsWith('malformed-') || name.startsWith('not-an-event-'));
      if (UPDATE) {
        writeFileSync(expectedPath, `${JSON.stringify(actual, null, 2)}\n`);
        return;
      }
      expect(existsSync(expectedPath), `${expectedPath} is missing; write it with UPDATE_GOLDEN=1`).toBe(
        true,
      );
      expect(actual).toEqual(JSON.parse(readFileSync(expectedPath, 'utf8')));
    });
  }
}

describe('vCard golden fixtures', () => walk('vcard', '.vcf', contactCodec));
describe('iCalendar golden fixtures', () => walk('ical', '.ics', appointmentCodec));
