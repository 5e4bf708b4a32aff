import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUid } from '../../src/domain/ids.js';
import { parseEvent } from '../../src/formats/icalendar.js';
import type { RunReport } from '../../src/sync/report.js';
import { liaison, liaisonJson } from '../support/cli.js';

const UID = asUid('fallback-uid');

/*
 * Editing a recurring appointment in the firm database with the CLI, and what reaches the
 * mailbox (a vdir folder): moving the series moves its cancelled and changed occurrences.
 */

let dir: string;
let env: Record<string, string>;
let calendarDir: string;

const WEEKLY = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Test//EN',
  'BEGIN:VEVENT',
  'UID:weekly-team',
  'DTSTAMP:20261101T000000Z',
  'DTSTART;TZID=Europe/Berlin:20261102T090000',
  'DTEND;TZID=Europe/Berlin:20261102T100000',
  'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20',
  'EXDATE;TZID=Europe/Berlin:20261116T090000,20261130T090000',
  'SUMMARY:Team meeting',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:weekly-team',
  'DTSTAMP:20261101T000000Z',
  'RECURRENCE-ID;TZID=Europe/Berlin:20261123T090000',
  'DTSTART;TZID=Europe/Berlin:20261123T160000',
  'DTEND;TZID=Europe/Berlin:20261123T170000',
  'SUMMARY:Team meeting (afternoon)',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

