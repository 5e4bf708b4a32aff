/**
 * Step 3 of discovery without the requests: which member of a home set is the collection
 * Liaison syncs, which names to ask for when a listing shows none, and what a chosen
 * collection offers (its supported-report-set).
 */
import type { CollectionKind } from '../../domain/ids.js';
import { CALDAV } from './caldav-protocol.js';
import { CARDDAV } from './carddav-protocol.js';
import type { CollectionProtocol } from './collection-protocol.js';
import { lastSegment, withSlash } from './dav-href.js';
import type { DiscoveredCollection } from './discovery-cache.js';
import { MARKER_COLLECTION_SEGMENT } from './marker-location.js';
import { type DavResponse, propOf, propText } from './multistatus.js';
import { clark, DAV_NS, type XmlName } from './xml-element.js';

const dav = (local: string): XmlName => ({ ns: DAV_NS, local });
export const RESOURCETYPE = dav('resourcetype');
export const DISPLAYNAME = dav('displayname');
/** RFC 3253 §3.1.5: the reports a resource answers. */
export const SUPPORTED_REPORT_SET = dav('supported-report-set');

/** The protocol of each collection kind. */
export const PROTOCOLS: Readonly<Record<CollectionKind, CollectionProtocol>> = {
  contacts: CARDDAV,
  calendar: CALDAV,
};

/** What a home set listing asks of each member: enough to choose among them. */
export const LISTING_PROPS: readonly XmlName[] = [
  RESOURCETYPE,
  DISPLAYNAME,
  SUPPORTED_REPORT_SET,
  ...CALDAV.listingProps,
  ...CARDDAV.listingProps,
];

/** Name and display name of the collections `ensureMailbox` makes when none is configured. */
export const DEFAULT_COLLECTIONS: Readonly<Record<CollectionKind, { segment: string; displayName: string }>> =
  {
    contacts: { segment: 'contacts', displayName: 'Contacts' },
    calendar: { segment: 'calendar', displayName: 'Calendar' },
  };

/**
 * Cyrus IMAP's name for each user's default calendar and address book. Paths are case
 * sensitive (RFC 3986 §6.2.2.1), so it is asked for as Cyrus spells it.
 */
const CYRUS_DEFAULT_SEGMENT = 'Default';

/**
 * The configured name of the collection of `kind` (segment or display name), if any.
 * Matching ignores case: `choose` lowers it.
 */
export function configuredName(
  config: { readonly addressbook?: string; readonly calendar?: string },
  kind: CollectionKind,
): string | undefined {
  return kind === 'contacts' ? config.addressbook : config.calendar;
}

/**
 * The last segments to ask for, one Depth 0 PROPFIND each, when a home set's listing shows
 * no suitable member. A listing may hide what exists: a Cyrus admin's Depth 1 PROPFIND of
 * another user's home answers with the home alone (its collections are listed only to the
 * owner and to those its reverse ACL index names, which leaves admins out), though each
 * collection answers when addressed by URL. The configured name when there is one; else
 * Cyrus's `Default`, then the name `ensureMailbox` gives what it makes.
 */
export function conventionalSegments(configured: string | undefined, kind: CollectionKind): string[] {
  if (configured !== undefined) return [configured];
  return [CYRUS_DEFAULT_SEGMENT, DEFAULT_COLLECTIONS[kind].segment];
}

/**
 * The collection of `kind` to sync among a home set's members: the configured one (by
 * last segment or display name), else the first default-named, else the first by path.
 * Liaison's own marker calendar is never chosen.
 */
export function chooseCollection(
  kind: CollectionKind,
  listing: readonly DavResponse[],
  configured: string | undefined,
): DiscoveredCollection | null {
  const protocol = PROTOCOLS[kind];
  const wanted = configured?.toLowerCase();
  const candidates = listing
    .filter((r) => protocol.suitable(r) && lastSegment(r.href) !== MARKER_COLLECTION_SEGMENT)
    .map((r) => ({
      response: r,
      names: [lastSegment(r.href).toLowerCase(), (propText(r, DISPLAYNAME) ?? '').toLowerCase()],
    }))
    .sort((a, b) => (a.response.href < b.response.href ? -1 : a.response.href > b.response.href ? 1 : 0));
  let chosen: DavResponse | undefined;
  if (wanted !== undefined) {
    chosen = candidates.find((c) => c.names.includes(wanted))?.response;
  } else {
    const rank = (names: string[]) => {
      const ranks = names.map((n) => protocol.defaultNames.indexOf(n)).filter((i) => i >= 0);
      return ranks.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...ranks);
    };
    chosen = [...candidates].sort((a, b) => rank(a.names) - rank(b.names))[0]?.response;
  }
  return chosen === undefined ? null : describeCollection(chosen, protocol);
}

/** The reports a collection lists in DAV:supported-report-set (RFC 3253 §3.1.5), or null when it lists none. */
export function supportedReports(response: DavResponse): Set<string> | null {
  const set = propOf(response, SUPPORTED_REPORT_SET);
  if (set === undefined) return null;
  const reports = new Set<string>();
  for (const supported of set.children) {
    for (const report of supported.children) {
      // RFC 3253 wraps the name in DAV:report; Xandikos puts it in supported-report directly.
      if (report.ns === DAV_NS && report.local === 'report')
        for (const name of report.children) reports.add(clark(name));
      else reports.add(clark(report));
    }
  }
  return reports;
}

function describeCollection(response: DavResponse, protocol: CollectionProtocol): DiscoveredCollection {
  const reports = supportedReports(response);
  return {
    href: withSlash(response.href),
    displayName: propText(response, DISPLAYNAME) ?? lastSegment(response.href),
    syncCollection: reports?.has(clark({ ns: DAV_NS, local: 'sync-collection' })) ?? false,
    multiget: reports === null || reports.has(clark(protocol.multiget)),
  };
}
