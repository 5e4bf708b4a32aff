/**
 * TEXT values: reading them through ical.js's own decoder and writing them escaped.
 *
 * ical.js 2.2.1 decodes a vCard TEXT value without un-escaping `\;` unless the value is one
 * component of a structured property, so `FN:A\; B` reads as `A\; B`. Its decoder does the
 * whole job (`\\`, `\;`, `\,`, `\n` in one left-to-right pass) when asked to treat `;` as a
 * structured separator, so every vCard TEXT value is decoded that way here.
 */
import ICAL from 'ical.js';

type TextDecoder = (value: string, structuredEscape?: string) => string;

const vcardText = (ICAL.design.vcard3.value as { text: { fromICAL: TextDecoder } }).text.fromICAL;

/**
 * Decodes one escaped TEXT value (RFC 6350 §3.4, RFC 2426 §5, RFC 5545 §3.3.11):
 * `\\` → `\`, `\;` → `;`, `\,` → `,`, `\n`/`\N` → newline.
 */
export function decodeText(raw: string): string {
  return vcardText(raw, ';');
}

/**
 * Splits an escaped value at the separators that are not escaped, then decodes each piece:
 * `,` for lists (CATEGORIES), `;` for components (N, ADR, ORG).
 * ical.js splits only where the separator is not preceded by a backslash, which misreads
 * `a\\,b` (an escaped backslash, then a separator), and it hands back a one-component value
 * as a bare list (`N:Doe,Smith` reads like two components); walking escape pairs avoids both.
 */
export function decodeList(raw: string, separator: ',' | ';'): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\') i++;
    else if (c === separator) {
      pieces.push(raw.slice(start, i));
      start = i + 1;
    }
  }
  pieces.push(raw.slice(start));
  return pieces.map(decodeText);
}

/**
 * Escapes a TEXT value for output: backslash, semicolon, comma and newline
 * (RFC 5545 §3.3.11; RFC 6350 §3.4; RFC 2426 §5 for vCard 3.0). Escaping `;` everywhere is
 * valid in both formats and keeps compound values (N, ADR, ORG) unambiguous.
 */
export function escapeText(value: string): string {
  return value.replace(/\r\n|[\\;,\n\r]/g, (c) => {
    switch (c) {
      case '\\':
        return '\\\\';
      case ';':
        return '\\;';
      case ',':
        return '\\,';
      default:
        return '\\n';
    }
  });
}

/**
 * Encodes one parameter value (RFC 6868 for `"` and newline; RFC 5545 §3.2 / RFC 6350 §5:
 * quoted when it holds `:`, `;` or `,`). `^` is doubled only where it would otherwise start an
 * RFC 6868 escape, so values without one stay byte-identical for readers that predate it.
 */
export function encodeParamValue(value: string, alwaysQuote = false): string {
  const encoded = value
    .replace(/\^(?=['n^])/g, '^^')
    .replace(/"/g, "^'")
    .replace(/\r\n|\n|\r/g, '^n');
  return alwaysQuote || /[:;,]/.test(encoded) ? `"${encoded}"` : encoded;
}

/** Trims and puts a string in Unicode NFC, so equal text from different writers compares equal. */
export function clean(value: string): string {
  return value.normalize('NFC').trim();
}

/** Like {@link clean}, for multi-line text: line endings become LF and trailing blanks go. */
export function cleanMultiline(value: string): string {
  return clean(value.replace(/\r\n|\r/g, '\n').replace(/[ \t]+\n/g, '\n'));
}
