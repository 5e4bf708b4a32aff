/**
 * The sync marker on a DAV server (SPEC §5), in the best place the server offers:
 *
 * 1. `collection` — a calendar of Liaison's own in the user's calendar home, made by
 *    MKCALENDAR (RFC 4791 §5.3.1) for VJOURNAL with a display name saying what it is,
 *    holding one note (`marker-note-text.ts`). No client shows a journal in an event view.
 * 2. `property` — where MKCALENDAR or VJOURNAL is refused: a dead property (RFC 4918 §4)
 *    on the synced calendar (or address book) holding the note's text.
 * 3. `item` — where dead properties are refused too: the note as an item of the synced
 *    calendar, hidden from listings by `DavCollection`.
 *
 * The placement is learnt from definite refusals only (403, 405, 409, 415, 501, a failed
 * propstat); a timeout or 5xx fails the write instead of moving the marker, so a marker
 * is never written to one place and looked for in another. Reading looks in the known
 * placement, or in all three in order when it is not known yet.
 */
import { randomBytes } from 'node:crypto';
import { errorMessage, LiaisonError } from '../../domain/errors.js';
import { formatMarkerNote, parseMarkerNote } from '../marker-note-text.js';
import type { MarkerNote } from '../port.js';
import type { MarkerPlacement } from './dav-config.js';
import { type RequestContext, statusError } from './dav-failure.js';
import { memberPath, withSlash } from './dav-href.js';
import type { DiscoveredMailbox } from './discovery-cache.js';
import {
  MARKER_COLLECTION_NAME,
  MARKER_COLLECTION_SEGMENT,
  MARKER_ITEM_NAME,
  MARKER_PROPERTY,
} from './marker-location.js';
import { propOf } from './multistatus.js';
import { mkcalendarBody, proppatchBody } from './request-bodies.js';
import type { WebDavClient } from './webdav-client.js';
import { CALDAV_NS, type XmlName } from './xml-element.js';

/** The order placements are tried in. */
export const MARKER_PLACEMENTS: readonly MarkerPlacement[] = ['collection', 'property', 'item'];

/** A placement learnt for a server, shared by all its mailboxes. */
export interface PlacementMemo {
  placement: MarkerPlacement | null;
}

const CALENDAR_TYPE = 'text/calendar; charset=utf-8';
/** Statuses that mean "this server does not do that here", as opposed to "try later". */
const REFUSALS = new Set([400, 403, 405, 409, 415, 501]);

type Outcome = 'done' | 'refused';

/** The marker of one mailbox: reads and writes it where the server can hold it (see above). */
export class DavMarker {
  constructor(
    private readonly client: WebDavClient,
    private readonly mailbox: DiscoveredMailbox,
    private readonly memo: PlacementMemo,
    /** A placement the configuration imposes (tests, or a server known to need one). */
    private readonly forced: MarkerPlacement | undefined,
  ) {}

  /** The note, or null when none exists. Throws `InvalidData` naming the place when it cannot be read. */
  async read(): Promise<MarkerNote | null> {
    const known = this.forced ?? this.memo.placement;
    for (const placement of known === null ? MARKER_PLACEMENTS : [known]) {
      const found = await this.#readAt(placement);
      if (found === null) continue;
      if (this.forced === undefined) this.memo.placement = placement;
      try {
        return parseMarkerNote(found.text);
      } catch (e) {
        throw new LiaisonError('InvalidData', `${this.client.server}: ${found.where}: ${errorMessage(e)}`, {
          cause: e,
          context: { server: this.client.server, user: this.mailbox.account, href: found.where },
        });
      }
    }
    return null;
  }

  /** Writes the note to the known placement, or finds the first one the server accepts. */
  async write(note: MarkerNote): Promise<void> {
    const text = formatMarkerNote(note);
    const known = this.forced ?? this.memo.placement;
    for (const placement of known === null ? MARKER_PLACEMENTS : [known]) {
      if ((await this.#writeAt(placement, text)) === 'done') {
        if (this.forced === undefined) this.memo.placement = placement;
        return;
      }
    }
    throw new LiaisonError(
      'Config',
      `${this.client.server}: the mailbox of ${this.mailbox.account} can hold the sync marker ${
        known === null
          ? 'nowhere (no VJOURNAL calendar, no dead properties, no calendar)'
          : `not as a ${known}`
      }`,
      { context: { server: this.client.server, user: this.mailbox.account } },
    );
  }

  /** Where each placement keeps the note, or null when the mailbox lacks what it needs. */
  #place(placement: MarkerPlacement): string | null {
    const { homes, collections } = this.mailbox;
    if (placement === 'collection')
      return homes.calendar === null ? null : markerCollectionPath(homes.calendar);
    if (placement === 'property') return (collections.calendar ?? collections.contacts)?.href ?? null;
    return collections.calendar === null ? null : memberPath(collections.calendar.href, MARKER_ITEM_NAME);
  }

