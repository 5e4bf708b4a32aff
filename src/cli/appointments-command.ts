import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { type Appointment, type DateTimeValue, emptyAppointment } from '../domain/appointment.js';
import { LiaisonError } from '../domain/errors.js';
import { asFirmItemId, asUid } from '../domain/ids.js';
import { valueStart } from '../formats/content-lines.js';
import { instantOf, isDate } from '../formats/date-values.js';
import { rruleProblem } from '../formats/rrule-check.js';
import { moveAppointment, seriesMoveProblem, shiftLike } from '../formats/series-move.js';
import { userIdOf } from './contacts-command.js';
import { withApp } from './context.js';
import { parseWhen } from './item-flags.js';
import { printFields, printJson, printTable, say } from './output.js';

interface AppointmentFlags {
  summary?: string;
  start?: string;
  end?: string;
  tz?: string;
  rrule?: string;
  location?: string;
  description?: string;
  private?: boolean;
  json?: boolean;
}

function appointmentOptions(cmd: Command): Command {
  return cmd
    .option('--summary <text>', 'title (required on add, with --start and --end)')
    .option(
      '--start <iso>',
      'start: YYYY-MM-DD (all day) or YYYY-MM-DDTHH:MM[Z|±HH:MM]; without Z, offset or --tz a local ("floating") time, or on edit the zone the appointment has. Moving a repeating appointment moves its cancelled and changed occurrences with it (to another day: a weekly rule on its weekday follows, other rules that name days need --rrule); without --end it keeps its length',
    )
    .option(
      '--end <iso>',
      'end, same forms as --start; for an all-day appointment its last day (2027-04-01 to 2027-04-03 is three days)',
    )
    .option('--tz <zone>', 'IANA time zone of --start/--end (e.g. Europe/London)')
    .option('--rrule <rule>', 'recurrence rule, e.g. FREQ=WEEKLY;BYDAY=MO')
    .option('--location <text>', 'location')
    .option('--description <text>', 'description')
    .option('--private', 'mark the appointment private')
    .option('--no-private', 'mark it public')
    .option('--json', 'print JSON only');
}

function patchOf(opts: AppointmentFlags, current?: Appointment): Partial<Omit<Appointment, 'uid'>> {
  const patch: { -readonly [K in keyof Omit<Appointment, 'uid'>]?: Appointment[K] } = {};
  if (opts.summary !== undefined) patch.summary = opts.summary;
  if (opts.location !== undefined) patch.location = opts.location;
  if (opts.description !== undefined) patch.description = opts.description;
  if (opts.rrule !== undefined) {
    const problem = opts.rrule === '' ? null : rruleProblem(opts.rrule);
    if (problem) throw new LiaisonError('Usage', `--rrule ${opts.rrule}: ${problem}`);
    patch.rrule = opts.rrule.replace(/^RRULE:/i, '').toUpperCase();
  }
  if (opts.private !== undefined) patch.privacy = opts.private ? 'PRIVATE' : '';
  const tz =
    opts.tz ??
    (opts.start === undefined && opts.end === undefined ? undefined : current?.start.tzid || undefined);
  // Without --tz the appointment's own zone applies, whatever its name: its VTIMEZONE defines it.
  const ownZone = opts.tz === undefined;
  if (opts.start !== undefined) patch.start = parseWhen(opts.start, tz, '--start', ownZone);
  if (opts.end !== undefined) {
    const end = parseWhen(opts.end, tz, '--end', ownZone);
    // iCalendar's DTEND of an all-day event is the day after its last (RFC 5545 §3.6.1).
    patch.end = isDate(end) ? { ...end, value: dayAfter(end.value) } : end;
  }
  if (
    current &&
    patch.start &&
    opts.end === undefined &&
    current.end &&
    isDate(current.start) === isDate(patch.start)
  ) {
    // Moved without a new end: it keeps its length.
    patch.end = shiftLike(current.start, patch.start, current.timezones)(current.end);
  }
  const start = patch.start ?? current?.start;
  const end = patch.end ?? current?.end ?? null;
  if (start) {
    patch.allDay = /^\d{4}-\d{2}-\d{2}$/.test(start.value);
    if (end && /^\d{4}-\d{2}-\d{2}$/.test(end.value) !== patch.allDay) {
      throw new LiaisonError('Usage', '--start and --end must both be dates (all day) or both date-times');
    }
    const endsBefore = isDate(start) ? end && end.value <= start.value : end && end.value < start.value;
    if (end && end.tzid === start.tzid && endsBefore) {
      throw new LiaisonError('Usage', '--end is before --start');
    }
  }
  if (current && patch.start) {
    const series = { ...current, rrule: patch.rrule ?? current.rrule };
    // A rule given with --rrule is the administrator's own: taken as it is for the new days.
    const problem = opts.rrule === undefined ? seriesMoveProblem(series, patch.start) : null;
    if (problem !== null) throw new LiaisonError('Usage', `--start: ${problem}`);
    // A series' cancelled, changed and added occurrences move along with its start.
    const moved = moveAppointment(series, patch.start, end, { ruleGiven: opts.rrule !== undefined });
    Object.assign(patch, {
      rrule: moved.rrule,
      rdates: moved.rdates,
      exdates: moved.exdates,
      overrides: moved.overrides,
      // RDATE periods, which only `extra` can hold.
      extra: moved.extra,
    });
  }
  return patch;
}

