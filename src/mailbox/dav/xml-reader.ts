/**
 * A streaming, namespace-aware XML 1.0 reader for DAV answers. Most of an answer is the text
 * of vCards and iCalendar objects, so text is skipped with `indexOf` and checked with native
 * regexes instead of being read character by character. Only the unconsumed tail of the input
 * is kept between writes, and a construct that spans writes is scanned on from where the last
 * write stopped. DTDs are skipped, not read: only the five predefined entities exist.
 */

/** An XML name: namespace URI and local name. */
export interface XmlName {
  readonly ns: string;
  readonly local: string;
}

/** Receives a document's elements and text in document order. */
export interface XmlSink {
  /** An element starts; `attributes` holds those without a prefix (no `xmlns` declarations). */
  open(name: XmlName, attributes: ReadonlyMap<string, string>): void;
  /** The innermost open element ends. */
  close(): void;
  /** Character data or CDATA of the innermost open element, decoded; one run may come in pieces. */
  text(text: string): void;
}

/** Malformed XML; the message says what is wrong and at which offset of the document. */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError';
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

// XML 1.0 §2.2: characters no document may hold, even as a reference. With the u flag, the
// surrogate range matches only surrogates that are not part of a pair.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const DISALLOWED = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF\uD800-\uDFFF]/u;
// XML 1.0 (fifth edition) §2.3 names.
const NAME_START =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME = `[${NAME_START}][${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040]*`;
const S = '[ \\t\\r\\n]';
const TAG_NAME = new RegExp(NAME, 'uy');
const ATTRIBUTE = new RegExp(`${S}+(${NAME})${S}*=${S}*(?:"([^"]*)"|'([^']*)')`, 'uy');
const TAG_END = new RegExp(`${S}*(/?)>`, 'y');
const END_TAG = new RegExp(`</(${NAME})${S}*>`, 'uy');
const INSTRUCTION = new RegExp(`<\\?(${NAME})(?:${S}|\\?>)`, 'uy');
const XML_DECLARATION = new RegExp(
  `<\\?xml${S}+version${S}*=${S}*(["'])1\\.[0-9]+\\1` +
    `(?:${S}+encoding${S}*=${S}*(["'])[A-Za-z][-A-Za-z0-9._]*\\2)?` +
    `(?:${S}+standalone${S}*=${S}*(["'])(?:yes|no)\\3)?${S}*\\?>`,
  'y',
);
const SPACES = new RegExp(`${S}*`, 'y');
// Where a start tag may end: quotes are skipped over, `<` is never allowed.
const IN_TAG = /["'<>]/g;
const IN_DOUBLE_QUOTES = /["<]/g;
const IN_SINGLE_QUOTES = /['<]/g;
const IN_DOCTYPE = /["'[>]/g;
const IN_INTERNAL_SUBSET = /["'\]]|<!--|<\?/g;
const LINE_END = /\r\n?/g;
const REFERENCE = /&[^;&<\s]*;?/g;
// A reference the next chunk may finish; any other `&` at the end of a chunk is already wrong.
const UNFINISHED_REFERENCE = /&[^;&<\s]*$/y;
// §3.3.3: in attribute values, every white space character also becomes a space; line ends
// are normalized in the same pass as references are replaced, so that a `&#13;` stays a CR.
const ATTRIBUTE_SPECIALS = /\r\n?|[\t\n]|&[^;&<\s]*;?/g;
const DECIMAL = /^#[0-9]+$/;
const HEXADECIMAL = /^#x[0-9A-Fa-f]+$/;
const PREDEFINED: ReadonlyMap<string, string> = new Map([
  ['lt', '<'],
  ['gt', '>'],
  ['amp', '&'],
  ['apos', "'"],
  ['quot', '"'],
]);
const IS_NAME = new RegExp(`^${NAME}$`, 'u');

/** Shared by every element without plain attributes (most of them): never written to. */
const NO_ATTRIBUTES: ReadonlyMap<string, string> = new Map();

/** An attribute as written: qualified name, normalized value, offset in the buffer. */
type RawAttribute = readonly [name: string, value: string, at: number];
const NO_RAW_ATTRIBUTES: readonly RawAttribute[] = [];

/** The namespace bindings of an element that declares some, and of its descendants. */
interface Scope {
  /** The number of open elements once the declaring element is open. */
  readonly depth: number;
  readonly bindings: ReadonlyMap<string, string>;
  /** Element names resolved with these bindings, by qualified name: a document uses a handful. */
  readonly names: Map<string, XmlName>;
}
const MAX_REMEMBERED_NAMES = 256;

/**
 * Reads one document, given in chunks that may split it anywhere, and reports it to a sink.
 * Throws {@link XmlSyntaxError} from `write` or `close`; after that it is not used again.
 */
export class XmlReader {
  #buffer = '';
  /** The next character to read in the buffer. */
  #pos = 0;
  /** The document offset of the buffer's first character. */
  #offset = 0;
  /** Until the first character is seen: a byte order mark may come. */
  #atStart = true;
  /** The document offset of the first character after a byte order mark. */
  #documentStart = 0;
  /** Qualified names of the open elements. */
  readonly #open: string[] = [];
  readonly #scopes: Scope[] = [{ depth: 0, bindings: new Map([['xml', XML_NS]]), names: new Map() }];
  #sawRoot = false;
  #sawDoctype = false;
  #inCdata = false;
  /** Where the scan for the end of the construct at `#pos` resumes, or -1. */
  #scan = -1;
  /** What ends the quote or comment the resumed scan is inside of, or ''. */
  #scanUntil = '';
  /** Whether the resumed scan of a DOCTYPE is inside its internal subset. */
  #scanInSubset = false;
  /** A chunk's last character when it is the first half of a surrogate pair: the check waits for the second. */
  #highSurrogate = '';

  constructor(private readonly sink: XmlSink) {}

  write(chunk: string): void {
    let text = this.#highSurrogate + chunk;
    this.#highSurrogate = '';
    if (isHighSurrogate(text.charCodeAt(text.length - 1))) {
      this.#highSurrogate = text.slice(-1);
      text = text.slice(0, -1);
    }
    const disallowed = DISALLOWED.exec(text);
    if (disallowed !== null) {
      throw this.#error('a character XML does not allow', this.#buffer.length + disallowed.index);
    }
    if (this.#pos > 0) {
      this.#buffer = this.#buffer.slice(this.#pos);
      this.#offset += this.#pos;
      if (this.#scan !== -1) this.#scan -= this.#pos;
      this.#pos = 0;
    }
    this.#buffer += text;
    this.#read(false);
  }

  close(): void {
    if (this.#highSurrogate !== '') {
      throw this.#error('a character XML does not allow', this.#buffer.length);
    }
    this.#read(true);
    if (this.#inCdata) throw this.#error('the document ends inside a CDATA section', this.#pos);
    if (this.#pos < this.#buffer.length) throw this.#error('the document ends inside markup', this.#pos);
    if (!this.#sawRoot) throw this.#error('the document has no root element', this.#pos);
    const unclosed = this.#open[this.#open.length - 1];
    if (unclosed !== undefined) throw this.#error(`<${unclosed}> is not closed`, this.#pos);
  }

  #read(final: boolean): void {
    if (this.#atStart) {
      if (this.#buffer.length === 0) return;
      if (this.#buffer.charCodeAt(0) === 0xfeff) this.#pos = this.#documentStart = 1;
      this.#atStart = false;
    }
    while (this.#pos < this.#buffer.length) {
      let progressed: boolean;
      if (this.#inCdata) progressed = this.#cdata();
      else if (this.#buffer.charCodeAt(this.#pos) === 0x3c) progressed = this.#markup();
      else progressed = this.#text(final);
      if (!progressed) return;
    }
  }

  /** Moves past a complete construct. */
  #advance(to: number): true {
    this.#pos = to;
    this.#scan = -1;
    this.#scanUntil = '';
    this.#scanInSubset = false;
    return true;
  }

  #error(message: string, at: number): XmlSyntaxError {
    return new XmlSyntaxError(`${message} at offset ${this.#offset + at}`);
  }

  #text(final: boolean): boolean {
    const buffer = this.#buffer;
    const start = this.#pos;
    const lt = buffer.indexOf('<', start);
    let end = lt === -1 ? buffer.length : lt;
    if (this.#open.length === 0) {
      SPACES.lastIndex = start;
      SPACES.test(buffer);
      if (SPACES.lastIndex < end) throw this.#error('text outside the root element', SPACES.lastIndex);
      return this.#advance(end);
    }
    if (lt === -1 && !final) end = textCut(buffer, start, end);
    if (end === start) return false;
    const raw = buffer.slice(start, end);
    const bad = raw.indexOf(']]>');
    if (bad !== -1) throw this.#error("']]>' in text", start + bad);
    this.sink.text(this.#decodeText(raw, start));
    return this.#advance(end);
  }

  #cdata(): boolean {
    const buffer = this.#buffer;
    const start = this.#pos;
    const close = buffer.indexOf(']]>', start);
    if (close !== -1) {
      if (close > start) this.sink.text(normalizeLineEnds(buffer.slice(start, close)));
      this.#inCdata = false;
      return this.#advance(close + 3);
    }
    const end = buffer.length - heldTail(buffer, start, buffer.length);
    if (end <= start) return false;
    this.sink.text(normalizeLineEnds(buffer.slice(start, end)));
    return this.#advance(end);
  }

  #markup(): boolean {
    const buffer = this.#buffer;
    const next = buffer.charCodeAt(this.#pos + 1);
    if (Number.isNaN(next)) return false;
    if (next === 0x2f) return this.#endTag();
    if (next === 0x3f) return this.#instruction();
    if (next !== 0x21) return this.#startTag();
    const comment = this.#lookingAt('<!--');
    if (comment) return this.#comment();
    const cdata = this.#lookingAt('<![CDATA[');
    if (cdata) {
      if (this.#open.length === 0) throw this.#error('CDATA outside the root element', this.#pos);
      this.#inCdata = true;
      return this.#advance(this.#pos + 9);
    }
    const doctype = this.#lookingAt('<!DOCTYPE');
    if (doctype) return this.#doctype();
    if (comment === undefined || cdata === undefined || doctype === undefined) return false;
    throw this.#error("'<!' starts no comment, CDATA section or DOCTYPE", this.#pos);
  }

  /** Whether the buffer holds `text` at the current position; undefined until it can tell. */
  #lookingAt(text: string): boolean | undefined {
    const have = this.#buffer.length - this.#pos;
    if (have >= text.length) return this.#buffer.startsWith(text, this.#pos);
    return text.startsWith(this.#buffer.slice(this.#pos)) ? undefined : false;
  }

  #startTag(): boolean {
    const end = this.#startTagEnd();
    if (end === -1) return false;
    const buffer = this.#buffer;
    const start = this.#pos;
    TAG_NAME.lastIndex = start + 1;
    if (!TAG_NAME.test(buffer)) throw this.#error("'<' starts no tag", start);
    const name = buffer.slice(start + 1, TAG_NAME.lastIndex);
    const selfClosing = buffer.charCodeAt(end - 1) === 0x2f;
    // Most tags have no attributes: their name runs up to the end.
    const attributes =
      TAG_NAME.lastIndex === (selfClosing ? end - 1 : end)
        ? NO_RAW_ATTRIBUTES
        : this.#attributes(name, TAG_NAME.lastIndex, end);
    if (this.#open.length === 0 && this.#sawRoot) throw this.#error('a second root element', start);
    this.#sawRoot = true;
    this.#openElement(name, attributes, start);
    if (selfClosing) this.#closeElement();
    return this.#advance(end + 1);
  }

  /** The attributes of the start tag `name`, from `at` to the `>` at `end`. */
  #attributes(name: string, at: number, end: number): RawAttribute[] {
    const buffer = this.#buffer;
    const attributes: RawAttribute[] = [];
    let next = at;
    for (;;) {
      ATTRIBUTE.lastIndex = next;
      const attribute = ATTRIBUTE.exec(buffer);
      if (attribute === null) break;
      const value = attribute[2] ?? attribute[3] ?? '';
      const valueAt = ATTRIBUTE.lastIndex - 1 - value.length;
      attributes.push([attribute[1]!, this.#decodeAttribute(value, valueAt), next]);
      next = ATTRIBUTE.lastIndex;
    }
    TAG_END.lastIndex = next;
    if (!TAG_END.test(buffer) || TAG_END.lastIndex !== end + 1) {
      throw this.#error(`malformed attributes in <${name}>`, next);
    }
    return attributes;
  }

  /** The `>` that ends the start tag at the current position, or -1 while it has not come. */
  #startTagEnd(): number {
    const buffer = this.#buffer;
    let at = this.#scan === -1 ? this.#pos + 1 : this.#scan;
    let quote = this.#scanUntil;
    for (;;) {
      const delimiters = quote === '' ? IN_TAG : quote === '"' ? IN_DOUBLE_QUOTES : IN_SINGLE_QUOTES;
      delimiters.lastIndex = at;
      if (!delimiters.test(buffer)) {
        this.#scan = buffer.length;
        this.#scanUntil = quote;
        return -1;
      }
      const found = delimiters.lastIndex - 1;
      const c = buffer[found]!;
      if (c === '<')
        throw this.#error(quote === '' ? "'<' inside a tag" : "'<' in an attribute value", found);
      if (c === '>') return found;
      quote = quote === '' ? c : '';
      at = found + 1;
    }
  }

  #openElement(qname: string, attributes: readonly RawAttribute[], at: number): void {
    const parent = this.#scopes[this.#scopes.length - 1]!;
    let scope = parent;
    let plain: Map<string, string> | undefined;
    let prefixed: [prefix: string, local: string, at: number][] | undefined;
    for (const [name, value, attributeAt] of attributes) {
      const [prefix, local] = this.#split(name, attributeAt);
      if (name === 'xmlns' || prefix === 'xmlns') {
        const declared = prefix === '' ? '' : local;
        if (scope === parent) {
          scope = { depth: this.#open.length + 1, bindings: new Map(parent.bindings), names: new Map() };
        }
        (scope.bindings as Map<string, string>).set(
          declared,
          this.#checkBinding(declared, value, attributeAt),
        );
      } else if (prefix === '') {
        plain ??= new Map();
        plain.set(name, value);
      } else {
        prefixed ??= [];
        prefixed.push([prefix, local, attributeAt]);
      }
    }
    if (attributes.length > 1) this.#checkDistinct(attributes);
    if (prefixed !== undefined) this.#checkPrefixed(prefixed, scope.bindings);
    const name = scope.names.get(qname) ?? this.#resolve(qname, scope, at);
    this.#open.push(qname);
    if (scope !== parent) this.#scopes.push(scope);
    this.sink.open(name, plain ?? NO_ATTRIBUTES);
  }

  /** The element name `qname` means in `scope`, remembered there. */
  #resolve(qname: string, scope: Scope, at: number): XmlName {
    const [prefix, local] = this.#split(qname, at);
    if (prefix === 'xmlns') throw this.#error(`the element <${qname}> has the prefix xmlns`, at);
    const ns = prefix === '' ? (scope.bindings.get('') ?? '') : scope.bindings.get(prefix);
    if (ns === undefined) throw this.#error(`unbound prefix ${prefix} in <${qname}>`, at);
    const name = { ns, local };
    if (scope.names.size < MAX_REMEMBERED_NAMES) scope.names.set(qname, name);
    return name;
  }

  #checkDistinct(attributes: readonly RawAttribute[]): void {
    const names = new Set<string>();
    for (const [name, , at] of attributes) {
      if (names.has(name)) throw this.#error(`duplicate attribute ${name}`, at);
      names.add(name);
    }
  }

  /** Prefixed attributes are not reported, but their prefixes must be bound and their names distinct. */
  #checkPrefixed(prefixed: readonly [string, string, number][], bindings: ReadonlyMap<string, string>): void {
    const names = new Set<string>();
    for (const [prefix, local, at] of prefixed) {
      const ns = bindings.get(prefix);
      if (ns === undefined) throw this.#error(`unbound prefix ${prefix} in an attribute`, at);
      const name = `{${ns}}${local}`;
      if (names.has(name)) throw this.#error(`duplicate attribute ${name}`, at);
      names.add(name);
    }
  }

  /** The namespace a declaration binds, once the Namespaces in XML rules allow it. */
  #checkBinding(prefix: string, uri: string, at: number): string {
    const allowed =
      prefix === 'xml'
        ? uri === XML_NS
        : prefix !== 'xmlns' && uri !== XML_NS && uri !== XMLNS_NS && (uri !== '' || prefix === '');
    if (!allowed) throw this.#error(`xmlns${prefix === '' ? '' : `:${prefix}`}="${uri}" is not allowed`, at);
    return uri;
  }

  /** Prefix and local part of a qualified name (the prefix is '' without a colon). */
  #split(name: string, at: number): [prefix: string, local: string] {
    const colon = name.indexOf(':');
    if (colon === -1) return ['', name];
    const prefix = name.slice(0, colon);
    const local = name.slice(colon + 1);
    if (prefix === '' || local === '' || local.includes(':')) throw this.#error(`malformed name ${name}`, at);
    return [prefix, local];
  }

  #closeElement(): void {
    const depth = this.#open.length;
    this.#open.pop();
    if (this.#scopes[this.#scopes.length - 1]!.depth === depth) this.#scopes.pop();
    this.sink.close();
  }

  #endTag(): boolean {
    const buffer = this.#buffer;
    const start = this.#pos;
    const open = this.#open[this.#open.length - 1];
    // Most end tags are exactly `</` name `>`.
    if (
      open !== undefined &&
      buffer.charCodeAt(start + 2 + open.length) === 0x3e &&
      buffer.startsWith(open, start + 2)
    ) {
      this.#closeElement();
      return this.#advance(start + 3 + open.length);
    }
    const end = this.#find('>', start + 2);
    if (end === -1) return false;
    END_TAG.lastIndex = start;
    const name = END_TAG.exec(buffer)?.[1];
    if (name === undefined || END_TAG.lastIndex !== end + 1) throw this.#error('malformed end tag', start);
    if (open !== name) {
      throw this.#error(
        open === undefined ? `</${name}> closes nothing` : `</${name}> closes <${open}>`,
        start,
      );
    }
    this.#closeElement();
    return this.#advance(end + 1);
  }

  #comment(): boolean {
    const dashes = this.#find('--', this.#pos + 4);
    if (dashes === -1) return false;
    if (dashes + 2 >= this.#buffer.length) {
      this.#scan = dashes;
      return false;
    }
    if (this.#buffer.charCodeAt(dashes + 2) !== 0x3e) throw this.#error("'--' inside a comment", dashes);
    return this.#advance(dashes + 3);
  }

  #instruction(): boolean {
    const end = this.#find('?>', this.#pos + 2);
    if (end === -1) return false;
    const buffer = this.#buffer;
    const start = this.#pos;
    INSTRUCTION.lastIndex = start;
    const target = INSTRUCTION.exec(buffer)?.[1];
    if (target === undefined) throw this.#error('a processing instruction without a target', start);
    if (target.toLowerCase() === 'xml') {
      XML_DECLARATION.lastIndex = start;
      const declaration =
        target === 'xml' && this.#offset + start === this.#documentStart && XML_DECLARATION.test(buffer);
      if (!declaration || XML_DECLARATION.lastIndex !== end + 2) {
        throw this.#error('a malformed or misplaced XML declaration', start);
      }
    }
    return this.#advance(end + 2);
  }

  #doctype(): boolean {
    if (this.#sawRoot || this.#sawDoctype) throw this.#error('a misplaced DOCTYPE', this.#pos);
    const buffer = this.#buffer;
    let at = this.#scan === -1 ? this.#pos + 9 : this.#scan;
    let until = this.#scanUntil;
    let inSubset = this.#scanInSubset;
    for (;;) {
      if (until !== '') {
        const found = buffer.indexOf(until, at);
        if (found === -1) {
          at = Math.max(at, buffer.length - until.length + 1);
          break;
        }
        at = found + until.length;
        until = '';
        continue;
      }
      const delimiters = inSubset ? IN_INTERNAL_SUBSET : IN_DOCTYPE;
      delimiters.lastIndex = at;
      const found = delimiters.exec(buffer);
      if (found === null) {
        // `<!--` may be split by the end of the buffer.
        at = Math.max(at, inSubset ? buffer.length - 3 : buffer.length);
        break;
      }
      at = found.index + found[0].length;
      const token = found[0];
      if (token === '>') {
        this.#sawDoctype = true;
        return this.#advance(at);
      }
      if (token === '[' || token === ']') inSubset = token === '[';
      else until = token === '<!--' ? '-->' : token === '<?' ? '?>' : token;
    }
    this.#scan = at;
    this.#scanUntil = until;
    this.#scanInSubset = inSubset;
    return false;
  }

  /** Where `text` next occurs at or after `from`, resuming an earlier search; -1 while it has not come. */
  #find(text: string, from: number): number {
    const found = this.#buffer.indexOf(text, this.#scan === -1 ? from : this.#scan);
    if (found === -1) this.#scan = Math.max(from, this.#buffer.length - text.length + 1);
    return found;
  }

  /** Character data with its line ends normalized and its references replaced. */
  #decodeText(raw: string, at: number): string {
    // Line ends are normalized before references are replaced, so that a `&#13;` stays a CR.
    let text = normalizeLineEnds(raw);
    if (!text.includes('&')) return text;
    // Sabre/dav servers (Nextcloud, Baïkal) write the CR of every line of a vCard or iCalendar
    // object as a reference: replacing those natively saves a callback per line.
    text = text.replaceAll('&#13;', '\r');
    if (!text.includes('&')) return text;
    return text.replace(REFERENCE, (reference) => referenceValue(reference) ?? this.#badReference(raw, at));
  }

  /** An attribute value normalized as XML 1.0 §3.3.3 says, for an attribute of type CDATA. */
  #decodeAttribute(raw: string, at: number): string {
    return raw.replace(ATTRIBUTE_SPECIALS, (special) =>
      special.charCodeAt(0) !== 0x26 ? ' ' : (referenceValue(special) ?? this.#badReference(raw, at)),
    );
  }

  /** The error for the first reference in `raw` without a value, with its offset. */
  #badReference(raw: string, at: number): never {
    const bad = [...raw.matchAll(REFERENCE)].find((match) => referenceValue(match[0]) === undefined)!;
    throw this.#error(referenceProblem(bad[0]), at + bad.index);
  }
}

