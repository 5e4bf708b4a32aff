/**
 * Where Liaison's sync marker (SPEC §5) lives on a DAV server, in each of the three
 * placements. Shared by discovery (which must never take the marker's collection for the
 * user's calendar) and collections (which must never list the marker item).
 */
import { asUid } from '../../domain/ids.js';
import { itemName } from '../item-name.js';
import { MARKER_UID } from '../marker-note-text.js';
import type { XmlName } from './xml-element.js';

/** Last path segment of Liaison's own calendar in the calendar home (placement `collection`). */
export const MARKER_COLLECTION_SEGMENT = 'liaison-sync-marker';

/** Display name of that calendar: what a user sees if a client shows it. */
export const MARKER_COLLECTION_NAME = 'Liaison sync marker — do not delete';

/**
 * The item name of the marker note, in Liaison's calendar (placement `collection`) or in
 * the synced calendar (placement `item`): the name `itemName` gives its fixed UID.
 */
export const MARKER_ITEM_NAME: string = itemName(asUid(MARKER_UID), 'calendar');

/**
 * The dead property holding the marker note on the synced collection (placement
 * `property`). The namespace is a `urn:uuid:` URN (RFC 9562 §4): globally unique without
 * owning a domain, and no one else's properties can share it.
 */
export const MARKER_PROPERTY: XmlName = {
  ns: 'urn:uuid:6be03664-a67b-4f93-9c6b-5d250b65f6ca',
  local: 'liaison-sync-marker',
};
