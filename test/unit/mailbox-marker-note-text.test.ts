import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMarkerNote, parseMarkerNote } from '../../src/mailbox/marker-note-text.js';

const NOW = new Date('2024-05-01T10:00:00.123Z');

const note = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
const journal = (...props: string[]) =>
  note([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'BEGIN:VJOURNAL',
    'UID:liaison-sync-marker',
    ...props,
    'END:VJOURNAL',
    'END:VCALENDAR',
  ]);

describe('formatMarkerNote', () => {
  const text = formatMarkerNote(
    { collections: { contacts: '2024-05-01T09:00:00.000Z', calendar: '2024-05-01T09:30:00.000Z' } },
    NOW,
  );

  it('writes one VJOURNAL in a VCALENDAR with one X- property per collection', () => {
    const unfolded = text.replace(/\r\n[ \t]/g, '');
    expect(unfolded.startsWith('BEGIN:VCALENDAR\r\nVERSION:2.0\r\n')).toBe(true);
    expect(unfolded).toContain(
      '\r\nBEGIN:VJOURNAL\r\nUID:liaison-sync-marker\r\nDTSTAMP:20240501T100000Z\r\n',
    );
    expect(unfolded).toContain('\r\nX-LIAISON-LAST-SYNC-CONTACTS:2024-05-01T09:00:00.000Z\r\n');
    expect(unfolded).toContain('\r\nX-LIAISON-LAST-SYNC-CALENDAR:2024-05-01T09:30:00.000Z\r\n');
    expect(unfolded).toMatch(/\r\nSUMMARY:Liaison sync marker - do not delete\r\n/);
    expect(unfolded).toMatch(/\r\nDESCRIPTION:[^\r]*Do not edit or delete it/);
    expect(unfolded.endsWith('END:VJOURNAL\r\nEND:VCALENDAR\r\n')).toBe(true);
  });

  it('ends every line with CRLF and folds none longer than 75 octets', () => {
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
  });

  it('omits the property of a collection never synced', () => {
    const only = formatMarkerNote({ collections: { calendar: 't' } }, NOW);
    expect(only).not.toContain('X-LIAISON-LAST-SYNC-CONTACTS');
    expect(parseMarkerNote(only)).toEqual({ collections: { calendar: 't' } });
  });
});

describe('parseMarkerNote', () => {
  it('reads back what formatMarkerNote wrote, whatever the time strings hold', () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ unit: 'grapheme', minLength: 1 }).filter((s) => s.trim() !== '')),
        fc.option(fc.string({ unit: 'grapheme', minLength: 1 }).filter((s) => s.trim() !== '')),
        (contacts, calendar) => {
          const collections = {
            ...(contacts === null ? {} : { contacts: contacts.replace(/\r\n?/g, '\n') }),
            ...(calendar === null ? {} : { calendar: calendar.replace(/\r\n?/g, '\n') }),
          };
          expect(parseMarkerNote(formatMarkerNote({ collections }, NOW))).toEqual({ collections });
        },
      ),
    );
  });

  it('accepts LF line ends, tab folding, lower-case names, parameters and a byte-order mark', () => {
    const text = `\uFEFF${journal(
      'x-liaison-last-sync-contacts;X-P="a:b":2024-05-01T09:',
      '\t00:00.000Z',
      'X-LIAISON-LAST-SYNC-CALENDAR:2024',
      ' -05-01',
    ).replace(/\r\n/g, '\n')}`;
    expect(parseMarkerNote(text)).toEqual({
      collections: { contacts: '2024-05-01T09:00:00.000Z', calendar: '2024-05-01' },
    });
  });

  it('ignores properties of other components and unknown collections', () => {
    const text = journal(
      'X-LIAISON-LAST-SYNC-TASKS:2024',
      'BEGIN:VALARM',
      'X-LIAISON-LAST-SYNC-CONTACTS:nested',
      'END:VALARM',
    );
    expect(parseMarkerNote(text)).toEqual({ collections: {} });
  });

  it.each([
    ['empty text', ''],
    ['not iCalendar', 'hello world\r\n'],
    ['a vCard', note(['BEGIN:VCARD', 'VERSION:3.0', 'FN:x', 'END:VCARD'])],
    ['no VJOURNAL', note(['BEGIN:VCALENDAR', 'VERSION:2.0', 'END:VCALENDAR'])],
    ['truncated', journal('X-LIAISON-LAST-SYNC-CONTACTS:2024').slice(0, 70)],
    ['unbalanced END', journal('BEGIN:VALARM', 'END:VTODO')],
    ['two VJOURNALs', journal('END:VJOURNAL', 'BEGIN:VJOURNAL')],
    ['a time given twice', journal('X-LIAISON-LAST-SYNC-CONTACTS:a', 'X-LIAISON-LAST-SYNC-CONTACTS:b')],
    ['an empty time', journal('X-LIAISON-LAST-SYNC-CALENDAR:')],
    ['a line without colon', journal('GARBAGE')],
    ['text after the calendar', `${journal()}BEGIN:VCALENDAR\r\n`],
  ])('refuses %s with InvalidData', (_, text) => {
    expect(() => parseMarkerNote(text)).toThrow(expect.objectContaining({ kind: 'InvalidData' }));
  });
});
