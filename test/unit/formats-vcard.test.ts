import { describe, expect, it } from 'vitest';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid } from '../../src/domain/ids.js';
import { contactCodec } from '../../src/formats/contact-codec.js';
import { parseVCard, serializeVCard } from '../../src/formats/vcard.js';

const UID = asUid('test-uid');

function card(...lines: string[]): string {
  return ['BEGIN:VCARD', 'VERSION:3.0', 'UID:test-uid', ...lines, 'END:VCARD', ''].join('\r\n');
}

/** The logical (unfolded) lines of serialized text. */
function logicalLines(text: string): string[] {
  return text.replace(/\r\n[ \t]/g, '').split('\r\n');
}

function hashOf(text: string): string {
  return contactCodec.hash(contactCodec.fields(parseVCard(text, UID)));
}

function expectInvalid(text: string): void {
  let caught: unknown;
  try {
    parseVCard(text, UID);
  } catch (e) {
    caught = e;
  }
  expect(isLiaisonError(caught, 'InvalidData'), String(caught)).toBe(true);
}

describe('reading vCard text values', () => {
  it('un-escapes \\; in single TEXT values, which ical.js leaves escaped', () => {
    const c = parseVCard(card('FN:A\\; B', 'TITLE:x\\;y', 'NOTE:n\\;o'), UID);
    expect([c.formattedName, c.title, c.note]).toEqual(['A; B', 'x;y', 'n;o']);
  });

  it('reads every RFC 6350 §3.4 escape once, left to right', () => {
    const c = parseVCard(card('NOTE:a\\\\;b\\,c\\nd\\Ne\\\\n'), UID);
    expect(c.note).toBe('a\\;b,c\nd\ne\\n');
  });

  it('keeps an unescaped comma in a single TEXT value (no list split)', () => {
    expect(parseVCard(card('NOTE:one, two, three'), UID).note).toBe('one, two, three');
  });

  it('splits N, ADR and ORG only at unescaped semicolons', () => {
    const c = parseVCard(
      card(
        'N:Doe\\;Smith;Jane\\, Jr;;Dr.;',
        'ORG:A\\;B;Unit 1;Unit 2',
        'ADR;TYPE=home:;;1 Main\\; rear;Town;;1;X',
      ),
      UID,
    );
    expect(c.name).toEqual({
      prefix: 'Dr.',
      given: 'Jane, Jr',
      additional: '',
      family: 'Doe;Smith',
      suffix: '',
    });
    expect(c.organization).toBe('A;B');
    expect(c.department).toBe('Unit 1;Unit 2');
    expect(c.addresses[0]?.street).toBe('1 Main; rear');
  });

  it('keeps a semicolon within an organizational unit apart from the units, through a round trip', () => {
    const c = parseVCard(card('ORG:Société Générale\\, Paris;R&D\\; Labs;Team 2'), UID);
    expect(c.organization).toBe('Société Générale, Paris');
    expect(c.department).toBe('R&D\\; Labs;Team 2');
    expect(logicalLines(serializeVCard(c))).toContain('ORG:Société Générale\\, Paris;R&D\\; Labs;Team 2');
  });

  it('splits CATEGORIES at unescaped commas only', () => {
    expect(parseVCard(card('CATEGORIES:a\\,b,c\\\\,d'), UID).categories).toEqual(['a,b', 'c\\', 'd']);
  });

  it('reads Apple-escaped URL colons', () => {
    expect(parseVCard(card('URL:https\\://example.com/a'), UID).urls).toEqual([
      { types: [], value: 'https://example.com/a' },
    ]);
  });
});

