/**
 * The line layer shared by vCard and iCalendar: unfolding, folding and the BEGIN/END
 * nesting of components. Property names, parameters and values are read by ical.js
 * (see `ical-property.ts`); this file only cuts text into logical content lines, because
 * ical.js's parser does not keep the original text of a line, and Liaison must write
 * unmodelled lines back as they came.
 */
import { LiaisonError } from '../domain/errors.js';

/** One component as its text nests: its own content lines, unfolded, and its sub-components. */
export interface RawComponent {
  /** Upper-case component name (VCARD, VEVENT, VALARM, ...). */
  readonly name: string;
  /** The component's own property lines, unfolded, in document order (no BEGIN/END). */
  readonly lines: readonly string[];
  readonly children: readonly RawComponent[];
}

interface MutableComponent {
  name: string;
  lines: string[];
  children: MutableComponent[];
}

const CRLF = '\r\n';

/**
 * Splits text into logical content lines.
 * RFC 5545 §3.1 / RFC 6350 §3.2: a line break followed by one space or tab is a fold and is
 * removed with that one white-space character. CRLF, bare LF and bare CR are all accepted as
 * line breaks, since files that passed through other tools mix them.
 * With `quotedPrintable`, a vCard 2.1 line encoded QUOTED-PRINTABLE that ends in `=` continues on
 * the next physical line whatever that line starts with (RFC 2045 §6.7 rule 5, soft line break).
 * Empty lines are dropped.
 *
 * A logical line is gathered as its physical pieces and joined once: a photo folded over
 * thousands of lines would otherwise be copied whole at every fold.
 */
export function unfoldLines(text: string, options: { quotedPrintable?: boolean } = {}): string[] {
  const physical = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split(/\r\n|\n|\r/);
  const out: string[] = [];
  const line = new LogicalLine();
  let softBreak = false;
  for (const piece of physical) {
    if (!line.empty && softBreak) {
      line.dropLastChar();
      line.add(piece);
    } else if (!line.empty && (piece.startsWith(' ') || piece.startsWith('\t'))) {
      line.add(piece.slice(1));
    } else {
      line.flushInto(out);
      line.add(piece);
    }
    softBreak = options.quotedPrintable === true && line.lastChar() === '=' && line.quotedPrintable();
  }
  line.flushInto(out);
  return out;
}

/** The physical pieces of one logical line, joined when the line ends. */
class LogicalLine {
  #pieces: string[] = [];
  /** Whether the line is encoded QUOTED-PRINTABLE, once its name and parameters are known. */
  #qp: boolean | undefined;

  get empty(): boolean {
    return this.#pieces.length === 0;
  }

  add(piece: string): void {
    this.#pieces.push(piece);
  }

  /** The last character of the line so far, or '' when it has none. */
  lastChar(): string {
    for (let i = this.#pieces.length - 1; i >= 0; i--) {
      const p = this.#pieces[i] as string;
      if (p.length > 0) return p.charAt(p.length - 1);
    }
    return '';
  }

  dropLastChar(): void {
    for (let i = this.#pieces.length - 1; i >= 0; i--) {
      const p = this.#pieces[i] as string;
      if (p.length > 0) {
        this.#pieces[i] = p.slice(0, -1);
        return;
      }
    }
  }

  quotedPrintable(): boolean {
    if (this.#qp !== undefined) return this.#qp;
    const sofar = this.#pieces.join('');
    const colon = valueStart(sofar);
    if (colon <= 0) return false;
    this.#qp = /QUOTED-PRINTABLE/i.test(sofar.slice(0, colon));
    return this.#qp;
  }

  flushInto(out: string[]): void {
    if (this.#pieces.length === 0) return;
    const joined = this.#pieces.join('');
    if (joined.trim() !== '') out.push(joined);
    this.#pieces = [];
    this.#qp = undefined;
  }
}

/**
 * Index of the `:` that separates a content line's name and parameters from its value,
 * skipping colons inside double-quoted parameter values (RFC 5545 §3.1, RFC 6350 §3.3);
 * -1 when there is none.
 */
export function valueStart(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x22) quoted = !quoted;
    else if (c === 0x3a && !quoted) return i;
  }
  return -1;
}

/** The raw (still escaped) value of a content line: everything after the first unquoted colon. */
export function rawValue(line: string): string {
  const i = valueStart(line);
  return i < 0 ? '' : line.slice(i + 1);
}

/**
 * The property name of a content line, upper case, without its group
 * (`item1.EMAIL;TYPE=work:...` gives `EMAIL`).
 */
export function propertyName(line: string): string {
  const end = line.search(/[;:]/);
  const head = end < 0 ? line : line.slice(0, end);
  const dot = head.lastIndexOf('.');
  return (dot < 0 ? head : head.slice(dot + 1)).toUpperCase();
}

const BEGIN_END = /^(BEGIN|END):(.*)$/i;

/**
 * Groups logical lines into components by their BEGIN/END lines.
 * Throws `InvalidData` for a property outside any component, an END that closes a component
 * that is not open, or a component that never ends.
 */
export function buildComponents(lines: readonly string[], what: string): RawComponent[] {
  const roots: MutableComponent[] = [];
  const stack: MutableComponent[] = [];
  lines.forEach((line, index) => {
    const marker = BEGIN_END.exec(line);
    const top = stack[stack.length - 1];
    if (marker) {
      const name = (marker[2] ?? '').trim().toUpperCase();
      if (marker[1]?.toUpperCase() === 'BEGIN') {
        if (name === '')
          throw invalid(`${what}: BEGIN without a component name at content line ${index + 1}`);
        const component: MutableComponent = { name, lines: [], children: [] };
        if (top) top.children.push(component);
        else roots.push(component);
        stack.push(component);
        return;
      }
      if (!top) throw invalid(`${what}: END:${name} at content line ${index + 1} closes nothing`);
      if (top.name !== name) {
        throw invalid(`${what}: END:${name} at content line ${index + 1} does not close BEGIN:${top.name}`);
      }
      stack.pop();
      return;
    }
    if (!top) {
      throw invalid(`${what}: content line ${index + 1} is outside any BEGIN/END block: ${excerpt(line)}`);
    }
    top.lines.push(line);
  });
  const open = stack[stack.length - 1];
  if (open) throw invalid(`${what}: BEGIN:${open.name} is never closed by END:${open.name}`);
  return roots;
}

/**
 * Folds one logical line to at most 75 octets per physical line, continuation lines starting
 * with one space (RFC 5545 §3.1, RFC 6350 §3.2), never splitting a UTF-8 sequence.
 * ical.js's own `foldline` lets continuation lines reach 76 octets, hence this one.
 */
export function foldLine(line: string): string {
  let out = '';
  let width = 0;
  let limit = 75;
  for (const ch of line) {
    const cp = ch.codePointAt(0) ?? 0;
    const octets = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (width + octets > limit) {
      out += `${CRLF} `;
      width = 0;
      limit = 74;
    }
    out += ch;
    width += octets;
  }
  return out;
}

/** Folds every logical line and joins them with CRLF, ending with CRLF. */
export function joinFolded(lines: readonly string[]): string {
  let out = '';
  for (const line of lines) out += foldLine(line) + CRLF;
  return out;
}

/** A short, single-line excerpt of a content line for error messages. */
export function excerpt(line: string): string {
  const flat = line.replace(/[\r\n]+/g, ' ');
  return JSON.stringify(flat.length > 60 ? `${flat.slice(0, 57)}...` : flat);
}

function invalid(message: string): LiaisonError {
  return new LiaisonError('InvalidData', message);
}
