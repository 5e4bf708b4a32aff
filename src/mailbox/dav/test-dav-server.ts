/**
 * `liaison server test`: what a configured DAV server offers, found by asking it.
 */

import { formatMarkerNote } from '../marker-note-text.js';
import type { DavServerConfig, MarkerPlacement, ServerCapabilities } from './dav-config.js';
import { withSlash } from './dav-href.js';
import { type DavMailboxOptions, DavMailboxServer } from './dav-mailbox-server.js';
import { makeJournalCalendar, markerCollectionPath, setProperty, trialName } from './dav-marker.js';
import { MARKER_PROPERTY } from './marker-location.js';
import { propfindBody, proppatchBody } from './request-bodies.js';
import { DAV_NS } from './xml-element.js';

/**
 * Connects with the server's service account, discovers the mailbox of `account` (or the
 * service account's own), and reports: sync-collection and multiget (the chosen
 * collections' supported-report-set), getctag (one PROPFIND), automatic scheduling (the DAV
 * header), and — by trying — VJOURNAL calendars and dead properties, which decide the
 * marker placement. The trials make a throwaway calendar and property and remove them; an
 * existing marker calendar means placement `collection` without a trial.
 *
 * Throws the `LiaisonError` of the first request that fails (AccessDenied for a wrong
 * password, Unavailable for an unreachable server, NotFound for an unknown user).
 */
export async function testDavServer(
  config: DavServerConfig,
  account?: string,
  options: DavMailboxOptions = {},
): Promise<ServerCapabilities> {
  const server = new DavMailboxServer(config, options);
  try {
    const service = await server.discovery.service();
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
    let vjournal = false;
    if (home !== null) {
      const existing = await client.multistatus(
        'PROPFIND',
        markerCollectionPath(home),
        0,
        propfindBody([{ ns: DAV_NS, local: 'resourcetype' }]),
        context,
      );
      vjournal = !('status' in existing) || (await tryJournalCalendar(server, home, examined));
    }

    const host = synced[0];
    let deadProperties = false;
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

    const markerPlacement: MarkerPlacement =
      options.markerPlacement ?? (vjournal ? 'collection' : deadProperties ? 'property' : 'item');
    return {
      server: config.name,
      account: account ?? (config.auth.kind === 'basic' ? config.auth.username : null),
      principal: mailbox.principal,
      addressbook: mailbox.collections.contacts?.href ?? null,
      calendar: mailbox.collections.calendar?.href ?? null,
      syncCollection: synced.length > 0 && synced.every((c) => c.syncCollection),
      ctag,
      multiget: synced.length > 0 && synced.every((c) => c.multiget),
      vjournal,
      deadProperties,
      autoSchedule: mailbox.autoSchedule,
      markerPlacement,
    };
  } finally {
    await server.close();
  }
}

/** Makes a VJOURNAL calendar, puts a note in it, and removes it: true when both worked. */
async function tryJournalCalendar(server: DavMailboxServer, home: string, account: string): Promise<boolean> {
  const { client } = server;
  const path = `${withSlash(home)}${trialName()}/`;
  const context = { user: account, collection: path };
  if ((await makeJournalCalendar(client, path, 'Liaison capability test', context)) !== 'done') return false;
  try {
    const put = await client.exchange(
      'PUT',
      `${path}note.ics`,
      {
        headers: { 'content-type': 'text/calendar; charset=utf-8' },
        body: formatMarkerNote({ collections: {} }),
      },
      context,
    );
    return put.status >= 200 && put.status < 300;
  } finally {
    await client.exchange('DELETE', path, {}, context);
  }
}