const sync = (mode: 'express' | 'complete') =>
  liaisonJson<RunReport>(
    ['sync', '--all', '--mode', mode, '--scope', 'calendar', '--window-past', '3650'],
    env,
  );

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'liaison-e2e-appointments-'));
  env = { LIAISON_DB: join(dir, 'firm.db') };
  calendarDir = join(dir, 'mailboxes', 'alice', 'calendar');
  expect((await liaison(['init'], env)).code).toBe(0);
  expect(
    (await liaison(['server', 'add', 'files', '--kind', 'vdir', '--url', join(dir, 'mailboxes')], env)).code,
  ).toBe(0);
  const add = [
    'user',
    'add',
    'alice',
    '--name',
    'Alice Adams',
    '--server',
    'files',
    '--mailbox',
    'alice',
    '--calendar',
    'on',
  ];
  expect((await liaison(add, env)).code).toBe(0);
  writeFileSync(join(calendarDir, 'weekly-team.ics'), WEEKLY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('liaison appointments edit on a recurring appointment', () => {
  it('moves the series with its exceptions, keeps its zone and its length', async () => {
    expect((await sync('complete')).code).toBe(0);
    const list = await liaisonJson<{ id: string; uid: string }[]>(
      ['appointments', 'list', '--user', 'alice'],
      env,
    );
    const series = list.json.find((a) => a.uid === 'weekly-team');
    expect(series).toBeDefined();

    // No zone given: the appointment's own (Europe/Berlin) applies; no end given: one hour.
    const edit = await liaison(['appointments', 'edit', series!.id, '--start', '2026-11-02T10:00'], env);
    expect(edit.code).toBe(0);
    const run = await sync('express');
    expect(run.code).toBe(0);
    expect(run.json.collections[0]!.toMailbox.updated).toBe(1);

    const files = readdirSync(calendarDir).filter((f) => f.endsWith('.ics'));
    expect(files).toEqual(['weekly-team.ics']);
    const written = parseEvent(readFileSync(join(calendarDir, files[0]!), 'utf8'), UID);
    expect(written.start).toEqual({ value: '2026-11-02T10:00:00', tzid: 'Europe/Berlin' });
    expect(written.end).toEqual({ value: '2026-11-02T11:00:00', tzid: 'Europe/Berlin' });
    expect(written.exdates.map((e) => e.value)).toEqual(['2026-11-16T10:00:00', '2026-11-30T10:00:00']);
    expect(written.overrides.map((o) => o.recurrenceId.value)).toEqual(['2026-11-23T10:00:00']);
    // The occurrence moved to the afternoon stays where it was moved to.
    expect(written.overrides[0]!.component).toContain('DTSTART;TZID=Europe/Berlin:20261123T160000');

    // Read back, nothing is left to carry either way.
    const again = await sync('complete');
    expect(again.json.collections[0]!.outcome).toBe('unchanged');
  });

  it('moves a weekly series to another weekday, and asks for the rule when it names its days', async () => {
    const list = await liaisonJson<{ id: string; uid: string }[]>(
      ['appointments', 'list', '--user', 'alice'],
      env,
    );
    const weekly = list.json.find((a) => a.uid === 'weekly-team')!;
    expect(
      (await liaison(['appointments', 'edit', weekly.id, '--start', '2026-11-03T10:00'], env)).code,
    ).toBe(0);
    expect((await sync('express')).code).toBe(0);
    const written = parseEvent(readFileSync(join(calendarDir, 'weekly-team.ics'), 'utf8'), UID);
    expect(written.rrule).toContain('BYDAY=TU');
    expect(written.exdates.map((e) => e.value)).toEqual(['2026-11-17T10:00:00', '2026-12-01T10:00:00']);

    const add = await liaisonJson<{ id: string }>(
      [
        'appointments',
        'add',
        '--user',
        'alice',
        '--summary',
        'Month end',
        '--start',
        '2026-12-02T10:00Z',
        '--end',
        '2026-12-02T11:00Z',
        '--rrule',
        'FREQ=MONTHLY;BYMONTHDAY=2',
      ],
      env,
    );
    const refused = await liaison(['appointments', 'edit', add.json.id, '--start', '2026-12-05T10:00Z'], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/BYMONTHDAY.*--rrule/);
    const edit = [
      'appointments',
      'edit',
      add.json.id,
      '--start',
      '2026-12-05T10:00Z',
      '--rrule',
      'FREQ=MONTHLY;BYMONTHDAY=5',
    ];
    expect((await liaison(edit, env)).code).toBe(0);
  });
});

describe('liaison appointments show, and all-day appointments', () => {
  it('shows every field of a series, its cancelled and changed occurrences included', async () => {
    const list = await liaisonJson<{ id: string; uid: string }[]>(
      ['appointments', 'list', '--user', 'alice'],
      env,
    );
    const weekly = list.json.find((a) => a.uid === 'weekly-team')!;
    const shown = await liaison(['appointments', 'show', weekly.id], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^Summary: +Team meeting$/m);
    expect(shown.stdout).toMatch(/^Repeats: +FREQ=WEEKLY;.*BYDAY=TU/m);
    expect(shown.stdout).toMatch(
      /^Cancelled: +2026-11-17T10:00:00 Europe\/Berlin\n +2026-12-01T10:00:00 Europe\/Berlin$/m,
    );
    expect(shown.stdout).toMatch(
      /^Changed: +2026-11-24T10:00:00 Europe\/Berlin: starts 2026-11-23T16:00:00 Europe\/Berlin, "Team meeting \(afternoon\)"$/m,
    );
    const json = await liaisonJson<{ id: string; uid: string; exdates: unknown[] }>(
      ['appointments', 'show', weekly.id, '--json'],
      env,
    );
    expect(json.json).toMatchObject({ id: weekly.id, uid: 'weekly-team' });
    expect(json.json.exdates).toHaveLength(2);
    expect((await liaison(['appointments', 'show', 'nosuch'], env)).code).toBe(2);
  });

  it('takes --end of an all-day appointment as its last day, and lists it so', async () => {
    const add = await liaisonJson<{ id: string; end: { value: string } }>(
      [
        'appointments',
        'add',
        '--user',
        'alice',
        '--summary',
        'Conference',
        '--start',
        '2026-12-22',
        '--end',
        '2026-12-24',
        '--json',
      ],
      env,
    );
    expect(add.code).toBe(0);
    // iCalendar's DTEND is the day after the last.
    expect(add.json.end.value).toBe('2026-12-25');
    // Added last, it happens first.
    const early = ['appointments', 'add', '--user', 'alice', '--summary', 'Early', '--start', '2026-10-01'];
    expect((await liaison([...early, '--end', '2026-10-01'], env)).code).toBe(0);
    const list = await liaison(['appointments', 'list', '--user', 'alice'], env);
    expect(list.stdout).toMatch(new RegExp(`${add.json.id}\\s+2026-12-22\\s+2026-12-24\\s+Conference`));
    // Listed in the order they happen.
    const starts = list.stdout
      .split('\n')
      .slice(1)
      .map((l) => /\s(\d{4}-\d{2}-\d{2})/.exec(l)?.[1])
      .filter((d) => d !== undefined);
    expect(starts.length).toBeGreaterThan(2);
    expect(starts).toEqual([...starts].sort());
    const oneDay = [
      'appointments',
      'add',
      '--user',
      'alice',
      '--summary',
      'Holiday',
      '--start',
      '2026-12-26',
    ];
    expect((await liaison([...oneDay, '--end', '2026-12-26'], env)).code).toBe(0);
    expect((await liaison([...oneDay, '--end', '2026-12-25'], env)).code).toBe(2);
    expect((await sync('express')).code).toBe(0);
    const written = readdirSync(calendarDir)
      .map((f) => readFileSync(join(calendarDir, f), 'utf8'))
      .find((t) => t.includes('SUMMARY:Conference'))!;
    expect(written).toContain('DTSTART;VALUE=DATE:20261222');
    expect(written).toContain('DTEND;VALUE=DATE:20261225');
  });
});

describe('liaison appointments edit on an appointment in a zone of its own', () => {
  it("moves it in its own zone (Outlook's W. Europe Standard Time) when no --tz is given", async () => {
    const outlook = readFileSync(
      new URL('../fixtures/ical/outlook-windows-zone.ics', import.meta.url),
      'utf8',
    ).replace(/20240715/g, '20261215');
    writeFileSync(join(calendarDir, 'outlook.ics'), outlook);
    expect((await sync('express')).code).toBe(0);
    const list = await liaisonJson<{ id: string; summary: string }[]>(
      ['appointments', 'list', '--user', 'alice'],
      env,
    );
    const meeting = list.json.find((a) => a.summary === 'Mandantentermin')!;
    const edit = await liaison(['appointments', 'edit', meeting.id, '--start', '2026-12-16T09:00'], env);
    expect(edit.code, edit.stderr).toBe(0);
    expect((await sync('express')).code).toBe(0);
    const written = parseEvent(readFileSync(join(calendarDir, 'outlook.ics'), 'utf8'), UID);
    expect(written.start).toEqual({ value: '2026-12-16T09:00:00', tzid: 'W. Europe Standard Time' });
    expect(written.end).toEqual({ value: '2026-12-16T10:30:00', tzid: 'W. Europe Standard Time' });
    expect(readFileSync(join(calendarDir, 'outlook.ics'), 'utf8')).toContain('TZID:W. Europe Standard Time');
    const shown = await liaison(['appointments', 'show', meeting.id], env);
    expect(shown.stdout).toMatch(/^Reminders: +-PT15M \(display\)$/m);
    expect(shown.stdout).toMatch(/^Organizer: +Meier Anna <anna\.meier@kanzlei\.example>$/m);
    expect(shown.stdout).not.toMatch(/ORGANIZER/);
    expect(shown.stdout).not.toMatch(/^Status:/m);
    // A zone given with --tz must still be an IANA one.
    const bad = await liaison(
      ['appointments', 'edit', meeting.id, '--start', '2026-12-16T09:00', '--tz', 'Mars/Olympus'],
      env,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--tz Mars/Olympus is not an IANA time zone');
  });
});

describe('liaison appointments edit on a series with added periods', () => {
  it('moves RDATE periods along with the start', async () => {
    writeFileSync(
      join(calendarDir, 'periods.ics'),
      [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//Test//EN',
        'BEGIN:VEVENT',
        'UID:periods-1',
        'DTSTAMP:20261101T000000Z',
        'DTSTART:20261207T090000Z',
        'DTEND:20261207T100000Z',
        'RRULE:FREQ=WEEKLY;COUNT=3',
        'RDATE;VALUE=PERIOD:20261225T090000Z/20261225T100000Z',
        'SUMMARY:With periods',
        'END:VEVENT',
        'END:VCALENDAR',
        '',
      ].join('\r\n'),
    );
    expect((await sync('express')).code).toBe(0);
    const list = await liaisonJson<{ id: string; uid: string }[]>(
      ['appointments', 'list', '--user', 'alice'],
      env,
    );
    const series = list.json.find((a) => a.uid === 'periods-1')!;
    const edit = await liaison(['appointments', 'edit', series.id, '--start', '2026-12-07T08:00Z'], env);
    expect(edit.code, edit.stderr).toBe(0);
    expect((await sync('express')).code).toBe(0);
    const written = readFileSync(join(calendarDir, 'periods.ics'), 'utf8').replace(/\r\n /g, '');
    expect(written).toContain('RDATE;VALUE=PERIOD:20261225T080000Z/20261225T090000Z');
  });
});
