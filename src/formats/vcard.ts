/**
 * vCard in and out. Reads 2.1 leftovers, 3.0 and 4.0; writes 3.0, which every CardDAV server
 * must accept (RFC 6352 §5.1.1), except a card read as 4.0, which is written back as 4.0.
 */
import type { Contact } from '../domain/contact.js';
import { errorMessage, LiaisonError } from '../domain/errors.js';
import type { Uid } from '../domain/ids.js';
import { Anchors, writeAnchored } from './anchors.js';
import {
  buildComponents,
  excerpt,
  joinFolded,
  propertyName,
  type RawComponent,
  rawValue,
  unfoldLines,
} from './content-lines.js';
import { type ParsedProperty, parseProperty, VCARD3, VCARD4 } from './ical-property.js';
import { LIAISON_PRODID } from './product-id.js';
import { escapeText } from './text-values.js';
import { upgradeLegacyLine } from './vcard-legacy.js';
import { ContactReader, deriveFormattedName } from './vcard-reader.js';
import { departmentUnits, encodeAddress, encodeTypedValue, typeParam } from './vcard-values.js';
import { birthday4, extraLine4, isVersion4, telUri, typeParam4 } from './vcard4.js';

/** vCard properties whose group and unmodelled parameters are kept as anchors in `extra`. */
export const VCARD_ANCHORED: ReadonlySet<string> = new Set(['EMAIL', 'TEL', 'URL', 'ADR']);

/**
 * Parses one vCard (2.1, 3.0 or 4.0) into a contact. Unmodelled properties go to `extra` as
 * unfolded content lines, as written (vCard 2.1 syntax rewritten to 3.0, 4.0 media to 3.0).
 *
 * @param fallbackUid used when the card has no UID
 * @throws LiaisonError `InvalidData` when the text is not exactly one readable vCard
 */
export function parseVCard(text: string, fallbackUid: Uid): Contact {
  const card = readCard(text);
  const versionLine = card.lines.find((l) => propertyName(l) === 'VERSION');
  const v4 = versionLine !== undefined && rawValue(versionLine).trim() === '4.0';
  const design = v4 ? VCARD4 : VCARD3;
  const reader = new ContactReader(v4);
  card.lines.forEach((line, index) => {
    let p: ParsedProperty;
    try {
      p = parseProperty(upgradeLegacyLine(line), design);
    } catch (e) {
      throw new LiaisonError(
        'InvalidData',
        `vCard property ${index + 1} cannot be read (${errorMessage(e)}): ${excerpt(line)}`,
        { cause: e },
      );
    }
    reader.add(p);
  });
  return reader.contact(fallbackUid);
}

function readCard(text: string): RawComponent {
  if (text.trim() === '') throw new LiaisonError('InvalidData', 'not a vCard: the text is empty');
  const lines = unfoldLines(text, { quotedPrintable: true });
  const firstBegin = lines.find((l) => /^BEGIN:/i.test(l));
  if (firstBegin === undefined) {
    throw new LiaisonError(
      'InvalidData',
      `not a vCard: no BEGIN:VCARD line (starts with ${excerpt(lines[0] ?? '')})`,
    );
  }
  const roots = buildComponents(lines, 'vCard');
  const other = roots.find((c) => c.name !== 'VCARD');
  if (other) throw new LiaisonError('InvalidData', `not a vCard: it holds a ${other.name}, not a VCARD`);
  const [card, ...more] = roots;
  if (!card) throw new LiaisonError('InvalidData', 'not a vCard: no BEGIN:VCARD ... END:VCARD block');
  if (more.length > 0) {
    // RFC 6352 §5.1: an address object resource holds exactly one vCard.
    throw new LiaisonError(
      'InvalidData',
      `the text holds ${roots.length} vCards; one item holds exactly one`,
    );
  }
  const nested = card.children[0];
  if (nested) {
    throw new LiaisonError(
      'InvalidData',
      `vCard holds a nested BEGIN:${nested.name} block, which is not supported`,
    );
  }
  return card;
}

/**
 * Serializes a contact as vCard 3.0 text (4.0 for a card read as 4.0): CRLF line ends, lines folded at 75 octets
 * (RFC 2426 §2.6, RFC 6350 §3.2). FN and N are always written (RFC 2426 §3.1.1-2 requires them).
 * Extra lines are written as they are held; anchors give their group and parameters back to
 * the property they belong to.
 */
export function serializeVCard(contact: Contact): string {
  const anchors = new Anchors(contact.extra, VCARD_ANCHORED, VCARD3);
  const n = contact.name;
  // A card read as 4.0 is written as 4.0 (see vcard4.ts); any other as 3.0.
  const v4 = isVersion4(contact.extra);
  const types = v4 ? typeParam4 : typeParam;
  const lines = [
    'BEGIN:VCARD',
    v4 ? 'VERSION:4.0' : 'VERSION:3.0',
    `PRODID:${LIAISON_PRODID}`,
    `UID:${escapeText(contact.uid)}`,
  ];
  const fn = contact.formattedName.trim() === '' ? deriveFormattedName(contact) : contact.formattedName;
  lines.push(`FN:${escapeText(fn)}`);
  lines.push(`N:${[n.family, n.given, n.additional, n.prefix, n.suffix].map(escapeText).join(';')}`);
  if (contact.nickname !== '') lines.push(`NICKNAME:${escapeText(contact.nickname)}`);
  if (contact.organization !== '' || contact.department !== '') {
    const units = departmentUnits(contact.department);
    lines.push(`ORG:${[contact.organization, ...units].map(escapeText).join(';')}`);
  }
  if (contact.title !== '') lines.push(`TITLE:${escapeText(contact.title)}`);
  for (const e of contact.emails) {
    lines.push(writeAnchored(anchors, 'EMAIL', types(e.types), encodeTypedValue('EMAIL', e.value)));
  }
  for (const t of contact.phones) {
    const text = encodeTypedValue('TEL', t.value);
    // vCard 4.0 prefers a tel: URI (RFC 6350 §6.4.1); a number with spaces is no URI, and stays text.
    const uri = v4 ? telUri(t.value) : null;
    lines.push(
      uri === null
        ? writeAnchored(anchors, 'TEL', types(t.types), text)
        : writeAnchored(anchors, 'TEL', ['VALUE=uri', ...types(t.types)], text, uri),
    );
  }
  for (const a of contact.addresses) {
    lines.push(writeAnchored(anchors, 'ADR', types(a.types), encodeAddress(a)));
  }
  for (const u of contact.urls) {
    lines.push(writeAnchored(anchors, 'URL', types(u.types), encodeTypedValue('URL', u.value)));
  }
  if (contact.birthday !== '') lines.push(`BDAY:${v4 ? birthday4(contact.birthday) : contact.birthday}`);
  if (contact.note !== '') lines.push(`NOTE:${escapeText(contact.note)}`);
  if (contact.categories.length > 0) lines.push(`CATEGORIES:${contact.categories.map(escapeText).join(',')}`);
  if (contact.private) lines.push('CLASS:PRIVATE');
  for (const line of contact.extra) {
    const name = propertyName(line);
    if (VCARD_ANCHORED.has(name) || name === 'VERSION') continue;
    lines.push(v4 ? extraLine4(line) : line);
  }
  lines.push('END:VCARD');
  return joinFolded(lines);
}
