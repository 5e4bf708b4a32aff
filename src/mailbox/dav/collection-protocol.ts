/**
 * What CardDAV and CalDAV add to WebDAV core, as one interface: the names of the resource
 * type, home set, multiget report and data property, the media type of items, and how a
 * collection is made. `carddav-protocol.ts` and `caldav-protocol.ts` plug in here; the
 * collection code never mentions calendars or address books by name.
 */
import type { CollectionKind } from '../../domain/ids.js';
import type { DavResponse } from './multistatus.js';
import type { XmlName } from './xml-element.js';

/** A request that creates a collection. */
export interface MakeCollection {
  readonly method: 'MKCOL' | 'MKCALENDAR';
  readonly body: string;
}

/** One protocol's part in a collection's requests (see the file comment). */
export interface CollectionProtocol {
  readonly kind: CollectionKind;
  /** The DAV:resourcetype child marking a collection of this kind. */
  readonly resourceType: XmlName;
  /** The principal property naming where the user's collections live. */
  readonly homeSet: XmlName;
  /** The REPORT reading many items at once. */
  readonly multiget: XmlName;
  /** The property holding an item's text. */
  readonly data: XmlName;
  /** Content-Type of an item sent with PUT. */
  readonly contentType: string;
  /** Names (segment or display name, lower case) that mark a user's default collection. */
  readonly defaultNames: readonly string[];
  /** Properties {@link suitable} needs, asked for when listing a home set. */
  readonly listingProps: readonly XmlName[];
  /** Whether a collection listed under a home set can hold this kind's items. */
  suitable(response: DavResponse): boolean;
  /** The request creating a collection of this kind called `displayName`. */
  makeCollection(displayName: string): MakeCollection;
}
