/**
 * Service discovery: from the configured URL to a user's address book and calendar.
 *
 * 1. The service account's principal: RFC 6764 §5 — PROPFIND DAV:current-user-principal
 *    (RFC 5397) on the configured path, then on /.well-known/caldav and /.well-known/carddav,
 *    following redirects on the same origin (credentials never go elsewhere). The principal
 *    itself need not exist: a Cyrus admin has no mailbox, so its principal answers 404, and
 *    the principal-collection-set (RFC 3744 §5.8) of the start answer is what leads on.
 * 2. The mailbox user's principal. The server account is a service account allowed into
 *    every mailbox, so the user's principal is found by convention: an absolute path or URL
 *    given as the account is used as is; otherwise `{principal-collection-set}/ACCOUNT/`
 *    (RFC 3744 §5.8) for each set the service principal names, then ACCOUNT next to the
 *    service principal (Cyrus's `/dav/principals/user/ACCOUNT/`), then `{root}/ACCOUNT/`
 *    (Radicale's layout). The first that answers with a home set wins. A home set naming
 *    the service account's own home is taken for the user's next to it (see `ownHomes`).
 * 3. The home sets (RFC 6352 §7.1.1 addressbook-home-set, RFC 4791 §6.2.1
 *    calendar-home-set), listed with Depth 1; the configured collection, or else the user's
 *    default one (by name, then the first by path) is chosen. When the listing shows none,
 *    the conventional names are asked for one by one (`collection-choice.ts`).
 */
import { isLiaisonError } from '../../domain/errors.js';
import type { CollectionKind } from '../../domain/ids.js';
import { COLLECTION_KINDS } from '../../domain/ids.js';
import { CALDAV } from './caldav-protocol.js';
import { CARDDAV } from './carddav-protocol.js';
import {
  chooseCollection,
  configuredName,
  conventionalSegments,
  LISTING_PROPS,
  RESOURCETYPE,
} from './collection-choice.js';
import type { DavServerConfig } from './dav-config.js';
import { type RequestContext, requestError, statusError } from './dav-failure.js';
import { encodeSegment, lastSegment, parentPath, sameCollection, withSlash } from './dav-href.js';
import type { DiscoveredCollection, DiscoveredMailbox } from './discovery-cache.js';
import { type DavResponse, propHrefs } from './multistatus.js';
import { propfindBody } from './request-bodies.js';
import type { WebDavClient } from './webdav-client.js';
import { DAV_NS, type XmlName } from './xml-element.js';

const dav = (local: string): XmlName => ({ ns: DAV_NS, local });
const CURRENT_USER_PRINCIPAL = dav('current-user-principal');
const PRINCIPAL_COLLECTION_SET = dav('principal-collection-set');

/**
 * DAV header tokens of a server that schedules by itself: RFC 6638 §2's, and the spelling
 * Xandikos advertises. A server claiming to schedule is believed; the precautions cost
 * nothing where it does not.
 */
const AUTO_SCHEDULE_TOKENS = new Set(['calendar-auto-schedule', 'calendar-auto-scheduling']);

/** The service account's view of the server. */
export interface ServiceContext {
  /** The path discovery found the server at (where `/ACCOUNT/` principals are looked for). */
  readonly root: string;
  readonly principal: string;
  readonly principalCollections: readonly string[];
  /** The service principal's own home sets. */
  readonly homes: Readonly<Record<CollectionKind, string | null>>;
}

/** A principal and its home sets. */
export interface PrincipalHomes {
  readonly principal: string;
  readonly homes: Readonly<Record<CollectionKind, string | null>>;
}

const MAX_REDIRECTS = 5;

/**
 * Discovery for one server (see the file comment). The service account's view is learnt
 * once per instance; mailboxes are discovered on every call — `DavMailboxServer` caches them.
 */
export class DavDiscovery {
  #service: Promise<ServiceContext> | undefined;

  constructor(
    private readonly client: WebDavClient,
    private readonly config: DavServerConfig,
  ) {}

