/**
 * A small, namespace-aware element tree over saxes, for the parts of DAV answers that are
 * read as a whole: one `DAV:response` of a multistatus, a `DAV:error` body. Names are kept as
 * (namespace URI, local name) pairs, never as prefixes: servers pick prefixes freely
 * (Radicale `CR:`, Xandikos `ns0:`), so only the URI identifies an element (RFC 4918 §8.1).
 */
import { SaxesParser, type SaxesTagNS } from 'saxes';

/** The WebDAV namespace (RFC 4918). */
export const DAV_NS = 'DAV:';
/** The CalDAV namespace (RFC 4791). */
export const CALDAV_NS = 'urn:ietf:params:xml:ns:caldav';
/** The CardDAV namespace (RFC 6352). */
export const CARDDAV_NS = 'urn:ietf:params:xml:ns:carddav';
/** Apple's CalendarServer namespace, home of `getctag`. */
export const CALENDARSERVER_NS = 'http://calendarserver.org/ns/';

/** An XML name: namespace URI and local name. */
export interface XmlName {
  readonly ns: string;
  readonly local: string;
}

/** One element: its name, attributes without a namespace, direct text and child elements. */
export interface XmlElement extends XmlName {
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** The element's own text, its children's excluded. */
  readonly text: string;
}

/** Clark notation `{ns}local`: one string per XML name, for maps and comparisons. */
export function clark(name: XmlName): string {
  return `{${name.ns}}${name.local}`;
}

/** Whether `element` has the namespace and local name of `name`. */
export function isNamed(element: XmlName, name: XmlName): boolean {
  return element.local === name.local && element.ns === name.ns;
}

/** The first child called `name`, if any. */
export function childNamed(element: XmlElement, name: XmlName): XmlElement | undefined {
  return element.children.find((c) => isNamed(c, name));
}

/** Every child called `name`. */
export function childrenNamed(element: XmlElement, name: XmlName): XmlElement[] {
  return element.children.filter((c) => isNamed(c, name));
}

interface MutableElement extends XmlName {
  attributes: Map<string, string>;
  children: MutableElement[];
  text: string;
}

/**
 * Builds trees from saxes events. `open` is asked for every element with the names of its
 * open ancestors; elements it returns true for become the roots of trees handed to `done`.
 * Text outside such trees is dropped, so a long document costs the memory of one tree.
 */
export class TreeBuilder {
  readonly #stack: MutableElement[] = [];
  readonly #path: XmlName[] = [];

  constructor(
    private readonly open: (name: XmlName, ancestors: readonly XmlName[]) => boolean,
    private readonly done: (element: XmlElement, ancestors: readonly XmlName[]) => void,
    /** Rewrites the text of an element as it closes (DAV:href normalization). */
    private readonly finish: (element: XmlName, text: string) => string = (_, text) => text,
  ) {}

  attach(parser: SaxesParser<{ xmlns: true }>): void {
    parser.on('opentag', (tag) => this.#onOpen(tag));
    parser.on('closetag', () => this.#onClose());
    parser.on('text', (text) => this.#onText(text));
    parser.on('cdata', (text) => this.#onText(text));
  }

  #onOpen(tag: SaxesTagNS): void {
    const name: XmlName = { ns: tag.uri, local: tag.local };
    const parent = this.#stack.length > 0 ? this.#stack[this.#stack.length - 1] : undefined;
    if (parent !== undefined || this.open(name, this.#path)) {
      const element: MutableElement = {
        ns: tag.uri,
        local: tag.local,
        attributes: attributesOf(tag),
        children: [],
        text: '',
      };
      parent?.children.push(element);
      this.#stack.push(element);
    }
    this.#path.push(name);
  }

  #onClose(): void {
    const name = this.#path.pop();
    if (this.#stack.length === 0 || name === undefined) return;
    const element = this.#stack.pop() as MutableElement;
    element.text = this.finish(element, element.text);
    if (this.#stack.length === 0) this.done(element, this.#path);
  }

  #onText(text: string): void {
    if (this.#stack.length > 0) this.#stack[this.#stack.length - 1]!.text += text;
  }
}

/** Shared by every element without attributes (most of them): never written to. */
const NO_ATTRIBUTES = new Map<string, string>();

/** The attributes without a namespace. */
function attributesOf(tag: SaxesTagNS): Map<string, string> {
  let attributes = NO_ATTRIBUTES;
  for (const key in tag.attributes) {
    const attribute = tag.attributes[key]!;
    if (attribute.uri !== '' || attribute.prefix !== '') continue;
    if (attributes === NO_ATTRIBUTES) attributes = new Map();
    attributes.set(attribute.local, attribute.value);
  }
  return attributes;
}

/**
 * Parses a complete, small XML document (an error body, an MKCOL answer) into its root
 * element. Throws saxes's `Error` on malformed XML; the caller names the server and URL.
 */
export function parseXmlDocument(text: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true });
  let root: XmlElement | undefined;
  new TreeBuilder(
    () => true,
    (element) => {
      root = element;
    },
  ).attach(parser);
  parser.write(text).close();
  if (root === undefined) throw new Error('the document has no root element');
  return root;
}

const ESCAPES: Readonly<Record<string, string>> = {
  '<': '&lt;',
  '>': '&gt;',
  '&': '&amp;',
  '"': '&quot;',
  // XML 1.0 §2.11: a parser turns CRLF into LF; a character reference keeps the CR.
  '\r': '&#13;',
};

/** Escapes text for an XML element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"\r]/g, (c) => ESCAPES[c] ?? c);
}
