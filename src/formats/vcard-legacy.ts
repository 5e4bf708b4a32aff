/**
 * vCard 2.1 leftovers, rewritten into vCard 3.0 syntax before ical.js reads a line.
 * ical.js rejects a parameter without `=` (`TEL;WORK;VOICE:`), and it knows nothing of
 * QUOTED-PRINTABLE or CHARSET, which 2.1 writers (older Outlook, phones) still emit.
 */
import { valueStart } from './content-lines.js';

const LEGACY_HINT = /;[^;:=]*(?:[;:]|$)|ENCODING|CHARSET|QUOTED-PRINTABLE|BASE64/i;

/**
 * Returns the line in vCard 3.0 syntax: bare parameters become TYPE= (vCard 2.1 §2.4.2 lets a
 * parameter value stand alone), QUOTED-PRINTABLE values are decoded with their CHARSET
 * (RFC 2045 §6.7) and written as escaped text, ENCODING=BASE64 becomes ENCODING=b
 * (RFC 2426 §5.1), 7BIT/8BIT and CHARSET are dropped (the text is already decoded).
 * A line with none of these is returned unchanged, byte for byte.
 */
export function upgradeLegacyLine(line: string): string {
  const colon = valueStart(line);
  if (colon < 0) return line;
  const head = line.slice(0, colon);
  if (!LEGACY_HINT.test(head)) return line;
  const [name = '', ...parts] = splitUnquoted(head);
  let changed = false;
  let quotedPrintable = false;
  let charset = '';
  const params: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const key = eq < 0 ? '' : part.slice(0, eq).trim().toUpperCase();
    const value = (eq < 0 ? part : part.slice(eq + 1)).trim();
    const encoding = eq < 0 || key === 'ENCODING' ? encodingOf(value) : undefined;
    if (encoding !== undefined) {
      changed = true;
      if (encoding === 'qp') quotedPrintable = true;
      else if (encoding === 'b') params.push('ENCODING=b');
      continue;
    }
    if (key === 'CHARSET') {
      changed = true;
      charset = value;
      continue;
    }
    if (eq < 0) {
      changed = true;
      if (value !== '') params.push(`TYPE=${value}`);
      continue;
    }
    params.push(part);
  }
  if (!changed) return line;
  let value = line.slice(colon + 1);
  if (quotedPrintable) value = decodeQuotedPrintable(value, charset).replace(/\r\n|\r|\n/g, '\\n');
  return `${[name, ...params].join(';')}:${value}`;
}

function encodingOf(value: string): 'qp' | 'b' | '' | undefined {
  switch (value.toUpperCase()) {
    case 'QUOTED-PRINTABLE':
      return 'qp';
    case 'BASE64':
    case 'B':
      return 'b';
    case '7BIT':
    case '8BIT':
      return '';
    default:
      return undefined;
  }
}

function splitUnquoted(head: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < head.length; i++) {
    const c = head[i];
    if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) {
      parts.push(head.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(head.slice(start));
  return parts;
}

/**
 * Decodes QUOTED-PRINTABLE (RFC 2045 §6.7) into text using the named charset; an unknown
 * charset label falls back to UTF-8. Characters outside Latin-1 that are already decoded in the
 * string (a file read as UTF-8 with a stray non-ASCII byte sequence) are kept as UTF-8 bytes.
 */
export function decodeQuotedPrintable(value: string, charset: string): string {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < value.length; i++) {
    const c = value[i] ?? '';
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '=' && i === value.length - 1) {
      // A soft line break left at the very end: nothing follows.
    } else {
      const code = c.charCodeAt(0);
      if (code < 0x80) bytes.push(code);
      else bytes.push(...encoder.encode(c));
    }
  }
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(charset || 'utf-8');
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  return decoder.decode(new Uint8Array(bytes));
}