describe('writing vCard text values', () => {
  const tricky: Contact = {
    ...emptyContact(UID),
    name: { prefix: '', given: 'Jane; Q', additional: '', family: 'Doe, Jr', suffix: '' },
    formattedName: 'Doe, Jane; Q \\ "x"',
    organization: 'Smith, Jones; Co',
    department: 'Tax',
    note: 'line 1\nline 2, with; all \\ of them',
    categories: ['a,b', 'c;d'],
    addresses: [
      {
        types: ['work'],
        poBox: '',
        extended: 'Floor 3; east',
        street: '1 Main St\nBldg B',
        locality: 'Town, County',
        region: '',
        postalCode: '1',
        country: 'X',
      },
    ],
  };

  it('escapes backslash, semicolon, comma and newline (RFC 2426 §5)', () => {
    const lines = logicalLines(serializeVCard(tricky));
    expect(lines).toContain('FN:Doe\\, Jane\\; Q \\\\ "x"');
    expect(lines).toContain('N:Doe\\, Jr;Jane\\; Q;;;');
    expect(lines).toContain('ORG:Smith\\, Jones\\; Co;Tax');
    expect(lines).toContain('NOTE:line 1\\nline 2\\, with\\; all \\\\ of them');
    expect(lines).toContain('CATEGORIES:a\\,b,c\\;d');
    expect(lines).toContain('ADR;TYPE=work:;Floor 3\\; east;1 Main St\\nBldg B;Town\\, County;;1;X');
  });

  it('reads back exactly what it wrote', () => {
    const back = parseVCard(serializeVCard(tricky), UID);
    expect(contactCodec.fields(back)).toEqual(contactCodec.fields(tricky));
  });

  it('always writes FN and N, deriving FN when the contact has none', () => {
    const lines = logicalLines(
      serializeVCard({
        ...emptyContact(UID),
        name: { ...emptyContact(UID).name, given: 'Ann', family: 'Lee' },
      }),
    );
    expect(lines).toContain('FN:Ann Lee');
    expect(lines).toContain('N:Lee;Ann;;;');
  });

  it('folds long lines at 75 octets without splitting a character', () => {
    const text = serializeVCard({ ...emptyContact(UID), note: 'ü'.repeat(100) + '🤝'.repeat(30) });
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line)).toBeLessThanOrEqual(75);
    expect(text).not.toContain('\uFFFD');
    expect(parseVCard(text, UID).note).toBe('ü'.repeat(100) + '🤝'.repeat(30));
  });
});

