import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLiaisonError } from '../../src/domain/errors.js';
import { buildComponents, foldLine, unfoldLines, valueStart } from '../../src/formats/content-lines.js';
import { decodeList, decodeText, encodeParamValue, escapeText } from '../../src/formats/text-values.js';
import { decodeQuotedPrintable, upgradeLegacyLine } from '../../src/formats/vcard-legacy.js';

describe('folding and unfolding', () => {
  it('folds to at most 75 octets and unfolds back, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (value) => {
        const line = `X-TEST:${value.replace(/[\r\n]/g, '')}`;
        const folded = foldLine(line);
        for (const physical of folded.split('\r\n'))
          expect(Buffer.byteLength(physical)).toBeLessThanOrEqual(75);
        expect(unfoldLines(`${folded}\r\n`)).toEqual([line]);
      }),
    );
  });

  it('unfolds CRLF, LF and CR line ends, space and tab folds, and drops a BOM and blank lines', () => {
    const text = '\uFEFFBEGIN:VCARD\r\nFN:Ann\n  Lee\rNOTE:a\r\n\tb\r\n\r\nEND:VCARD';
    expect(unfoldLines(text)).toEqual(['BEGIN:VCARD', 'FN:Ann Lee', 'NOTE:ab', 'END:VCARD']);
  });

  it('joins quoted-printable soft line breaks only when asked to', () => {
    const text = 'NOTE;ENCODING=QUOTED-PRINTABLE:a=\r\nb\r\nX-A:=\r\nX-B:c';
    expect(unfoldLines(text, { quotedPrintable: true })).toEqual([
      'NOTE;ENCODING=QUOTED-PRINTABLE:ab',
      'X-A:=',
      'X-B:c',
    ]);
    expect(unfoldLines(text)).toHaveLength(4);
  });

  it('unfolds as the plain reading of RFC 6350 §3.2 and RFC 2045 §6.7 does, for any mix of folds and soft breaks', () => {
    const token = fc.constantFrom(
      'A',
      'b',
      '=',
      ':',
      ';',
      '"',
      ' ',
      '\t',
      '\r\n',
      '\n',
      '\r',
      'QUOTED-PRINTABLE',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), fc.boolean(), (tokens, quotedPrintable) => {
        const text = tokens.join('');
        expect(unfoldLines(text, { quotedPrintable })).toEqual(unfoldPlainly(text, quotedPrintable));
      }),
      { numRuns: 2000 },
    );
  });

  it('unfolds a photo folded over thousands of lines into its one line', () => {
    const photo = 'QUJD'.repeat(75_000);
    const card = `BEGIN:VCARD\r\n${foldLine(`PHOTO;ENCODING=b;TYPE=JPEG:${photo}`)}\r\nEND:VCARD\r\n`;
    expect(card.split('\r\n').length).toBeGreaterThan(4000);
    expect(unfoldLines(card, { quotedPrintable: true })).toEqual([
      'BEGIN:VCARD',
      `PHOTO;ENCODING=b;TYPE=JPEG:${photo}`,
      'END:VCARD',
    ]);
  });

  it('finds the value after the first colon outside quotes', () => {
    expect(valueStart('X;P="a:b":c:d')).toBe(9);
    expect(valueStart('no colon')).toBe(-1);
  });
});

describe('component nesting', () => {
  it('nests components and keeps their lines in order', () => {
    const [root] = buildComponents(['BEGIN:A', 'X:1', 'BEGIN:B', 'Y:2', 'END:B', 'Z:3', 'END:A'], 'test');
    expect(root).toEqual({
      name: 'A',
      lines: ['X:1', 'Z:3'],
      children: [{ name: 'B', lines: ['Y:2'], children: [] }],
    });
  });

  it.each([[['X:1']], [['BEGIN:A', 'X:1']], [['BEGIN:A', 'END:B']], [['END:A']], [['BEGIN:', 'END:']]])(
    'rejects %j with InvalidData',
    (lines) => {
      let caught: unknown;
      try {
        buildComponents(lines, 'test');
      } catch (e) {
        caught = e;
      }
      expect(isLiaisonError(caught, 'InvalidData')).toBe(true);
    },
  );
});