  async #readAt(placement: MarkerPlacement): Promise<{ text: string; where: string } | null> {
    const place = this.#place(placement);
    if (place === null) return null;
    const context = this.#context(place);
    if (placement === 'property') {
      const ms = await this.client.propfind(place, 0, [MARKER_PROPERTY], context);
      const value = ms.responses[0] && propOf(ms.responses[0], MARKER_PROPERTY);
      return value === undefined || value.text.trim() === ''
        ? null
        : { text: value.text, where: `${place} (property)` };
    }
    const href = placement === 'collection' ? memberPath(place, MARKER_ITEM_NAME) : place;
    const item = await this.client.get(href, { ...context, href });
    return item === null ? null : { text: item.text, where: href };
  }

  async #writeAt(placement: MarkerPlacement, text: string): Promise<Outcome> {
    const place = this.#place(placement);
    if (place === null) return 'refused';
    if (placement === 'property')
      return setProperty(this.client, place, MARKER_PROPERTY, text, this.#context(place));
    if (placement === 'item') {
      const answer = await this.#put(place, text);
      if (answer < 300) return 'done';
      if (REFUSALS.has(answer)) return 'refused';
      throw this.#failed(place, answer);
    }
    const item = memberPath(place, MARKER_ITEM_NAME);
    const first = await this.#put(item, text);
    if (first < 300) return 'done';
    if (!REFUSALS.has(first) && first !== 404) throw this.#failed(item, first);
    const made = await makeJournalCalendar(this.client, place, MARKER_COLLECTION_NAME, this.#context(place));
    if (made === 'refused') return 'refused';
    const second = await this.#put(item, text);
    if (second < 300) return 'done';
    if (!REFUSALS.has(second)) throw this.#failed(item, second);
    // The calendar was made but refuses the note (no VJOURNAL): remove it, try elsewhere.
    // (A Cyrus admin's DELETE would only withdraw its own access; Cyrus takes VJOURNAL, so
    // it never comes to that there.)
    await this.client.exchange('DELETE', place, {}, this.#context(place)).catch(() => undefined);
    return 'refused';
  }

  /** An unconditional PUT: the marker is Liaison's own, written only by the run holding the user's lock. */
  async #put(href: string, text: string): Promise<number> {
    const answer = await this.client.exchange(
      'PUT',
      href,
      { headers: { 'content-type': CALENDAR_TYPE }, body: text },
      this.#context(href),
    );
    return answer.status;
  }

  #failed(href: string, status: number): LiaisonError {
    return statusError(
      {
        server: this.client.server,
        method: 'PUT',
        url: this.client.transport.url(href),
        context: this.#context(href),
      },
      status,
    );
  }

  #context(place: string): RequestContext {
    return { user: this.mailbox.account, collection: place };
  }
}

/** The path of Liaison's marker calendar in a calendar home. */
export function markerCollectionPath(calendarHome: string): string {
  return `${withSlash(calendarHome)}${MARKER_COLLECTION_SEGMENT}/`;
}

/**
 * MKCALENDAR for VJOURNAL at `path`. Xandikos answers 201 while ignoring the component set
 * (its calendars take every component), so success is judged by the status alone and the
 * note's PUT tells whether journals are really accepted.
 */
export async function makeJournalCalendar(
  client: WebDavClient,
  path: string,
  displayName: string,
  context: RequestContext,
): Promise<Outcome> {
  const answer = await client.exchange(
    'MKCALENDAR',
    path,
    {
      headers: { 'content-type': 'application/xml; charset=utf-8' },
      body: mkcalendarBody(CALDAV_NS, displayName, ['VJOURNAL']),
    },
    context,
  );
  if (answer.status >= 200 && answer.status < 300) return 'done';
  if (REFUSALS.has(answer.status)) return 'refused';
  throw statusError(answer.request, answer.status, answer.preconditions);
}

/** PROPPATCH of one dead property; a failed propstat or a refusal status is 'refused'. */
export async function setProperty(
  client: WebDavClient,
  path: string,
  name: XmlName,
  value: string,
  context: RequestContext,
): Promise<Outcome> {
  const answer = await client.exchange(
    'PROPPATCH',
    path,
    { headers: { 'content-type': 'application/xml; charset=utf-8' }, body: proppatchBody([{ name, value }]) },
    context,
  );
  if (answer.status === 207) {
    const stored = answer.responses.some((r) => propOf(r, name) !== undefined);
    return stored ? 'done' : 'refused';
  }
  if (answer.status >= 200 && answer.status < 300) return 'done';
  if (REFUSALS.has(answer.status)) return 'refused';
  throw statusError(answer.request, answer.status, answer.preconditions);
}

/** A name for a throwaway collection or property made by `testDavServer`. */
export function trialName(): string {
  return `liaison-capability-test-${randomBytes(4).toString('hex')}`;
}
