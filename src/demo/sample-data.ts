import type { Appointment, DateTimeValue } from '../domain/appointment.js';
import { emptyAppointment } from '../domain/appointment.js';
import { type Contact, emptyContact } from '../domain/contact.js';
import { asUid } from '../domain/ids.js';

/**
 * Realistic, reproducible sample contacts and appointments for the demo and the
 * benchmarks: a seeded generator, so two runs build the same data.
 */
export class SampleData {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  /** mulberry32: small, fast, good enough for sample data. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.next() * list.length)]!;
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** The n-th person of a population: the same n gives the same person on every side. */
  contact(n: number, uidPrefix: string): Contact {
    const given = GIVEN[n % GIVEN.length]!;
    const family = FAMILY[Math.floor(n / GIVEN.length) % FAMILY.length]!;
    const company = COMPANIES[(n * 7) % COMPANIES.length]!;
    const domain = `${company.toLowerCase().replace(/[^a-z]+/g, '')}.example`;
    const suffix =
      n >= GIVEN.length * FAMILY.length ? String(Math.floor(n / (GIVEN.length * FAMILY.length))) : '';
    const email = `${ascii(given)}.${ascii(family)}${suffix}@${domain}`;
    const base = emptyContact(asUid(`${uidPrefix}-${n}`));
    return {
      ...base,
      name: { prefix: n % 11 === 0 ? 'Dr.' : '', given, additional: '', family, suffix: '' },
      formattedName: `${n % 11 === 0 ? 'Dr. ' : ''}${given} ${family}`,
      organization: company,
      department: n % 3 === 0 ? this.pick(DEPARTMENTS) : '',
      title: this.pick(TITLES),
      emails: [{ types: ['work'], value: email }],
      phones: [
        { types: ['work', 'voice'], value: `+44 20 7946 ${String(1000 + (n % 9000)).padStart(4, '0')}` },
        ...(n % 2 === 0
          ? [{ types: ['cell'], value: `+44 7700 ${String(900000 + (n % 99999)).slice(0, 6)}` }]
          : []),
      ],
      addresses:
        n % 4 === 0
          ? [
              {
                types: ['work'],
                poBox: '',
                extended: '',
                street: `${this.int(1, 200)} ${this.pick(STREETS)}`,
                locality: this.pick(CITIES),
                region: '',
                postalCode: `EC${this.int(1, 4)}A ${this.int(1, 9)}BB`,
                country: 'United Kingdom',
              },
            ]
          : [],
      birthday: n % 9 === 0 ? `19${this.int(55, 99)}-${pad(this.int(1, 12))}-${pad(this.int(1, 28))}` : '',
      note: n % 5 === 0 ? `Met at the ${this.pick(EVENTS)}; follow up about ${this.pick(MATTERS)}.` : '',
      categories: n % 6 === 0 ? [this.pick(CATEGORIES)] : [],
    };
  }

