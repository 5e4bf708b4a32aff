/** CalDAV (RFC 4791) plugged into the WebDAV core. */
import type { CollectionProtocol } from './collection-protocol.js';
import { type DavResponse, propChildNames, propOf } from './multistatus.js';
import { mkcalendarBody } from './request-bodies.js';
import { CALDAV_NS, childrenNamed, clark, DAV_NS, type XmlName } from './xml-element.js';

const CALENDAR: XmlName = { ns: CALDAV_NS, local: 'calendar' };
const RESOURCETYPE: XmlName = { ns: DAV_NS, local: 'resourcetype' };
/** RFC 4791 §5.2.3: the component types a calendar accepts; absent means any. */
export const SUPPORTED_COMPONENTS: XmlName = { ns: CALDAV_NS, local: 'supported-calendar-component-set' };

/** The components a calendar accepts (upper case), or null when it does not say (any). */
export function supportedComponents(response: DavResponse): string[] | null {
  const set = propOf(response, SUPPORTED_COMPONENTS);
  if (set === undefined) return null;
  return childrenNamed(set, { ns: CALDAV_NS, local: 'comp' }).map((c) =>
    (c.attributes.get('name') ?? '').toUpperCase(),
  );
}

/** Whether a listed collection is a calendar accepting `component`. */
export function isCalendarFor(response: DavResponse, component: string): boolean {
  if (!propChildNames(response, RESOURCETYPE).includes(clark(CALENDAR))) return false;
  const components = supportedComponents(response);
  return components === null || components.includes(component);
}

/** CalDAV's names, media type and MKCALENDAR, for the calendar collection. */
export const CALDAV: CollectionProtocol = {
  kind: 'calendar',
  resourceType: CALENDAR,
  homeSet: { ns: CALDAV_NS, local: 'calendar-home-set' },
  multiget: { ns: CALDAV_NS, local: 'calendar-multiget' },
  data: { ns: CALDAV_NS, local: 'calendar-data' },
  contentType: 'text/calendar; charset=utf-8',
  defaultNames: ['default', 'calendar', 'home', 'personal', 'events'],
  listingProps: [SUPPORTED_COMPONENTS],
  // Liaison syncs events: a task list or journal is not the user's calendar.
  suitable: (response) => isCalendarFor(response, 'VEVENT'),
  makeCollection: (displayName) => ({
    method: 'MKCALENDAR',
    body: mkcalendarBody(CALDAV_NS, displayName, ['VEVENT']),
  }),
};
