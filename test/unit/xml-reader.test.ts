import fc from 'fast-check';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { parseXmlDocument, TreeBuilder, type XmlElement } from '../../src/mailbox/dav/xml-element.js';
import { type XmlName, XmlReader, type XmlSink, XmlSyntaxError } from '../../src/mailbox/dav/xml-reader.js';

type XmlEvent = ['open', string, string, [string, string][]] | ['close'] | ['text', string];

/** Collects a document's events, adjacent text merged, text outside the root dropped. */
class Events implements XmlSink {
  readonly list: XmlEvent[] = [];
  #depth = 0;

  open(name: XmlName, attributes: ReadonlyMap<string, string>): void {
    this.#depth += 1;
    this.list.push(['open', name.ns, name.local, [...attributes].sort(([a], [b]) => (a < b ? -1 : 1))]);
  }

  close(): void {
    this.#depth -= 1;
    this.list.push(['close']);
  }

  text(text: string): void {
    if (this.#depth === 0 || text === '') return;
    const last = this.list[this.list.length - 1];
    if (last?.[0] === 'text') last[1] += text;
    else this.list.push(['text', text]);
  }
}

/** The events saxes reports for the whole text, or its error. */
function saxesEvents(xml: string): XmlEvent[] | Error {
  const events = new Events();
  const parser = new SaxesParser({ xmlns: true });
  parser.on('opentag', (tag) => {
    const attributes = new Map<string, string>();
    for (const attribute of Object.values(tag.attributes)) {
      if (attribute.uri === '' && attribute.prefix === '') attributes.set(attribute.local, attribute.value);
    }
    events.open({ ns: tag.uri, local: tag.local }, attributes);
  });
  parser.on('closetag', () => events.close());
  parser.on('text', (text) => events.text(text));
  parser.on('cdata', (text) => events.text(text));
  try {
    parser.write(xml).close();
    return events.list;
  } catch (e) {
    return e as Error;
  }
}

/** The events the reader reports for the text written in `chunks`, or its syntax error. */
function readerEvents(chunks: readonly string[]): XmlEvent[] | XmlSyntaxError {
  const events = new Events();
  const reader = new XmlReader(events);
  try {
    for (const chunk of chunks) reader.write(chunk);
    reader.close();
    return events.list;
  } catch (e) {
    if (e instanceof XmlSyntaxError) return e;
    throw e;
  }
}

/** `text` cut at `cuts` (positions taken modulo its length), or into single characters. */
function chunked(text: string, cuts: readonly number[] | 'each'): string[] {
  if (cuts === 'each') return [...text.split(''), ''];
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  return [0, ...at].map((start, i) => text.slice(start, at[i] ?? text.length));
}

const chunking = fc.oneof(
  fc.array(fc.nat({ max: 100_000 }), { maxLength: 16 }),
  fc.constant('each' as const),
);

// Documents: a tree with prefixes from a small pool, declared where the generator chose or, when
// a name needs one that is not in scope, on the element that uses it.
const PREFIXES = ['', 'd', 'C', 'é', 'ns0'] as const;
const URIS = [
  'DAV:',
  'urn:ietf:params:xml:ns:carddav',
  'urn:x:é',
  'urn:a&b<c',
  'http://calendarserver.org/ns/',
];
const LOCALS = ['multistatus', 'href', 'address-data', 'é', 'x.y', '日本', '_z', 'a-b'];

const TEXT_PIECES = fc.oneof(
  fc.constantFrom('a', ' ', 'BEGIN:VCARD', 'é', '日本', '😀', '\n', '\r\n', '\r', '\t', '>', '"', "'", ']'),
  fc.constantFrom('\u00A0', '\uFEFF', '\u2028', '\u0085'),
  fc.constantFrom(
    '&lt;',
    '&gt;',
    '&amp;',
    '&apos;',
    '&quot;',
    '&#13;',
    '&#xD;',
    '&#10;',
    '&#9;',
    '&#x1F600;',
  ),
  fc
    .oneof(
      fc.integer({ min: 0x20, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0xfffd }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    )
    .chain((code) =>
      fc.constantFrom(`&#${code};`, `&#x${code.toString(16)};`, `&#x${code.toString(16).toUpperCase()};`),
    ),
);
const text = fc.array(TEXT_PIECES, { maxLength: 12 }).map((pieces) => pieces.join(''));
const attributeValue = fc
  .tuple(fc.array(TEXT_PIECES, { maxLength: 6 }), fc.constantFrom('"', "'"))
  .map(([pieces, quote]) => {
    const value = pieces.map((p) => (p === quote ? (quote === '"' ? '&quot;' : '&apos;') : p)).join('');
    return `${quote}${value}${quote}`;
  });
const cdata = fc
  .array(fc.constantFrom('a', ']', ']]', '>', '<', '&amp;', '\r\n', '\r', '\n', 'é', '😀', '<![CDATA['), {
    maxLength: 10,
  })
  .map((pieces) => `<![CDATA[${pieces.join('').replace(/]]>/g, ']] >')}]]>`);
const comment = fc
  .array(fc.constantFrom('a', ' ', '-', '<', '>', '&', 'é', '\r\n'), { maxLength: 10 })
  .map((pieces) => {
    const body = pieces.join('').replace(/-+/g, '-');
    return `<!--${body.endsWith('-') ? `${body}x` : body}-->`;
  });
const instruction = fc
  .tuple(
    fc.constantFrom('pi', 'x-y', 'é', 'xml-stylesheet'),
    fc.array(fc.constantFrom('a', ' ', '?', '>', '<', '&', '\r'), { maxLength: 8 }),
  )
  .map(
    ([target, body]) => `<?${target}${body.length === 0 ? '' : ` ${body.join('').replace(/\?>/g, '? >')}`}?>`,
  );
const space = fc.constantFrom(' ', '\n', '\r\n', '\t', '\r');
const misc = fc.array(fc.oneof(space, comment, instruction), { maxLength: 3 }).map((m) => m.join(''));

interface Element {
  readonly prefix: string;
  readonly local: string;
  readonly declarations: readonly [string, string][];
  readonly defaultNs: string | undefined;
  readonly attributes: readonly { prefix: string; local: string; value: string }[];
  readonly children: readonly Node[];
}
type Node = Element | { readonly markup: string } | { readonly text: string };

const { element } = fc.letrec<{ element: Element; node: Node }>((tie) => ({
  element: fc.record({
    prefix: fc.constantFrom(...PREFIXES),
    local: fc.constantFrom(...LOCALS),
    declarations: fc.array(fc.tuple(fc.constantFrom(...PREFIXES.slice(1)), fc.constantFrom(...URIS)), {
      maxLength: 2,
    }),
    defaultNs: fc.option(fc.constantFrom('', ...URIS), { nil: undefined }),
    attributes: fc.array(
      fc.record({
        prefix: fc.constantFrom(...PREFIXES),
        local: fc.constantFrom('x', 'href', 'é', 'a-b'),
        value: attributeValue,
      }),
      { maxLength: 3 },
    ),
    children: fc.array(tie('node'), { maxLength: 5 }),
  }),
  node: fc.oneof(
    { depthSize: 'medium', maxDepth: 6 },
    { arbitrary: text.map((t) => ({ text: t })), weight: 2 },
    { arbitrary: fc.oneof(cdata, comment, instruction).map((markup) => ({ markup })), weight: 1 },
    { arbitrary: tie('element'), weight: 3 },
  ),
}));

const DOCTYPES = [
  '<!DOCTYPE multistatus>',
  '<!DOCTYPE html PUBLIC "-//x//y>" \'http://x/y>z\'>',
  '<!DOCTYPE d [\n<!ENTITY e "a]>b">\n<!-- ] > \' " -->\n<?pi ]> " ?>\n<!ELEMENT d ANY>\n<!ATTLIST d x CDATA \'>\'>\n]>',
];

const document = fc.record({
  bom: fc.boolean(),
  declaration: fc.constantFrom(
    '',
    '<?xml version="1.0"?>',
    "<?xml version='1.0' encoding=\"UTF-8\" standalone='yes'?>",
    '<?xml version="1.0"\r\nencoding="utf-8" ?>',
  ),
  before: misc,
  doctype: fc.option(fc.constantFrom(...DOCTYPES), { nil: '' }),
  between: misc,
  root: element,
  after: misc,
});
type Document = typeof document extends fc.Arbitrary<infer D> ? D : never;

type Corruption =
  | 'drop end tag'
  | 'mismatch end tag'
  | 'unbound prefix'
  | '< in attribute value'
  | 'undefined entity'
  | 'control character'
  | 'text after root'
  | 'second root'
  | 'truncate';

const ELEMENT_CORRUPTIONS: readonly Corruption[] = [
  'drop end tag',
  'mismatch end tag',
  'unbound prefix',
  '< in attribute value',
  'undefined entity',
  'control character',
];

/** The document's text, with `corruption` applied to its `site`-th element or to the whole. */
function serialize(doc: Document, corruption?: { kind: Corruption; site: number }): string {
  const sites = { seen: 0, chosen: -1 };
  if (corruption !== undefined && ELEMENT_CORRUPTIONS.includes(corruption.kind)) {
    const count = { seen: 0, chosen: -1 };
    serializeElement(doc.root, new Map(), count, undefined);
    sites.chosen = corruption.site % count.seen;
  }
  const root = serializeElement(doc.root, new Map(), sites, corruption?.kind);
  const xml = `${doc.bom ? '\uFEFF' : ''}${doc.declaration}${doc.before}${doc.doctype}${doc.between}${root}${doc.after}`;
  switch (corruption?.kind) {
    case 'text after root':
      return `${xml}x`;
    case 'second root':
      return `${xml}<r/>`;
    case 'truncate':
      return xml.slice(0, corruption.site % xml.length);
    default:
      return xml;
  }
}

function serializeElement(
  element: Element,
  scope: ReadonlyMap<string, string>,
  sites: { seen: number; chosen: number },
  corruption: Corruption | undefined,
): string {
  const corrupt = sites.seen++ === sites.chosen ? corruption : undefined;
  const inner = new Map(scope);
  const declarations: string[] = [];
  const declared = new Set<string>();
  const declare = (prefix: string, uri: string) => {
    if (declared.has(prefix)) return;
    declared.add(prefix);
    inner.set(prefix, uri);
    declarations.push(`xmlns${prefix === '' ? '' : `:${prefix}`}="${escapeAttribute(uri)}"`);
  };
  for (const [prefix, uri] of element.declarations) declare(prefix, uri);
  if (element.defaultNs !== undefined) declare('', element.defaultNs);
  if (element.prefix !== '' && !inner.has(element.prefix)) declare(element.prefix, URIS[0]!);
  const attributes: string[] = [];
  const names = new Set<string>();
  for (const { prefix, local, value } of element.attributes) {
    if (prefix !== '' && !inner.has(prefix)) declare(prefix, URIS[1]!);
    const name = prefix === '' ? local : `{${inner.get(prefix)}}${local}`;
    if (names.has(name)) continue;
    names.add(name);
    attributes.push(`${prefix === '' ? '' : `${prefix}:`}${local}=${value}`);
  }
  if (corrupt === '< in attribute value') attributes.push('q="a<b"');
  const name =
    corrupt === 'unbound prefix'
      ? `zz:${element.local}`
      : `${element.prefix === '' ? '' : `${element.prefix}:`}${element.local}`;
  const tag = [name, ...declarations, ...attributes].join(' ');
  let content = corrupt === 'undefined entity' ? '&nbsp;' : corrupt === 'control character' ? '\u0001' : '';
  let pendingText = '';
  const flushText = () => {
    content += pendingText.replace(/]]>/g, ']]&gt;');
    pendingText = '';
  };
  for (const child of element.children) {
    if ('text' in child) {
      pendingText += child.text;
      continue;
    }
    flushText();
    content += 'markup' in child ? child.markup : serializeElement(child, inner, sites, corruption);
  }
  flushText();
  const end = corrupt === 'drop end tag' ? '' : `</${name}${corrupt === 'mismatch end tag' ? 'q' : ''}>`;
  return content === '' && corrupt === undefined ? `<${tag}/>` : `<${tag}>${content}${end}`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

describe('XML reader', () => {
  it('reports what saxes reports for well-formed documents, however they are cut into chunks', () => {
    fc.assert(
      fc.property(document, chunking, (doc, cuts) => {
        const xml = serialize(doc);
        const expected = saxesEvents(xml);
        if (expected instanceof Error)
          throw new Error(`saxes refused a generated document: ${expected.message}`);
        expect(readerEvents(chunked(xml, cuts))).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  // Beyond these corruptions, saxes accepts some documents XML 1.0 does not (a processing
  // instruction that ends at `?` followed by anything up to `>`; a lone high surrogate, which
  // swallows the next character) and trims namespace URIs; the generated documents avoid those.
  it('refuses what saxes refuses, however it is cut into chunks', () => {
    const corruption = fc.record({
      kind: fc.constantFrom<Corruption>(...ELEMENT_CORRUPTIONS, 'text after root', 'second root', 'truncate'),
      site: fc.nat(),
    });
    fc.assert(
      fc.property(document, corruption, chunking, (doc, corrupt, cuts) => {
        const xml = serialize(doc, corrupt);
        const expected = saxesEvents(xml);
        const actual = readerEvents(chunked(xml, cuts));
        if (expected instanceof Error) expect(actual).toBeInstanceOf(XmlSyntaxError);
        else expect(actual).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('joins an entity reference and a CRLF split between chunks', () => {
    expect(readerEvents(['<a>x &a', 'm', 'p; y\r', '\nz\r', '</a>'])).toEqual([
      ['open', '', 'a', []],
      ['text', 'x & y\nz\n'],
      ['close'],
    ]);
    expect(readerEvents(['<a b="1&#x', '4', '1;\r', '\n2"/>'])).toEqual([
      ['open', '', 'a', [['b', '1A 2']]],
      ['close'],
    ]);
  });

  it('reports long text as it arrives, holding back only what the next chunk may complete', () => {
    const texts: string[] = [];
    const reader = new XmlReader({ open() {}, close() {}, text: (text) => texts.push(text) });
    for (const chunk of ['<a>BEGIN:VCARD\r', '\nFN:Ann &am', 'p; Bob]', ']', 'x']) reader.write(chunk);
    expect(texts).toEqual(['BEGIN:VCARD', '\nFN:Ann ', '& Bob', ']]x']);
    reader.write('</a>');
    reader.close();
    expect(readerEvents(['<a>]', ']', '></a>'])).toBeInstanceOf(XmlSyntaxError);
  });

  it('joins a surrogate pair split between chunks and refuses a lone surrogate', () => {
    expect(readerEvents(['<a>\ud83d', '\ude00</a>'])).toEqual([
      ['open', '', 'a', []],
      ['text', '😀'],
      ['close'],
    ]);
    expect(readerEvents(['<a>\ud83d</a>'])).toBeInstanceOf(XmlSyntaxError);
    expect(readerEvents(['<a>\ude00</a>'])).toBeInstanceOf(XmlSyntaxError);
    expect(readerEvents(['<a/>\ud83d'])).toBeInstanceOf(XmlSyntaxError);
  });

  it('keeps a CR written as a character reference, and reads a lone CR as LF', () => {
    expect(readerEvents(['<a>1&#13;\n2\r3<![CDATA[\r\r\n]]></a>'])).toEqual([
      ['open', '', 'a', []],
      ['text', '1\r\n2\n3\n\n'],
      ['close'],
    ]);
  });

  it('skips a byte order mark and a DOCTYPE with an internal subset, but not the entities it declares', () => {
    const doctype = '<!DOCTYPE a [\n  <!ENTITY e "]>">\n  <!-- ]> -->\n]>';
    expect(readerEvents(['\uFEFF<?xml version="1.0"?>', doctype, '<a>x</a>'])).toEqual([
      ['open', '', 'a', []],
      ['text', 'x'],
      ['close'],
    ]);
    const undefinedEntity = readerEvents([`${doctype}<a>&e;</a>`]);
    expect(undefinedEntity).toBeInstanceOf(XmlSyntaxError);
    expect((undefinedEntity as Error).message).toMatch(/undefined entity &e;/);
  });

  it('reads > inside an attribute value and refuses <', () => {
    expect(readerEvents(['<a x="1>2" y=\'>\'/>'])).toEqual([
      [
        'open',
        '',
        'a',
        [
          ['x', '1>2'],
          ['y', '>'],
        ],
      ],
      ['close'],
    ]);
    expect(readerEvents(['<a x="1<2"/>'])).toBeInstanceOf(XmlSyntaxError);
  });

  it('scopes namespace declarations to the element that declares them', () => {
    const xml =
      '<d:a xmlns:d="DAV:" xmlns="urn:x"><b xmlns:d="urn:y"><d:c/></b><d:c xml:lang="en" x="1"/><e xmlns=""/></d:a>';
    expect(readerEvents([xml])).toEqual([
      ['open', 'DAV:', 'a', []],
      ['open', 'urn:x', 'b', []],
      ['open', 'urn:y', 'c', []],
      ['close'],
      ['close'],
      ['open', 'DAV:', 'c', [['x', '1']]],
      ['close'],
      ['open', '', 'e', []],
      ['close'],
      ['close'],
    ]);
    expect(readerEvents(['<a xmlns:p=""/>'])).toBeInstanceOf(XmlSyntaxError);
    expect(readerEvents(['<a p:x="1"/>'])).toBeInstanceOf(XmlSyntaxError);
  });

  it('says what is wrong and where', () => {
    const error = readerEvents(['<a>\n  <b>', '</c>\n</a>']);
    expect(error).toBeInstanceOf(XmlSyntaxError);
    expect((error as Error).message).toBe('</c> closes <b> at offset 9');
    expect((readerEvents(['<a>&#0;</a>']) as Error).message).toBe(
      '&#0; is not a character XML allows at offset 3',
    );
    expect((readerEvents(['<a>', '\u0001</a>']) as Error).message).toBe(
      'a character XML does not allow at offset 3',
    );
    expect((readerEvents(['']) as Error).message).toBe('the document has no root element at offset 0');
  });

  it('builds the same trees as before through TreeBuilder', () => {
    const trees: XmlElement[] = [];
    const builder = new TreeBuilder(
      (name, ancestors) => ancestors.length === 1 && name.local === 'response',
      (tree) => trees.push(tree),
    );
    const reader = new XmlReader(builder);
    for (const chunk of [
      '<m xmlns="DAV:"><response a="1"><href>/x',
      '</href></response>text<response/></m>',
    ]) {
      reader.write(chunk);
    }
    reader.close();
    expect(
      trees.map((t) => [t.local, [...t.attributes], t.children.map((c) => `${c.local}=${c.text}`)]),
    ).toEqual([
      ['response', [['a', '1']], ['href=/x']],
      ['response', [], []],
    ]);
    expect(() => parseXmlDocument('<a><b></a>')).toThrow(XmlSyntaxError);
  });
});