const when = (a: Appointment) => `${a.start.value}${a.start.tzid ? ` ${a.start.tzid}` : ''}`;

/** The end as a person reads it: for an all-day appointment its last day, not the day after. */
const endText = (a: Appointment) => {
  if (a.end === null) return '';
  return isDate(a.end) ? dayBefore(a.end.value) : `${a.end.value}${a.end.tzid ? ` ${a.end.tzid}` : ''}`;
};

/** The organizer with the name its ORGANIZER line gives (CN, kept in `extra` with its other parameters). */
function organizerText(a: Appointment): string {
  if (a.organizer === '') return '';
  const line = a.extra.find((l) => /^ORGANIZER[;:]/i.test(l));
  const name =
    line === undefined ? undefined : /;CN=(?:"([^"]*)"|([^;:]*))/i.exec(line.slice(0, valueStart(line)));
  const cn = name?.[1] ?? name?.[2];
  const address = a.organizer.replace(/^mailto:/i, '');
  return cn ? `${cn} <${address}>` : address;
}

/** When an appointment starts, in epoch milliseconds (one whose start cannot be read goes last). */
function startInstant(a: Appointment): number {
  try {
    return instantOf(a.start, a.timezones);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Whether the whole appointment is cancelled (STATUS:CANCELLED, kept in `extra`). */
function cancelled(a: Appointment): boolean {
  return a.extra.some((l) => /^STATUS:CANCELLED$/i.test(l.trim()));
}

/** A reminder in words: when it goes off, and how (RFC 5545 §3.6.6). */
function reminderText(alarm: string): string {
  const line = (name: string) =>
    alarm.split(/\r?\n/).find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));
  const trigger = line('TRIGGER');
  const when = trigger === undefined ? '?' : trigger.slice(trigger.indexOf(':') + 1).trim();
  const related = /RELATED=END/i.test(trigger ?? '') ? ' of the end' : '';
  const action = line('ACTION')?.split(':')[1]?.trim().toLowerCase() ?? 'display';
  return `${when}${related} (${action})`;
}

/**
 * One changed occurrence in words: which one (and whether all following ones too, RFC 5545
 * RANGE=THISANDFUTURE), and what it became: cancelled, or its new start and summary.
 */
function overrideText(o: Appointment['overrides'][number]): string {
  const line = (name: string) =>
    o.component.split(/\r?\n/).find((l) => l.startsWith(`${name}:`) || l.startsWith(`${name};`));
  const value = (l: string | undefined) => (l === undefined ? undefined : l.slice(l.indexOf(':') + 1).trim());
  const basic = value(line('DTSTART'));
  const start =
    basic === undefined
      ? undefined
      : basic.replace(
          /^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2}))?(Z?)$/,
          (_, y, m, d, h, mi, sec, z) =>
            h === undefined ? `${y}-${m}-${d}` : `${y}-${m}-${d}T${h}:${mi}:${sec}${z}`,
        );
  const zone = /;TZID=([^;:]+)/.exec(line('DTSTART') ?? '')?.[1];
  const summary = value(line('SUMMARY'));
  const following = /;RANGE=THISANDFUTURE/i.test(line('RECURRENCE-ID') ?? '') ? ' and all following' : '';
  const what = /^STATUS:CANCELLED$/m.test(o.component)
    ? 'cancelled'
    : [start && `starts ${start}${zone ? ` ${zone}` : ''}`, summary && `"${summary}"`]
        .filter(Boolean)
        .join(', ');
  const which = `${o.recurrenceId.value}${o.recurrenceId.tzid ? ` ${o.recurrenceId.tzid}` : ''}${following}`;
  return `${which}: ${what || 'changed'}`;
}

/** YYYY-MM-DD one day later / earlier. */
function dayAfter(date: string): string {
  return shiftDate(date, 1);
}

function dayBefore(date: string): string {
  return shiftDate(date, -1);
}

