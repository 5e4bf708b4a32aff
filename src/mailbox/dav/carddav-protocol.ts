/** CardDAV (RFC 6352) plugged into the WebDAV core. */
import type { CollectionProtocol } from './collection-protocol.js';
import { propChildNames } from './multistatus.js';
import { extendedMkcolBody } from './request-bodies.js';
import { CARDDAV_NS, clark, DAV_NS, type XmlName } from './xml-element.js';

const ADDRESSBOOK: XmlName = { ns: CARDDAV_NS, local: 'addressbook' };
const RESOURCETYPE: XmlName = { ns: DAV_NS, local: 'resourcetype' };

/** CardDAV's names, media type and extended MKCOL, for the address book. */
export const CARDDAV: CollectionProtocol = {
  kind: 'contacts',
  resourceType: ADDRESSBOOK,
  homeSet: { ns: CARDDAV_NS, local: 'addressbook-home-set' },
  multiget: { ns: CARDDAV_NS, local: 'addressbook-multiget' },
  data: { ns: CARDDAV_NS, local: 'address-data' },
  // RFC 6352 §5.1: vCard 3.0 is what every CardDAV server must accept.
  contentType: 'text/vcard; charset=utf-8',
  defaultNames: ['default', 'contacts', 'addressbook', 'address book', 'personal'],
  listingProps: [],
  suitable: (response) => propChildNames(response, RESOURCETYPE).includes(clark(ADDRESSBOOK)),
  // RFC 6352 §6.3.1 makes address books with extended MKCOL (RFC 5689).
  makeCollection: (displayName) => ({ method: 'MKCOL', body: extendedMkcolBody([ADDRESSBOOK], displayName) }),
};