describe('vCard versions and leftovers', () => {
  it('reads vCard 2.1 bare types, QUOTED-PRINTABLE with CHARSET, and soft line breaks', () => {
    const text = [
      'BEGIN:VCARD',
      'VERSION:2.1',
      'N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Gro=DF;J=F6rg;;;',
      'TEL;WORK;VOICE:+49 1',
      'EMAIL;INTERNET;PREF:a@b.example',
      'NOTE;ENCODING=QUOTED-PRINTABLE:a=0D=0Ab=',
      'c',
      'END:VCARD',
    ].join('\r\n');
    const c = parseVCard(text, UID);
    expect(c.name.family).toBe('Groß');
    expect(c.name.given).toBe('Jörg');
    expect(c.phones).toEqual([{ types: ['work', 'voice'], value: '+49 1' }]);
    expect(c.emails).toEqual([{ types: ['internet', 'pref'], value: 'a@b.example' }]);
    expect(c.note).toBe('a\nbc');
  });

  it('reads vCard 4.0 tel: URIs as plain numbers and PREF=1 as the pref type', () => {
    const c = parseVCard(
      [
        'BEGIN:VCARD',
        'VERSION:4.0',
        'FN:X',
        'TEL;VALUE=uri;TYPE="voice,cell";PREF=1:tel:+1-555-0100',
        'EMAIL;PREF=2:b@x.example',
        'END:VCARD',
      ].join('\r\n'),
      UID,
    );
    expect(c.phones).toEqual([{ types: ['voice', 'cell', 'pref'], value: '+1-555-0100' }]);
    expect(c.emails).toEqual([{ types: [], value: 'b@x.example' }]);
  });

  it('rewrites vCard 4.0 media for 3.0: data: URIs become ENCODING=b, other URIs get VALUE=uri', () => {
    const c = parseVCard(
      [
        'BEGIN:VCARD',
        'VERSION:4.0',
        'FN:X',
        'PHOTO:data:image/jpeg;base64,AAAA',
        'LOGO;MEDIATYPE=image/png:https://example.com/logo.png',
        'END:VCARD',
      ].join('\r\n'),
      UID,
    );
    expect(c.extra).toEqual([
      'VERSION:4.0',
      'PHOTO;ENCODING=b;TYPE=JPEG:AAAA',
      'LOGO;VALUE=uri:https://example.com/logo.png',
    ]);
    // …and back for 4.0, since the card is written back as 4.0.
    const lines = logicalLines(serializeVCard(c));
    expect(lines).toContain('PHOTO:data:image/jpeg;base64,AAAA');
    expect(lines).toContain('LOGO:https://example.com/logo.png');
  });

  it('writes a card read as 4.0 back as 4.0, after an edit too, with its 4.0-only properties valid there', () => {
    const group = [
      'BEGIN:VCARD',
      'VERSION:4.0',
      'UID:grp4',
      'KIND:group',
      'FN:Partners',
      'MEMBER:urn:uuid:b',
      'MEMBER:urn:uuid:a',
      'GENDER:F',
      'ANNIVERSARY:20150612',
      'BDAY:--0415',
      'EMAIL;TYPE=work;PREF=1:partners@example.com',
      'TEL;VALUE=uri;TYPE=cell:tel:+39-02-555-0142',
      'TEL;VALUE=uri;TYPE=work:tel:+49-30-555;ext=12',
      'TEL;TYPE=home:+44 20 7946 1003',
      'END:VCARD',
    ].join('\r\n');
    const read = contactCodec.parse(group, UID);
    const edited = contactCodec.fromFields(read.uid, { ...contactCodec.fields(read), title: 'Board' });
    const written = contactCodec.serialize(edited);
    const lines = logicalLines(written);
    expect(lines[1]).toBe('VERSION:4.0');
    expect(lines).toEqual(
      expect.arrayContaining([
        'KIND:group',
        'MEMBER:urn:uuid:b',
        'MEMBER:urn:uuid:a',
        'GENDER:F',
        'ANNIVERSARY:20150612',
        'BDAY:--0415',
        'EMAIL;TYPE=work;PREF=1:partners@example.com',
        'TITLE:Board',
        // Phones stay tel: URIs where they can be, an extension included; one with spaces stays text.
        'TEL;VALUE=uri;TYPE=cell:tel:+39-02-555-0142',
        'TEL;VALUE=uri;TYPE=work:tel:+49-30-555;ext=12',
        'TEL;TYPE=home:+44 20 7946 1003',
      ]),
    );
    expect(lines.filter((l) => l.startsWith('VERSION'))).toHaveLength(1);
    expect(written).not.toMatch(/TYPE=[^:;]*pref/i);
    // Read again, it is the same card: no rewrite on the next sync.
    const again = contactCodec.parse(written, UID);
    expect(contactCodec.fields(again)).toEqual(contactCodec.fields(edited));
    expect(contactCodec.serialize(again)).toBe(written);
    // A card read as 3.0 stays 3.0.
    expect(logicalLines(contactCodec.serialize(contactCodec.parse(card('FN:Jo'), UID)))[1]).toBe(
      'VERSION:3.0',
    );
  });

  it('keeps a 4.0 PREF other than 1 on its value through a rewrite; PREF=1 stays the preferred one', () => {
    const text = [
      'BEGIN:VCARD',
      'VERSION:4.0',
      'UID:ranked',
      'FN:Ranked',
      'EMAIL;TYPE=work;PREF=1:first@example.com',
      'EMAIL;TYPE=home;PREF=2:second@example.com',
      'END:VCARD',
    ].join('\r\n');
    const c = contactCodec.parse(text, UID);
    const written = logicalLines(
      contactCodec.serialize(contactCodec.fromFields(c.uid, contactCodec.fields(c))),
    );
    expect(written).toContain('EMAIL;TYPE=work;PREF=1:first@example.com');
    expect(written).toContain('EMAIL;TYPE=home;PREF=2:second@example.com');
  });

  it('keeps a birthday given as text as text, in 3.0 and in 4.0', () => {
    for (const version of ['3.0', '4.0']) {
      const text = card('FN:Old Timer', 'BDAY;VALUE=text:circa 1800').replace(
        'VERSION:3.0',
        `VERSION:${version}`,
      );
      const c = contactCodec.parse(text, UID);
      expect(c.birthday).toBe('');
      const written = logicalLines(
        contactCodec.serialize(contactCodec.fromFields(c.uid, contactCodec.fields(c))),
      );
      expect(written).toContain('BDAY;VALUE=TEXT:circa 1800');
    }
  });

  it('gives the same hash for the same card in 3.0 and 4.0 syntax', () => {
    const v3 = card(
      'FN:Jane Doe',
      'N:Doe;Jane;;;',
      'EMAIL;TYPE=INTERNET,WORK,pref:Jane@Example.com',
      'TEL;TYPE=CELL:+1 555',
      'BDAY:1980-02-03',
      'PHOTO;ENCODING=b;TYPE=JPEG:AAAA',
    );
    const v4 = [
      'BEGIN:VCARD',
      'VERSION:4.0',
      'UID:test-uid',
      'FN:Jane Doe',
      'N:Doe;Jane;;;',
      'KIND:individual',
      'EMAIL;TYPE=work;PREF=1:jane@example.com',
      'TEL;VALUE=uri;TYPE=cell:tel:+1 555',
      'BDAY:19800203',
      'PHOTO:data:image/jpeg;base64,AAAA',
      'END:VCARD',
    ].join('\r\n');
    expect(hashOf(v4)).toBe(hashOf(v3));
  });

  it('uses the fallback UID, and derives FN from N, then ORG', () => {
    const noUid = 'BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Ann;;Ms.;\r\nEND:VCARD\r\n';
    const c = parseVCard(noUid, asUid('fallback-1'));
    expect(c.uid).toBe('fallback-1');
    expect(c.formattedName).toBe('Ms. Ann Lee');
    expect(parseVCard(card('ORG:Acme'), UID).formattedName).toBe('Acme');
  });

  it('maps CLASS:PRIVATE and CONFIDENTIAL to private and keeps other classes as extra', () => {
    expect(parseVCard(card('CLASS:PRIVATE'), UID).private).toBe(true);
    expect(parseVCard(card('CLASS:confidential'), UID).private).toBe(true);
    expect(parseVCard(card('CLASS:PUBLIC'), UID).private).toBe(false);
    const other = parseVCard(card('CLASS:X-TEAM'), UID);
    expect([other.private, other.extra]).toEqual([false, ['CLASS:X-TEAM']]);
    expect(logicalLines(serializeVCard({ ...emptyContact(UID), private: true }))).toContain('CLASS:PRIVATE');
  });

  it('keeps a second FN or NOTE and an unreadable BDAY as extra lines', () => {
    const c = parseVCard(
      card('FN:One', 'FN;LANGUAGE=de:Eins', 'NOTE:a', 'NOTE:b', 'BDAY;VALUE=text:circa 1800'),
      UID,
    );
    expect([c.formattedName, c.note, c.birthday]).toEqual(['One', 'a', '']);
    expect(c.extra).toEqual(['FN;LANGUAGE=de:Eins', 'NOTE:b', 'BDAY;VALUE=text:circa 1800']);
  });

  it('reads year-less birthdays, including Apple X-APPLE-OMIT-YEAR', () => {
    expect(parseVCard(card('BDAY:--0415'), UID).birthday).toBe('--04-15');
    expect(parseVCard(card('BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15'), UID).birthday).toBe('--04-15');
    expect(parseVCard(card('BDAY:19800415T000000Z'), UID).birthday).toBe('1980-04-15');
    const impossible = parseVCard(card('BDAY:1980-13-45'), UID);
    expect([impossible.birthday, impossible.extra]).toEqual(['', ['BDAY:1980-13-45']]);
  });
});

