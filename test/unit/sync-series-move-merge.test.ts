import { describe, expect, it } from 'vitest';
import { asHref, asUid } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { moveAppointment } from '../../src/formats/series-move.js';
import { memoryItemSync } from '../support/memory-sync.js';
import { calendarText } from '../support/sample-items.js';

const calendar = calendarText;

const MASTER = [
  'UID:move-vs-cancel',
  'DTSTAMP:20261201T000000Z',
  'DTSTART;TZID=Europe/London:20270104T090000',
  'DTEND;TZID=Europe/London:20270104T100000',
  'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=8',
  'SUMMARY:Move vs cancel',
];

describe('a series moved in the firm database while a phone cancels and moves occurrences', () => {
  it('carries the phone’s exceptions along with the move: none is lost, none shows twice', async () => {
    const { server, firm, sync } = await memoryItemSync(appointmentCodec);
    server.put('acct', 'calendar', 'series.ics', calendar('BEGIN:VEVENT', ...MASTER, 'END:VEVENT'));
    await sync();

    // The phone cancels 18 January and moves 25 January to 13:00…
    server.put(
      'acct',
      'calendar',
      'series.ics',
      calendar(
        'BEGIN:VEVENT',
        ...MASTER,
        'EXDATE;TZID=Europe/London:20270118T090000',
        'END:VEVENT',
        'BEGIN:VEVENT',
        'UID:move-vs-cancel',
        'DTSTAMP:20261201T000000Z',
        'RECURRENCE-ID;TZID=Europe/London:20270125T090000',
        'DTSTART;TZID=Europe/London:20270125T130000',
        'DTEND;TZID=Europe/London:20270125T140000',
        'SUMMARY:Phone-moved occurrence',
        'END:VEVENT',
      ),
    );
    // …while the firm moves the series from 09:00 to 11:00, as `appointments edit --start` does.
    const [id, series] = [...firm.items.entries()][0]!;
    firm.userPut(
      id,
      moveAppointment(
        series,
        { value: '2027-01-04T11:00:00', tzid: 'Europe/London' },
        { value: '2027-01-04T12:00:00', tzid: 'Europe/London' },
      ),
    );

    const report = await sync();

    expect(report.conflicts).toBe(1);
    const written = appointmentCodec.parse(
      server.items('acct', 'calendar').get(asHref('series.ics'))!,
      asUid('x'),
    );
    expect(written.start).toEqual({ value: '2027-01-04T11:00:00', tzid: 'Europe/London' });
    expect(written.exdates).toEqual([{ value: '2027-01-18T11:00:00', tzid: 'Europe/London' }]);
    expect(written.overrides.map((o) => o.recurrenceId)).toEqual([
      { value: '2027-01-25T11:00:00', tzid: 'Europe/London' },
    ]);
    expect(written.overrides[0]!.component).toContain('DTSTART;TZID=Europe/London:20270125T130000');
    expect(firm.items.get(id)).toMatchObject({ exdates: written.exdates });
    expect((await sync()).outcome).toBe('unchanged');
  });
});

describe('a series moved on both sides, to different times', () => {
  it('renames the losing side’s exceptions from its own start to the winner’s', async () => {
    const { server, firm, sync } = await memoryItemSync(appointmentCodec);
    const daily = (start: string, ...more: string[]) =>
      calendar(
        'BEGIN:VEVENT',
        'UID:both-moved',
        'DTSTAMP:20261201T000000Z',
        `DTSTART;TZID=Europe/Berlin:20270104T${start}`,
        'RRULE:FREQ=DAILY;COUNT=5',
        'SUMMARY:Daily',
        ...more,
        'END:VEVENT',
      );
    server.put('acct', 'calendar', 'daily.ics', daily('090000'));
    await sync();
    // The phone moves the series to 11:00 and cancels 6 January (at its new time)…
    server.put('acct', 'calendar', 'daily.ics', daily('110000', 'EXDATE;TZID=Europe/Berlin:20270106T110000'));
    // …while the firm moves it to 10:00; the firm's move wins.
    const [id, series] = [...firm.items.entries()][0]!;
    firm.userPut(id, moveAppointment(series, { value: '2027-01-04T10:00:00', tzid: 'Europe/Berlin' }, null));

    await sync();

    const written = appointmentCodec.parse(
      server.items('acct', 'calendar').get(asHref('daily.ics'))!,
      asUid('x'),
    );
    expect(written.start).toEqual({ value: '2027-01-04T10:00:00', tzid: 'Europe/Berlin' });
    expect(written.exdates).toEqual([{ value: '2027-01-06T10:00:00', tzid: 'Europe/Berlin' }]);
  });
});
