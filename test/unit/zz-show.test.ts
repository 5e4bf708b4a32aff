import { readFileSync } from 'node:fs';
import { test } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { contactCodec } from '../../src/formats/contact-codec.js';
import { serializeEvent } from '../../src/formats/icalendar.js';

test('show', () => {
  for (const f of ['apple-grouped', 'modern-4.0', 'escaping']) {
    const c = contactCodec.parse(readFileSync(`test/fixtures/vcard/${f}.vcf`, 'utf8'), asUid('x'));
    console.log(contactCodec.serialize(c));
    console.log(contactCodec.serialize(contactCodec.fromFields(c.uid, contactCodec.fields(c))));
  }
  for (const f of ['weekly-override-exdate', 'simple-utc', 'broken-vtimezone', 'unbounded-confidential']) {
    const a = appointmentCodec.parse(readFileSync(`test/fixtures/ical/${f}.ics`, 'utf8'), asUid('x'));
    console.log(
      serializeEvent(appointmentCodec.fromFields(a.uid, appointmentCodec.fields(a)), { now: new Date(0) }),
    );
  }
});
