import { describe, expect, it } from 'vitest';
import { contactPatch, parseWhen } from '../../src/cli/item-flags.js';
import { type Contact, emptyContact } from '../../src/domain/contact.js';
import { isLiaisonError } from '../../src/domain/errors.js';
import { asUid } from '../../src/domain/ids.js';
import { rruleProblem } from '../../src/formats/rrule-check.js';

const usage = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isLiaisonError(e, 'Usage') ? e.message : `not a usage error: ${String(e)}`;
  }
  return 'accepted';
};

describe('dates and times given on the command line', () => {
  it('reads all-day dates, zoned, UTC and floating times', () => {
    expect(parseWhen('2026-12-01', undefined, '--start')).toEqual({ value: '2026-12-01', tzid: '' });
    expect(parseWhen('2026-12-01T09:30', 'Europe/Berlin', '--start')).toEqual({
      value: '2026-12-01T09:30:00',
      tzid: 'Europe/Berlin',
    });
    expect(parseWhen('2026-12-01T09:30+01:00', undefined, '--start')).toEqual({
      value: '2026-12-01T08:30:00Z',
      tzid: '',
    });
    expect(parseWhen('2026-12-01T09:30', undefined, '--start')).toEqual({
      value: '2026-12-01T09:30:00',
      tzid: '',
    });
  });
  it('refuses dates and times that do not exist, with the flag named', () => {
    expect(usage(() => parseWhen('tomorrow', undefined, '--start'))).toMatch(
      /--start tomorrow: not an ISO date/,
    );
    expect(usage(() => parseWhen('2026-02-30', undefined, '--start'))).toMatch(/no such date/);
    expect(usage(() => parseWhen('2026-13-01', undefined, '--end'))).toMatch(
      /--end 2026-13-01: no such date/,
    );
    expect(usage(() => parseWhen('2026-12-01T25:00', undefined, '--start'))).toMatch(/no such time/);
    expect(usage(() => parseWhen('2026-12-01T09:00', 'Mars/Olympus', '--start'))).toMatch(/IANA/);
    expect(usage(() => parseWhen('2026-12-01T09:00Z', 'Europe/Berlin', '--start'))).toMatch(/offset/);
  });
});

describe('recurrence rules given on the command line', () => {
  it('accepts sound rules', () => {
    expect(rruleProblem('FREQ=WEEKLY;BYDAY=MO,WE')).toBeNull();
    expect(rruleProblem('RRULE:FREQ=MONTHLY;COUNT=10;INTERVAL=2')).toBeNull();
    expect(rruleProblem('freq=daily;until=20271231T000000Z')).toBeNull();
  });
  it('names what is wrong', () => {
    expect(rruleProblem('FREQ=SOMETIMES')).toMatch(/FREQ=SOMETIMES/);
    expect(rruleProblem('BYDAY=MO')).toMatch(/FREQ is required/);
    expect(rruleProblem('FREQ=DAILY;COUNT=3;UNTIL=20270101')).toMatch(/COUNT and UNTIL/);
    expect(rruleProblem('FREQ=DAILY;COUNT=0')).toMatch(/COUNT/);
    expect(rruleProblem('FREQ=DAILY;BYFOO=1')).toMatch(/BYFOO/);
  });
});

describe('contact flags on an edit', () => {
  const current: Contact = {
    ...emptyContact(asUid('c1')),
    emails: [
      { types: ['work'], value: 'Ada@Example.com' },
      { types: ['home'], value: 'ada@home.example' },
    ],
    phones: [{ types: ['cell'], value: '+44 7700 900123' }],
  };

  it('keeps the types of the addresses and numbers given again, and gives new ones none', () => {
    const patch = contactPatch(
      { email: ['ada@example.com', 'new@example.com'], phone: ['+447700900123'] },
      current,
    );
    expect(patch.emails).toEqual([
      { types: ['work'], value: 'ada@example.com' },
      { types: [], value: 'new@example.com' },
    ]);
    expect(patch.phones).toEqual([{ types: ['cell'], value: '+447700900123' }]);
  });

  it('leaves what no flag names alone', () => {
    expect(contactPatch({ title: 'CFO' }, current)).toEqual({ title: 'CFO' });
  });
});