describe('TEXT escaping', () => {
  it('decodes what it escapes, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (value) => {
        const normalized = value.replace(/\r\n|\r/g, '\n');
        expect(decodeText(escapeText(normalized))).toBe(normalized);
      }),
    );
  });

  it('splits what it joins, for any list', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 20 }), { minLength: 1, maxLength: 6 }), (values) => {
        const clean = values.map((v) => v.replace(/\r\n|\r/g, '\n'));
        expect(decodeList(clean.map(escapeText).join(','), ',')).toEqual(clean);
        expect(decodeList(clean.map(escapeText).join(';'), ';')).toEqual(clean);
      }),
    );
  });

  it('escapes exactly backslash, semicolon, comma and newline', () => {
    expect(escapeText('a\\b;c,d\ne\r\nf:g"h')).toBe('a\\\\b\\;c\\,d\\ne\\nf:g"h');
  });

  it('quotes parameter values with separators and encodes quotes and newlines (RFC 6868)', () => {
    expect(encodeParamValue('plain')).toBe('plain');
    expect(encodeParamValue('Doe, Jane')).toBe('"Doe, Jane"');
    expect(encodeParamValue('say "hi"\nnow')).toBe("say ^'hi^'^nnow");
    expect(encodeParamValue('a^b')).toBe('a^b');
    expect(encodeParamValue('a^nb')).toBe('a^^nb');
    expect(encodeParamValue('mailto:x@y', true)).toBe('"mailto:x@y"');
  });
});

describe('vCard 2.1 upgrade', () => {
  it('leaves vCard 3.0 and 4.0 lines alone, byte for byte', () => {
    for (const line of ['TEL;TYPE=work:+1', 'X-A;X-P="a;b";Q=1:v', 'EMAIL:a@b', 'NOTE:x=0D=0A']) {
      expect(upgradeLegacyLine(line)).toBe(line);
    }
  });

  it('turns bare parameters into TYPE and drops 2.1 encodings and charsets', () => {
    expect(upgradeLegacyLine('TEL;WORK;VOICE:+1')).toBe('TEL;TYPE=WORK;TYPE=VOICE:+1');
    expect(upgradeLegacyLine('PHOTO;JPEG;ENCODING=BASE64:AAAA')).toBe('PHOTO;TYPE=JPEG;ENCODING=b:AAAA');
    expect(upgradeLegacyLine('ORG;CHARSET=UTF-8:Ä')).toBe('ORG:Ä');
    expect(upgradeLegacyLine('NOTE;QUOTED-PRINTABLE:a=3Db=0D=0Ac')).toBe('NOTE:a=b\\nc');
  });

  it('decodes quoted-printable in the named charset', () => {
    expect(decodeQuotedPrintable('M=FCller', 'ISO-8859-1')).toBe('Müller');
    expect(decodeQuotedPrintable('M=C3=BCller', 'utf-8')).toBe('Müller');
    expect(decodeQuotedPrintable('M=C3=BCller', 'no-such-charset')).toBe('Müller');
  });
});

/** Unfolding written the plain way, one string grown line by line: what `unfoldLines` must equal. */
function unfoldPlainly(text: string, quotedPrintable: boolean): string[] {
  const out: string[] = [];
  let current: string | undefined;
  let softBreak = false;
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (current !== undefined && softBreak) current = current.slice(0, -1) + line;
    else if (current !== undefined && (line.startsWith(' ') || line.startsWith('\t')))
      current += line.slice(1);
    else {
      if (current !== undefined && current.trim() !== '') out.push(current);
      current = line;
    }
    const colon = valueStart(current);
    softBreak =
      quotedPrintable &&
      current.endsWith('=') &&
      colon > 0 &&
      /QUOTED-PRINTABLE/i.test(current.slice(0, colon));
  }
  if (current !== undefined && current.trim() !== '') out.push(current);
  return out;
}
