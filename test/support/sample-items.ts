import { type Appointment, emptyAppointment } from '../../src/domain/appointment.js';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { asUid } from '../../src/domain/ids.js';

/** A contact with a name and an e-mail address derived from `uid`; `over` replaces fields. */
export function sampleContact(uid: string, over: Partial<Contact> = {}): Contact {
  return {
    ...emptyContact(asUid(uid)),
    name: { prefix: '', given: 'Ada', additional: '', family: `Lovelace ${uid}`, suffix: '' },
    formattedName: `Ada Lovelace ${uid}`,
    organization: 'Analytical Engines',
    emails: [{ types: ['work'], value: `Ada.${uid}@Example.org` }],
    ...over,
  };
}

/** A one-hour UTC appointment on 2030-05-06 at `hour`; `over` replaces fields. */
export function sampleAppointment(uid: string, hour = 9, over: Partial<Appointment> = {}): Appointment {
  const at = (h: number) => ({ value: `2030-05-06T${String(h).padStart(2, '0')}:00:00Z`, tzid: '' });
  return {
    ...emptyAppointment(asUid(uid), at(hour), at(hour + 1)),
    summary: `Meeting ${uid}`,
    ...over,
  };
}

/** A VCALENDAR object around `lines` (its components), CRLF line ends. */
export function calendarText(...lines: string[]): string {
  return ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//Test//EN', ...lines, 'END:VCALENDAR', ''].join('\r\n');
}
