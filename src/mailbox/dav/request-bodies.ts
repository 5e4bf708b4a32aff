/**
 * XML bodies of the requests Liaison sends. Each builder declares every namespace it uses
 * on the root element with a prefix of its own choosing (`D` for DAV:, `n1`… for others),
 * and escapes every text it inserts.
 */
import { DAV_NS, escapeXml, type XmlName } from './xml-element.js';

/** Assigns prefixes to namespaces as elements are written. */
class Namespaces {
  readonly #prefixes = new Map<string, string>([[DAV_NS, 'D']]);

  /** `prefix:local` for a name, declaring its namespace when new. */
  qname(name: XmlName): string {
    let prefix = this.#prefixes.get(name.ns);
    if (prefix === undefined) {
      prefix = `n${this.#prefixes.size}`;
      this.#prefixes.set(name.ns, prefix);
    }
    return `${prefix}:${name.local}`;
  }

  /** The `xmlns:` attributes of every namespace used so far. */
  declarations(): string {
    return [...this.#prefixes].map(([ns, prefix]) => ` xmlns:${prefix}="${escapeXml(ns)}"`).join('');
  }
}

const PROLOG = '<?xml version="1.0" encoding="utf-8"?>\n';

/** A document whose root is `root`; `inner` writes the content with the same prefixes. */
function document(root: XmlName, inner: (ns: Namespaces) => string): string {
  const ns = new Namespaces();
  const rootName = ns.qname(root);
  const content = inner(ns);
  return `${PROLOG}<${rootName}${ns.declarations()}>${content}</${rootName}>`;
}

function emptyElements(ns: Namespaces, names: readonly XmlName[]): string {
  return names.map((n) => `<${ns.qname(n)}/>`).join('');
}

function propElement(ns: Namespaces, names: readonly XmlName[]): string {
  return `<D:prop>${emptyElements(ns, names)}</D:prop>`;
}

/** RFC 4918 §9.1 PROPFIND asking for `props`. */
export function propfindBody(props: readonly XmlName[]): string {
  return document({ ns: DAV_NS, local: 'propfind' }, (ns) => propElement(ns, props));
}

/**
 * RFC 6578 §3.2 sync-collection REPORT: `token` null asks for the initial state;
 * sync-level 1 because Liaison syncs only the collection's own members; `limit` asks for
 * pages of at most that many results.
 */
export function syncCollectionBody(token: string | null, props: readonly XmlName[], limit?: number): string {
  return document({ ns: DAV_NS, local: 'sync-collection' }, (ns) => {
    const tokenElement =
      token === null ? '<D:sync-token/>' : `<D:sync-token>${escapeXml(token)}</D:sync-token>`;
    // RFC 6578 §3.7: DAV:limit asks the server to page its answer (with 507, §3.6).
    const limitElement =
      limit === undefined ? '' : `<D:limit><D:nresults>${Math.floor(limit)}</D:nresults></D:limit>`;
    return `${tokenElement}<D:sync-level>1</D:sync-level>${limitElement}${propElement(ns, props)}`;
  });
}

/** RFC 6352 §8.7 addressbook-multiget / RFC 4791 §7.9 calendar-multiget of `hrefs`. */
export function multigetBody(report: XmlName, props: readonly XmlName[], hrefs: readonly string[]): string {
  return document(report, (ns) => {
    const hrefElements = hrefs.map((h) => `<D:href>${escapeXml(h)}</D:href>`).join('');
    return `${propElement(ns, props)}${hrefElements}`;
  });
}

/** A property with a text value, for PROPPATCH and MKCOL. */
export interface TextProperty {
  readonly name: XmlName;
  readonly value: string;
}

/** RFC 4918 §9.2 PROPPATCH setting `set` and removing `remove`. */
export function proppatchBody(set: readonly TextProperty[], remove: readonly XmlName[] = []): string {
  return document({ ns: DAV_NS, local: 'propertyupdate' }, (ns) => {
    const setPart =
      set.length === 0
        ? ''
        : `<D:set><D:prop>${set
            .map((p) => `<${ns.qname(p.name)}>${escapeXml(p.value)}</${ns.qname(p.name)}>`)
            .join('')}</D:prop></D:set>`;
    const removePart = remove.length === 0 ? '' : `<D:remove>${propElement(ns, remove)}</D:remove>`;
    return setPart + removePart;
  });
}

/**
 * RFC 4791 §5.3.1 MKCALENDAR with a display name and the components the calendar accepts
 * (`supported-calendar-component-set`, §5.2.3).
 */
export function mkcalendarBody(
  calendarNs: string,
  displayName: string,
  components: readonly string[],
): string {
  return document({ ns: calendarNs, local: 'mkcalendar' }, (ns) => {
    const comp = ns.qname({ ns: calendarNs, local: 'comp' });
    const set = ns.qname({ ns: calendarNs, local: 'supported-calendar-component-set' });
    const comps = components.map((c) => `<${comp} name="${escapeXml(c)}"/>`).join('');
    return `<D:set><D:prop><D:displayname>${escapeXml(displayName)}</D:displayname><${set}>${comps}</${set}></D:prop></D:set>`;
  });
}

/** RFC 5689 §3 extended MKCOL making a collection of the given resource types. */
export function extendedMkcolBody(resourceTypes: readonly XmlName[], displayName: string): string {
  return document({ ns: DAV_NS, local: 'mkcol' }, (ns) => {
    const types = `<D:collection/>${emptyElements(ns, resourceTypes)}`;
    return `<D:set><D:prop><D:resourcetype>${types}</D:resourcetype><D:displayname>${escapeXml(displayName)}</D:displayname></D:prop></D:set>`;
  });
}