describe('unknown properties and parameters', () => {
  const text = card(
    'FN:X',
    'X-CUSTOM;X-QUOTED="a;b:c";x-plain=v:value\\, with comma',
    'item7.X-ABLabel:Assistant',
    'item7.TEL;type=WORK;X-EXT=12:+1 555 0100',
    'IMPP;X-SERVICE-TYPE=Skype:skype:someone',
    `X-LONG:${'z'.repeat(200)}`,
    'EMAIL;TYPE=work;X-ORIGIN=crm:Someone@Example.com',
  );

  it('keeps unmodelled lines verbatim in extra and writes them back verbatim', () => {
    const c = parseVCard(text, UID);
    expect(c.extra).toContain('X-CUSTOM;X-QUOTED="a;b:c";x-plain=v:value\\, with comma');
    expect(c.extra).toContain('item7.X-ABLabel:Assistant');
    const lines = logicalLines(serializeVCard(c));
    for (const line of [
      'X-CUSTOM;X-QUOTED="a;b:c";x-plain=v:value\\, with comma',
      'item7.X-ABLabel:Assistant',
      'IMPP;X-SERVICE-TYPE=Skype:skype:someone',
      `X-LONG:${'z'.repeat(200)}`,
    ]) {
      expect(lines).toContain(line);
    }
  });

  it('gives grouped and parameterised modelled properties their group and parameters back', () => {
    const c = parseVCard(text, UID);
    const lines = logicalLines(serializeVCard(c));
    expect(lines).toContain('item7.TEL;TYPE=work;X-EXT=12:+1 555 0100');
    expect(lines).toContain('EMAIL;TYPE=work;X-ORIGIN=crm:Someone@Example.com');
    const rebuilt = logicalLines(serializeVCard(contactCodec.fromFields(UID, contactCodec.fields(c))));
    expect(rebuilt).toContain('item7.TEL;TYPE=work;X-EXT=12:+1 555 0100');
    expect(rebuilt).toContain('EMAIL;TYPE=work;X-ORIGIN=crm:someone@example.com');
    expect(rebuilt).toContain('item7.X-ABLabel:Assistant');
  });

  it('drops the group and parameters of a value that was changed or removed', () => {
    const c = parseVCard(text, UID);
    const changed = serializeVCard({ ...c, phones: [{ types: ['work'], value: '+1 555 0199' }] });
    expect(logicalLines(changed)).toContain('TEL;TYPE=work:+1 555 0199');
    expect(changed).not.toContain('X-EXT');
    expect(changed).not.toContain('+1 555 0100');
  });

  it('survives a round trip with the same meaning', () => {
    const first = parseVCard(text, UID);
    const second = parseVCard(serializeVCard(first), UID);
    expect(contactCodec.fields(second)).toEqual(contactCodec.fields(first));
  });
});

