/**
 * A small, namespace-aware element tree over {@link XmlReader}, for the parts of DAV answers
 * that are read as a whole: one `DAV:response` of a multistatus, a `DAV:error` body. Names are
 * kept as (namespace URI, local name) pairs, never as prefixes: servers pick prefixes freely
 * (Radicale `CR:`, Xandikos `ns0:`), so only the URI identifies an element (RFC 4918 §8.1).
 */
import { type XmlName, XmlReader, type XmlSink, XmlSyntaxError } from './xml-reader.js';

export type { XmlName } from './xml-reader.js';

/** The WebDAV namespace (RFC 4918). */
export const DAV_NS = 'DAV:';
/** The CalDAV namespace (RFC 4791). */
export const CALDAV_NS = 'urn:ietf:params:xml:ns:caldav';
/** The CardDAV namespace (RFC 6352). */
export const CARDDAV_NS = 'urn:ietf:params:xml:ns:carddav';
/** Apple's CalendarServer namespace, home of `getctag`. */
export const CALENDARSERVER_NS = 'http://calendarserver.org/ns/';

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
  attributes: ReadonlyMap<string, string>;
  children: MutableElement[];
  text: string;
}

/**
 * Builds trees from a reader's events. `open` is asked for every element with the names of its
 * open ancestors; elements it returns true for become the roots of trees handed to `done`.
 * Text outside such trees is dropped, so a long document costs the memory of one tree.
 */
export class TreeBuilder implements XmlSink {
  readonly #stack: MutableElement[] = [];
  readonly #path: XmlName[] = [];
  readonly #wanted: (name: XmlName, ancestors: readonly XmlName[]) => boolean;
  readonly #done: (element: XmlElement, ancestors: readonly XmlName[]) => void;
  readonly #finish: (element: XmlName, text: string) => string;

  constructor(
    open: (name: XmlName, ancestors: readonly XmlName[]) => boolean,
    done: (element: XmlElement, ancestors: readonly XmlName[]) => void,
    /** Rewrites the text of an element as it closes (DAV:href normalization). */
    finish: (element: XmlName, text: string) => string = (_, text) => text,
  ) {
    this.#wanted = open;
    this.#done = done;
    this.#finish = finish;
  }

  open(name: XmlName, attributes: ReadonlyMap<string, string>): void {
    const parent = this.#stack.length > 0 ? this.#stack[this.#stack.length - 1] : undefined;
    if (parent !== undefined || this.#wanted(name, this.#path)) {
      const element: MutableElement = { ns: name.ns, local: name.local, attributes, children: [], text: '' };
      parent?.children.push(element);
      this.#stack.push(element);
    }
    this.#path.push(name);
  }

  close(): void {
    const name = this.#path.pop();
    if (this.#stack.length === 0 || name === undefined) return;
    const element = this.#stack.pop() as MutableElement;
    element.text = this.#finish(element, element.text);
    if (this.#stack.length === 0) this.#done(element, this.#path);
  }

  text(text: string): void {
    if (this.#stack.length > 0) this.#stack[this.#stack.length - 1]!.text += text;
  }
}

/**
 * Parses a complete, small XML document (an error body, an MKCOL answer) into its root
 * element. Throws {@link XmlSyntaxError} on malformed XML; the caller names the server and URL.
 */
export function parseXmlDocument(text: string): XmlElement {
  let root: XmlElement | undefined;
  const reader = new XmlReader(
    new TreeBuilder(
      () => true,
      (element) => {
        root = element;
      },
    ),
  );
  reader.write(text);
  reader.close();
  if (root === undefined) throw new XmlSyntaxError('the document has no root element');
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
