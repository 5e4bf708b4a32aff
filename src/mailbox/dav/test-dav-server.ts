/**
 * `liaison server test`: what a configured DAV server offers, found by asking it.
 */

import { LiaisonError } from '../../domain/errors.js';
import { formatMarkerNote } from '../marker-note-text.js';
import { isCalendarFor, SUPPORTED_COMPONENTS } from './caldav-protocol.js';
import { RESOURCETYPE } from './collection-choice.js';
import type { DavServerConfig, MarkerPlacement, ServerCapabilities } from './dav-config.js';
import { memberPath, sameCollection } from './dav-href.js';
import { type DavMailboxOptions, DavMailboxServer } from './dav-mailbox-server.js';
import { makeJournalCalendar, markerCollectionPath, setProperty, trialName } from './dav-marker.js';
import { MARKER_COLLECTION_NAME, MARKER_PROPERTY } from './marker-location.js';
import { propfindBody, proppatchBody } from './request-bodies.js';

/**
 * Connects with the server's service account, discovers the mailbox of `account` (or the
 * service account's own), and reports: sync-collection and multiget (the chosen
 * collections' supported-report-set), getctag (one PROPFIND), automatic scheduling (the DAV
 * header), and — by trying — VJOURNAL calendars and dead properties, which decide the
 * marker placement. An existing marker calendar means placement `collection` without a
 * trial. Otherwise the VJOURNAL trial makes the marker calendar where the first sync would
 * (`makeJournalCalendar`), puts a throwaway note in it and deletes the note; in a user's
 * mailbox the calendar stays when it took the note, because the sync would make it anyway
 * (in the service account's own, never synced, it goes) and a Cyrus admin
 * cannot delete a collection in a user's home: its DELETE answers 200 while only
 * withdrawing the admin's own access (the collection stays, the admin then gets 403). The
 * property trial sets a throwaway dead property and removes it.
 *
 * On Cyrus the property trial moves the synced collection's sync token and getctag (a
 * PROPPATCH counts as a change there): the next express sync then pays one empty change
 * list, nothing more.
 *
 * Throws the `LiaisonError` of the first request that fails (AccessDenied for a wrong
 * password, Unavailable for an unreachable server, NotFound for an unknown user, or for no
 * `account` when the service account has no mailbox of its own, as a Cyrus admin).
 */
export async function testDavServer(
  config: DavServerConfig,
  account?: string,
  options: DavMailboxOptions = {},
): Promise<ServerCapabilities> {
  const server = new DavMailboxServer(config, options);
  try {
    const service = await server.discovery.service();
    if (account === undefined && service.homes.contacts === null && service.homes.calendar === null) {
      throw new LiaisonError(
        'NotFound',
        `${config.name}: the service account has no mailbox of its own (its principal ${service.principal} names no home set, as for a Cyrus admin): name a user whose mailbox to examine`,
        { context: { server: config.name } },
      );
    }
    const examined = account ?? service.principal;
    const mailbox = await server.mailbox(examined);
    const { client } = server;
    const context = { user: examined };
    const synced = [mailbox.collections.calendar, mailbox.collections.contacts].filter((c) => c !== null);

    let ctag = false;
    for (const collection of synced) {
      const ms = await client.propfind(
        collection.href,
        0,
        [{ ns: 'http://calendarserver.org/ns/', local: 'getctag' }],
        context,
      );
      ctag ||= ms.responses.some((r) => r.propstats.some((ps) => ps.status === 200 && ps.props.size > 0));
    }

    const home = mailbox.homes.calendar;
    const vjournal =
      home === null
        ? null
        : await journalCalendar(server, markerCollectionPath(home), examined, account !== undefined);

    const host = synced[0];
    let deadProperties: boolean | null = null;
    if (host !== undefined) {
      const trial = { ns: MARKER_PROPERTY.ns, local: trialName() };
      deadProperties = (await setProperty(client, host.href, trial, 'test', context)) === 'done';
      if (deadProperties) {
        await client.exchange(
          'PROPPATCH',
          host.href,
          { headers: { 'content-type': 'application/xml; charset=utf-8' }, body: proppatchBody([], [trial]) },
          context,
        );
      }
    }

    const markerPlacement: MarkerPlacement | null =
      options.markerPlacement ??
      (vjournal
        ? 'collection'
        : deadProperties
          ? 'property'
          : vjournal === null && deadProperties === null
            ? null
            : 'item');
    return {
      server: config.name,
      account: account ?? (config.auth.kind === 'basic' ? config.auth.username : null),
      principal: mailbox.principal,
      addressbook: mailbox.collections.contacts?.href ?? null,
      calendar: mailbox.collections.calendar?.href ?? null,
      syncCollection: synced.length > 0 ? synced.every((c) => c.syncCollection) : null,
      ctag: synced.length > 0 ? ctag : null,
      multiget: synced.length > 0 ? synced.every((c) => c.multiget) : null,
      vjournal,
      deadProperties,
      autoSchedule: mailbox.autoSchedule,
      markerPlacement,
    };
  } finally {
    await server.close();
  }
}

/**
 * Whether the marker calendar at `path` exists as a VJOURNAL calendar, or can be made and
 * takes a note (see `testDavServer`). A note of its own UID is used, so that an old marker
 * note elsewhere in the mailbox (placement `item`) cannot make a server that refuses one
 * UID in two calendars (Cyrus, RFC 4791 §5.3.2.1) refuse the trial.
 */
async function journalCalendar(
  server: DavMailboxServer,
  path: string,
  account: string,
  /** A user's mailbox, whose first sync would make the calendar anyway; else the service account's own. */
  synced: boolean,
): Promise<boolean> {
  const { client } = server;
  const context = { user: account, collection: path };
  const existing = await client.multistatus(
    'PROPFIND',
    path,
    0,
    propfindBody([RESOURCETYPE, SUPPORTED_COMPONENTS]),
    context,
  );
  if (!('status' in existing)) {
    // Some servers (Xandikos) answer 207 with a 404 inside for what does not exist.
    const self = existing.responses.find((r) => sameCollection(r.href, path));
    if (self !== undefined && (self.status ?? 200) < 300) return isCalendarFor(self, 'VJOURNAL');
  }
  if ((await makeJournalCalendar(client, path, MARKER_COLLECTION_NAME, context)) !== 'done') return false;
  const uid = trialName();
  const href = memberPath(path, `${uid}.ics`);
  const put = await client.exchange(
    'PUT',
    href,
    {
      headers: { 'content-type': 'text/calendar; charset=utf-8', 'if-none-match': '*' },
      body: formatMarkerNote({ collections: {} }).replace(/^UID:.*$/m, `UID:${uid}`),
    },
    { ...context, href },
  );
  const taken = put.status >= 200 && put.status < 300;
  // The service account's own mailbox is never synced: the calendar made for the trial goes.
  const keep = taken && synced;
  await client.exchange('DELETE', keep ? href : path, {}, keep ? { ...context, href } : context);
  return taken;
}
