import type { CollectionKind } from '../../src/domain/ids.js';

/** A small vCard 3.0 or VEVENT; `label` is the FN or SUMMARY the tests look for. */
export function itemText(kind: CollectionKind, uid: string, label: string): string {
  const lines =
    kind === 'contacts'
      ? ['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${label}`, `N:${label};;;;`, 'END:VCARD']
      : [
          'BEGIN:VCALENDAR',
          'VERSION:2.0',
          'PRODID:-//Liaison//Contract test//EN',
          'BEGIN:VEVENT',
          `UID:${uid}`,
          'DTSTAMP:20240501T100000Z',
          'DTSTART:20240601T090000Z',
          'DTEND:20240601T100000Z',
          `SUMMARY:${label}`,
          'END:VEVENT',
          'END:VCALENDAR',
        ];
  return `${lines.map(fold).join('\r\n')}\r\n`;
}

/** RFC 5545 §3.1 / RFC 6350 §3.2 folding at 75 octets, so long UIDs stay valid for real servers. */
function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  for (const ch of line) {
    if (Buffer.byteLength(current + ch, 'utf8') > (parts.length === 0 ? 75 : 74)) {
      parts.push(current);
      current = '';
    }
    current += ch;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** Undoes line folding, so tests can look for a value wherever a server folded it. */
export function unfold(text: string): string {
  return text.replace(/\r?\n[ \t]/g, '');
}