function shiftDate(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

export function registerAppointments(program: Command): void {
  const appointments = program.command('appointments').description("a user's calendar in the firm database");

  appointments
    .command('list')
    .description("list a user's appointments")
    .requiredOption('--user <login>', 'the user')
    .option('--json', 'print JSON only')
    .action(async (opts: { user: string; json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        // In the order they happen: the start as an instant, in its own zone.
        const list = (await app.repos.appointments.list(await userIdOf(app, opts.user)))
          .map((r) => ({ r, at: startInstant(r.item) }))
          .sort((a, b) => a.at - b.at)
          .map(({ r }) => r);
        if (opts.json) await printJson(list.map((r) => ({ id: r.id, ...r.item, updatedAt: r.updatedAt })));
        else {
          printTable(
            ['ID', 'START', 'END', 'SUMMARY', 'REPEATS'],
            list.map((r) => [
              r.id,
              when(r.item),
              endText(r.item),
              cancelled(r.item) ? `${r.item.summary} (cancelled)` : r.item.summary,
              r.item.rrule,
            ]),
          );
        }
      });
    });

  appointments
    .command('show')
    .description('show every field of an appointment, its exceptions included')
    .argument('<id>', 'appointment id')
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const found = await app.repos.appointments.get(asFirmItemId(id));
        if (!found) throw new LiaisonError('Usage', `no appointment ${id}`);
        const a = found.item;
        if (opts.json) {
          await printJson({ id, ...a, updatedAt: found.updatedAt });
          return;
        }
        const dates = (values: readonly DateTimeValue[]) =>
          values.map((v) => `${v.value}${v.tzid ? ` ${v.tzid}` : ''}`).join('\n');
        printFields([
          ['ID', id],
          ['UID', a.uid],
          ['Summary', a.summary],
          ['Start', when(a)],
          [a.allDay ? 'Last day' : 'End', endText(a)],
          ['All day', a.allDay ? 'yes' : 'no'],
          ['Repeats', a.rrule],
          ['Cancelled', dates(a.exdates)],
          ['Added', dates(a.rdates)],
          ['Changed', a.overrides.map(overrideText).join('\n')],
          ['Location', a.location],
          ['Description', a.description],
          ['Organizer', organizerText(a)],
          [
            'Attendees',
            a.attendees
              .map(
                (at) =>
                  `${at.name ? `${at.name} ` : ''}<${at.email.replace(/^mailto:/i, '')}>${at.partstat ? ` ${at.partstat.toLowerCase()}` : ''}`,
              )
              .join('\n'),
          ],
          ['Categories', a.categories.join(', ')],
          ['Privacy', a.privacy],
          ['Status', cancelled(a) ? 'cancelled' : ''],
          ['Reminders', a.alarms.map(reminderText).join('\n')],
          // ORGANIZER/ATTENDEE lines in `extra` only carry their parameters, STATUS is shown above.
          ['Other', a.extra.filter((l) => !/^(ORGANIZER|ATTENDEE|STATUS)[;:]/i.test(l)).join('\n')],
          ['Updated', found.updatedAt],
        ]);
      });
    });

  appointmentOptions(
    appointments
      .command('add')
      .description('add an appointment to a user calendar')
      .requiredOption('--user <login>', 'the user'),
  ).action(async (opts: AppointmentFlags & { user: string }, cmd: Command) => {
    if (!opts.summary || !opts.start || !opts.end) {
      throw new LiaisonError('Usage', 'an appointment needs --summary, --start and --end');
    }
    await withApp(cmd, async (app) => {
      const user = await userIdOf(app, opts.user);
      const patch = patchOf(opts);
      const base = emptyAppointment(asUid(randomUUID()), patch.start!, patch.end ?? null);
      const appointment: Appointment = { ...base, ...patch };
      const id = await app.repos.appointments.add(user, appointment);
      if (opts.json) await printJson({ id, ...appointment });
      else say(`Added appointment ${id}: ${appointment.summary} at ${when(appointment)}`);
    });
  });

  appointmentOptions(
    appointments.command('edit').description('edit an appointment').argument('<id>', 'appointment id'),
  ).action(async (id: string, opts: AppointmentFlags, cmd: Command) => {
    await withApp(cmd, async (app) => {
      const current = await app.repos.appointments.get(asFirmItemId(id));
      if (!current) throw new LiaisonError('Usage', `no appointment ${id}`);
      const patch = patchOf(opts, current.item);
      if (Object.keys(patch).length === 0)
        throw new LiaisonError('Usage', 'nothing to change: give at least one field');
      const after = await app.repos.appointments.edit(asFirmItemId(id), patch);
      if (opts.json) await printJson({ id, ...after });
      else say(`Updated appointment ${id}: ${after.summary} at ${when(after)}`);
    });
  });

  appointments
    .command('delete')
    .description('delete an appointment')
    .argument('<id>', 'appointment id')
    .option('--json', 'print JSON only')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const current = await app.repos.appointments.get(asFirmItemId(id));
        if (!current) throw new LiaisonError('Usage', `no appointment ${id}`);
        await app.repos.appointments.delete(asFirmItemId(id));
        if (opts.json) await printJson({ id, deleted: true });
        else say(`Deleted appointment ${id}: ${current.item.summary}`);
      });
    });
}