  /** Step 1, once per instance (a failure is not kept: the next call tries again). */
  service(): Promise<ServiceContext> {
    if (this.#service === undefined) {
      this.#service = this.#findService();
      this.#service.catch(() => {
        this.#service = undefined;
      });
    }
    return this.#service;
  }

  /** Steps 2 and 3 for `account`: its principal, home sets and chosen collections. */
  async discover(account: string): Promise<DiscoveredMailbox> {
    const { principal, homes } = await this.principal(account);
    const collections: Record<CollectionKind, DiscoveredCollection | null> = {
      contacts: null,
      calendar: null,
    };
    const listings = new Map<string, DavResponse[] | null>();
    for (const kind of COLLECTION_KINDS) {
      const home = homes[kind];
      if (home === null) continue;
      let listing = listings.get(home);
      if (listing === undefined) {
        listing = await this.listHome(home, account);
        listings.set(home, listing);
      }
      collections[kind] = listing === null ? null : await this.collectionIn(kind, home, listing, account);
    }
    const calendarPlace = collections.calendar?.href ?? homes.calendar;
    const autoSchedule = calendarPlace === null ? false : await this.#schedules(calendarPlace, account);
    return { account, principal, homes, collections, autoSchedule };
  }

  /**
   * Whether the server schedules on its own (RFC 6638 §2: `calendar-auto-schedule` in the DAV
   * header of OPTIONS). A server that refuses OPTIONS is assumed to: the precautions are
   * harmless where it does not.
   */
  async #schedules(path: string, account: string): Promise<boolean> {
    try {
      return (await this.client.options(path, { user: account })).some((t) => AUTO_SCHEDULE_TOKENS.has(t));
    } catch (e) {
      if (isLiaisonError(e) && (e.kind === 'Config' || e.kind === 'InvalidData' || e.kind === 'NotFound'))
        return true;
      throw e;
    }
  }

  /** Step 2: the principal of `account` and its home sets. */
  async principal(account: string): Promise<PrincipalHomes> {
    const service = await this.service();
    const context: RequestContext = { user: account };
    const props = [RESOURCETYPE, CALDAV.homeSet, CARDDAV.homeSet];
    const tried: string[] = [];
    let denied = 0;
    for (const candidate of this.#principalCandidates(account, service)) {
      tried.push(candidate);
      const answer = await this.client.multistatus('PROPFIND', candidate, 0, propfindBody(props), context);
      if ('status' in answer) {
        if (answer.status === 401) throw statusError(answer.request, answer.status, answer.preconditions);
        if (answer.status === 403) denied++;
        continue;
      }
      const response = answer.responses[0];
      const homes = response === undefined ? null : homesOf(response);
      if (homes !== null && (homes.contacts !== null || homes.calendar !== null)) {
        const principal = response?.href ?? candidate;
        return { principal, homes: ownHomes(homes, principal, service.principal) };
      }
    }
    const where = `${this.config.name}: no principal with a home set found for user ${account} (tried ${tried.join(', ')})`;
    if (denied === tried.length && denied > 0) {
      throw requestError(
        'AccessDenied',
        {
          server: this.config.name,
          method: 'PROPFIND',
          url: this.client.transport.url(tried[0] ?? '/'),
          context,
        },
        `the service account may not read the principal: grant it access to every mailbox (${where})`,
      );
    }
    throw requestError(
      'NotFound',
      {
        server: this.config.name,
        method: 'PROPFIND',
        url: this.client.transport.url(tried[0] ?? '/'),
        context,
      },
      `${where}: create the user on the server (Radicale: the user logs in once), or give the principal's path as the mailbox account`,
    );
  }

  /** Step 3: the members of a home set (null when the home set does not exist yet). */
  async listHome(home: string, account: string): Promise<DavResponse[] | null> {
    const answer = await this.client.multistatus('PROPFIND', home, 1, propfindBody(LISTING_PROPS), {
      user: account,
      collection: home,
    });
    if ('status' in answer) {
      if (answer.status === 404) return null;
      throw statusError(answer.request, answer.status, answer.preconditions);
    }
    // Xandikos answers 207 with a 404 response for a home set that does not exist.
    const self = answer.responses.find((r) => sameCollection(r.href, home));
    if (self?.status === 404 || self?.status === 410) return null;
    return [...answer.responses];
  }

  /**
   * The collection of `kind` in a home set: chosen from its listing, or else the first of
   * the conventional names that answers a Depth 0 PROPFIND as a suitable collection
   * (a listing may hide what exists: see `conventionalSegments`).
   */
  async collectionIn(
    kind: CollectionKind,
    home: string,
    listing: readonly DavResponse[],
    account: string,
  ): Promise<DiscoveredCollection | null> {
    const chosen = this.choose(kind, listing);
    if (chosen !== null) return chosen;
    for (const segment of conventionalSegments(configuredName(this.config, kind), kind)) {
      const path = `${withSlash(home)}${encodeSegment(segment)}/`;
      const answer = await this.client.multistatus('PROPFIND', path, 0, propfindBody(LISTING_PROPS), {
        user: account,
        collection: path,
      });
      if ('status' in answer) {
        // A 403 is not "absent": the service account lacks rights it needs, and going on
        // would make a second calendar next to the user's.
        if (answer.status === 404 || answer.status === 410) continue;
        throw statusError(answer.request, answer.status, answer.preconditions);
      }
      const self = answer.responses.filter(
        (r) => sameCollection(r.href, path) && (r.status === null || r.status < 300),
      );
      const found = this.choose(kind, self);
      if (found !== null) return found;
    }
    return null;
  }

  /**
   * The collection of `kind` to sync among a home set's members: the configured one (by
   * last segment or display name), else the first default-named, else the first by path.
   * Liaison's own marker calendar is never chosen.
   */
  choose(kind: CollectionKind, listing: readonly DavResponse[]): DiscoveredCollection | null {
    return chooseCollection(kind, listing, configuredName(this.config, kind));
  }

  #principalCandidates(account: string, service: ServiceContext): string[] {
    if (/^https?:\/\//i.test(account) || account.startsWith('/')) {
      return [withSlash(this.client.path(this.client.transport.url(account, { user: account }).href))];
    }
    const segment = `${encodeSegment(account)}/`;
    const candidates = [
      ...service.principalCollections.map((set) => withSlash(set) + segment),
      // Next to the service account's own principal (Cyrus: /dav/principals/user/NAME/).
      parentPath(service.principal) + segment,
      withSlash(service.root) + segment,
      `/${segment}`,
    ];
    return [...new Set(candidates)];
  }

  async #findService(): Promise<ServiceContext> {
    const basePath = this.client.path(this.client.transport.base.href);
    const starts = [
      ...new Set([
        ...(basePath === '/' ? [] : [basePath]),
        '/.well-known/caldav',
        '/.well-known/carddav',
        basePath,
      ]),
    ];
    const props = [CURRENT_USER_PRINCIPAL, PRINCIPAL_COLLECTION_SET];
    for (const start of starts) {
      let path = start;
      for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
        const answer = await this.client.multistatus('PROPFIND', path, 0, propfindBody(props), {});
        if (!('status' in answer)) {
          const response = answer.responses[0];
          const principal =
            response === undefined ? undefined : propHrefs(response, CURRENT_USER_PRINCIPAL)[0];
          if (response !== undefined && principal !== undefined) {
            return this.#serviceContext(path, principal, propHrefs(response, PRINCIPAL_COLLECTION_SET));
          }
          break;
        }
        const location = answer.header('location');
        if (answer.status >= 300 && answer.status < 400 && location !== undefined) {
          // RFC 6764 §5: follow the well-known redirect (only on this origin: see DavTransport.url).
          path = this.client.path(this.client.transport.url(location).href);
          continue;
        }
        if (answer.status === 401) throw statusError(answer.request, answer.status, answer.preconditions);
        break;
      }
    }
    throw requestError(
      'NotFound',
      { server: this.config.name, method: 'PROPFIND', url: this.client.transport.base, context: {} },
      `no DAV:current-user-principal found at ${starts.join(', ')}: check the server URL`,
    );
  }

  async #serviceContext(root: string, principal: string, sets: readonly string[]): Promise<ServiceContext> {
    const answer = await this.client.multistatus(
      'PROPFIND',
      principal,
      0,
      propfindBody([PRINCIPAL_COLLECTION_SET, CALDAV.homeSet, CARDDAV.homeSet]),
      {},
    );
    if ('status' in answer) {
      // A Cyrus admin has no mailbox, hence no principal resource: 404 for the very href
      // current-user-principal named. The start's principal-collection-set still leads to
      // the users' principals, which is all a service account needs.
      if (answer.status !== 404 && answer.status !== 403) {
        throw statusError(answer.request, answer.status, answer.preconditions);
      }
      return { root, principal, principalCollections: [...sets], homes: { contacts: null, calendar: null } };
    }
    const response = answer.responses[0];
    const own = response === undefined ? [] : propHrefs(response, PRINCIPAL_COLLECTION_SET);
    return {
      root,
      principal,
      principalCollections: [...new Set([...own, ...sets])],
      homes:
        response === undefined
          ? { contacts: null, calendar: null }
          : (homesOf(response) ?? { contacts: null, calendar: null }),
    };
  }
}

