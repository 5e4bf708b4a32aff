import type { Contact } from '../domain/contact.js';
import { propertyName, rawValue } from './content-lines.js';

/**
 * Whether a contact is a group of contacts rather than a person or an organization:
 * vCard 4.0 `KIND:group` (RFC 6350 §6.1.4), or Apple's `X-ADDRESSBOOKSERVER-KIND:group`
 * in a 3.0 card. A group is one user's own list: it never becomes a firm contact.
 */
export function isContactGroup(c: Contact): boolean {
  return c.extra.some((line) => {
    const name = propertyName(line);
    return (
      (name === 'KIND' || name === 'X-ADDRESSBOOKSERVER-KIND') &&
      rawValue(line).trim().toLowerCase() === 'group'
    );
  });
}