/** The character a reference stands for, or undefined if it is malformed or undefined. */
function referenceValue(reference: string): string | undefined {
  if (reference.length < 3 || !reference.endsWith(';')) return undefined;
  const name = reference.slice(1, -1);
  if (name.charCodeAt(0) !== 0x23) return PREDEFINED.get(name);
  const code = DECIMAL.test(name)
    ? Number.parseInt(name.slice(1), 10)
    : HEXADECIMAL.test(name)
      ? Number.parseInt(name.slice(2), 16)
      : Number.NaN;
  return isXmlChar(code) ? String.fromCodePoint(code) : undefined;
}

function referenceProblem(reference: string): string {
  if (reference.length < 3 || !reference.endsWith(';')) return "an unescaped '&'";
  if (reference.charCodeAt(1) === 0x23) return `${reference} is not a character XML allows`;
  return `${IS_NAME.test(reference.slice(1, -1)) ? 'undefined entity' : 'malformed reference'} ${reference}`;
}

/** CRLF and a lone CR read as LF (XML 1.0 §2.11). */
function normalizeLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(LINE_END, '\n') : text;
}

/**
 * Where to cut text that the next chunk may continue, so that the cut splits nothing: before
 * an unfinished reference, before a CR (the next chunk may start with LF), before one or two
 * `]` (it may start with the rest of a `]]>`, which text may not hold).
 */
function textCut(buffer: string, start: number, end: number): number {
  const ampersand = buffer.lastIndexOf('&', end - 1);
  if (ampersand >= start) {
    UNFINISHED_REFERENCE.lastIndex = ampersand;
    if (UNFINISHED_REFERENCE.test(buffer)) return ampersand;
  }
  return end - heldTail(buffer, start, end);
}

/** How many characters at the end of `buffer[start, end)` may be the start of a CRLF or `]]>`. */
function heldTail(buffer: string, start: number, end: number): number {
  const last = buffer.charCodeAt(end - 1);
  if (last === 0x0d) return 1;
  if (last !== 0x5d) return 0;
  return end - 2 >= start && buffer.charCodeAt(end - 2) === 0x5d ? 2 : 1;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** XML 1.0 §2.2 Char, for character references. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}