function homesOf(response: DavResponse): Record<CollectionKind, string | null> | null {
  if (response.status !== null && response.status >= 300) return null;
  return {
    contacts: propHrefs(response, CARDDAV.homeSet)[0] ?? null,
    calendar: propHrefs(response, CALDAV.homeSet)[0] ?? null,
  };
}

/**
 * The home sets of another user's principal, with any that names the service account's
 * own home moved to the user's. Cyrus 3.6 answers calendar-home-set from the account that
 * asks, not from the principal asked about: on alice's principal an admin reads
 * `/dav/calendars/user/admin/` (while addressbook-home-set rightly says
 * `/dav/addressbooks/user/alice/`). Syncing a user's items into the service account's own
 * calendar would mix every mailbox into one, so such a home set is never used as it is:
 * it is read as the home of the same name next to it. Where both principals have the same
 * last segment (the service account's own mailbox) nothing is moved.
 */
export function ownHomes(
  homes: Readonly<Record<CollectionKind, string | null>>,
  principal: string,
  servicePrincipal: string,
): Record<CollectionKind, string | null> {
  const service = lastSegment(servicePrincipal);
  const user = lastSegment(principal);
  const own = (home: string | null) =>
    home !== null && service !== '' && user !== service && lastSegment(home) === service
      ? `${parentPath(home)}${encodeSegment(user)}/`
      : home;
  return { contacts: own(homes.contacts), calendar: own(homes.calendar) };
}