describe('content hash', () => {
  const base = card(
    'PRODID:-//One//EN',
    'REV:20240101T000000Z',
    'FN:Jane Doe',
    'N:Doe;Jane;;;',
    'EMAIL;TYPE=work,internet:jane@example.com',
    'TEL;TYPE=cell,voice:+1 555',
    'X-CUSTOM;B=2;A=1:v',
    `NOTE:${'long note '.repeat(12)}`,
  );

  // The spelling of an X- name counts: clients look such names up as they wrote them.
  it('ignores REV, PRODID, X-RADICALE-*, folding, line ends, parameter order and letter case', () => {
    const rewritten = base
      .replace('PRODID:-//One//EN', 'PRODID:-//Two//EN')
      .replace('REV:20240101T000000Z', 'REV:20250505T050505Z\r\nX-RADICALE-NAME:x.vcf')
      .replace('TYPE=work,internet', 'type=INTERNET;type=WORK')
      .replace('TYPE=cell,voice', 'TYPE=VOICE,CELL')
      .replace('X-CUSTOM;B=2;A=1', 'X-CUSTOM;a=1;b=2')
      .replace('jane@example.com', 'Jane@Example.COM')
      .replace(/(.{30})/g, '$1\r\n ')
      .replace(/\r\n(?! )/g, '\n');
    expect(rewritten).not.toBe(base);
    expect(hashOf(rewritten)).toBe(hashOf(base));
  });

  it('changes when content changes', () => {
    expect(hashOf(base.replace('+1 555', '+1 556'))).not.toBe(hashOf(base));
    expect(hashOf(base.replace('X-CUSTOM;B=2;A=1:v', 'X-CUSTOM;B=2;A=1:w'))).not.toBe(hashOf(base));
    expect(hashOf(base.replace('TYPE=cell,voice', 'TYPE=home'))).not.toBe(hashOf(base));
  });
});

describe('malformed vCards', () => {
  it.each([
    ['empty text', ''],
    ['plain text', 'hello\r\nworld\r\n'],
    ['no END', 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\n'],
    ['no BEGIN', 'VERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n'],
    ['two cards', `${card('FN:A')}${card('FN:B')}`],
    ['a calendar', 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'],
    ['a line without colon', card('FN:X', 'garbage')],
    ['an unclosed quote', card('EMAIL;TYPE="work:a@b')],
    ['an END that closes something else', 'BEGIN:VCARD\r\nFN:X\r\nEND:VCALENDAR\r\n'],
    ['a nested card', card('FN:X', 'BEGIN:VCARD', 'FN:Y', 'END:VCARD')],
  ])('rejects %s with InvalidData', (_what, text) => expectInvalid(text));
});