  /** An appointment around `now`: mostly single meetings, some weekly series, some all-day. */
  appointment(n: number, uidPrefix: string, now: Date): Appointment {
    const day = new Date(now.getTime() + this.int(-90, 180) * 86_400_000);
    const date = day.toISOString().slice(0, 10);
    const zone = this.pick(ZONES);
    const summary = `${this.pick(MEETINGS)} — ${this.pick(MATTERS)}`;
    if (n % 10 === 9) {
      const start: DateTimeValue = { value: date, tzid: '' };
      const end: DateTimeValue = {
        value: new Date(day.getTime() + 86_400_000).toISOString().slice(0, 10),
        tzid: '',
      };
      return {
        ...emptyAppointment(asUid(`${uidPrefix}-${n}`), start, end),
        summary: `Out of office: ${this.pick(CITIES)}`,
      };
    }
    const hour = this.int(8, 17);
    const start: DateTimeValue = { value: `${date}T${pad(hour)}:${this.pick(['00', '30'])}:00`, tzid: zone };
    const end: DateTimeValue = {
      value: `${date}T${pad(hour + 1)}:${start.value.slice(14, 16)}:00`,
      tzid: zone,
    };
    const recurring = n % 7 === 0;
    return {
      ...emptyAppointment(asUid(`${uidPrefix}-${n}`), start, end),
      summary,
      location: n % 2 === 0 ? `${this.pick(ROOMS)}, ${this.pick(CITIES)} office` : '',
      description: n % 3 === 0 ? `Agenda: ${this.pick(MATTERS)}.` : '',
      rrule: recurring ? `FREQ=WEEKLY;COUNT=${this.int(4, 20)}` : '',
      categories: n % 5 === 0 ? [this.pick(CATEGORIES)] : [],
    };
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

const GIVEN = [
  'Alice',
  'Benjamin',
  'Charlotte',
  'Daniel',
  'Eleanor',
  'François',
  'Grace',
  'Henry',
  'Isabel',
  'James',
  'Katarzyna',
  'Liam',
  'María',
  'Noah',
  'Olivia',
  'Priya',
  'Quentin',
  'Rosa',
  'Samuel',
  'Thea',
  'Umar',
  'Valentina',
  'William',
  'Xiu',
  'Yusuf',
  'Zoë',
  'Aoife',
  'Björn',
  'Chloé',
  'Dmitri',
];
const FAMILY = [
  'Adams',
  'Baker',
  'Chen',
  'Dubois',
  'Evans',
  'Fischer',
  'García',
  'Hughes',
  'Ivanova',
  'Jones',
  'Kowalski',
  'Lopez',
  'Müller',
  "O'Brien",
  'Patel',
  'Quinn',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Underwood',
  'Virtanen',
  'Walsh',
  'Xu',
  'Young',
  'Zimmermann',
  'Novak',
  'Larsen',
  'Moreau',
  'Nakamura',
  'Okafor',
];
const COMPANIES = [
  'Acme Holdings',
  'Blackfriars Capital',
  'Cobalt Energy',
  'Dunmore & Reyes',
  'Evergreen Pharma',
  'Fairhaven Bank',
  'Granite Logistics',
  'Harbour Insurance',
  'Ironbridge Partners',
  'Juniper Retail',
  'Kestrel Aviation',
  'Lumen Media',
  'Meridian Shipping',
  'Northgate Estates',
  'Orchid Biotech',
  'Pemberton Trust',
];
const DEPARTMENTS = ['Legal', 'Finance', 'Procurement', 'Compliance', 'Corporate Development'];
const TITLES = [
  'General Counsel',
  'CFO',
  'Managing Director',
  'Partner',
  'Head of Legal',
  'Associate',
  'CEO',
  'Company Secretary',
];
const STREETS = [
  'Fleet Street',
  'Chancery Lane',
  'Cheapside',
  'Bishopsgate',
  'Gracechurch Street',
  'Moorgate',
];
const CITIES = ['London', 'Manchester', 'Edinburgh', 'Dublin', 'Frankfurt', 'New York'];
const EVENTS = [
  'M&A forum',
  'annual dinner',
  'arbitration conference',
  'client seminar',
  'bar association lunch',
];
const MATTERS = [
  'the merger',
  'the lease renewal',
  'the supply contract',
  'the IPO',
  'the employment claim',
  'the refinancing',
];
const CATEGORIES = ['Client', 'Prospect', 'Referrer', 'Opposing counsel', 'Expert'];
const MEETINGS = [
  'Client call',
  'Board meeting',
  'Deal review',
  'Lunch',
  'Witness interview',
  'Partner meeting',
];
const ROOMS = ['Room 4.01', 'Boardroom', 'Library', 'Room 2.12'];
const ZONES = ['Europe/London', 'Europe/London', 'Europe/Berlin', 'America/New_York'];

/** An e-mail-safe form of a name: accents dropped, letters only. */
function ascii(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
}
