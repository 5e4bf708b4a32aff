/**
 * A series moved on one side while the other side changed its exceptions, between two syncs.
 *
 * A recurring event names its occurrences by their original start (EXDATE, RECURRENCE-ID),
 * so moving the series renames every occurrence. Merged field by field, the side that moved
 * brings its exceptions in the new names while a cancellation or change made meanwhile on
 * the other side still uses the old one, which then names no occurrence: the cancelled
 * meeting comes back and the changed one shows twice. So before the three-way merge, the
 * move is applied to the base and to the other side too, the way `appointments edit
 * --start` applies it; their own changes are then merged in the moved terms.
 */
import type { Appointment } from '../domain/appointment.js';
import type { Fields } from '../domain/fields.js';
import type { Uid } from '../domain/ids.js';
import { appointmentFields, appointmentFromFields } from './appointment-fields.js';
import { moveAppointment, seriesMoveProblem, shiftLike } from './series-move.js';

const ANY_UID = 'merge' as Uid;

function sameStart(a: Appointment, b: Appointment): boolean {
  return a.start.value === b.start.value && a.start.tzid === b.start.tzid;
}

/**
 * `base`, `firm` and `mailbox` with a move made on one side applied to the other two; when
 * both moved, to different starts, the move of `winner` (the side a conflict goes to) is the
 * one applied, so that the other side's exceptions are renamed from its own start to the
 * winner's. As given when neither moved, when both moved alike, when the series has no
 * exceptions to rename, or when the move cannot be applied without a new rule (see
 * `seriesMoveProblem`).
 */
export function alignMoves(
  base: Fields,
  firm: Fields,
  mailbox: Fields,
  winner: 'firm' | 'mailbox' = 'firm',
): { base: Fields; firm: Fields; mailbox: Fields } {
  const unchanged = { base, firm, mailbox };
  let b: Appointment;
  let f: Appointment;
  let m: Appointment;
  try {
    b = appointmentFromFields(ANY_UID, base);
    f = appointmentFromFields(ANY_UID, firm);
    m = appointmentFromFields(ANY_UID, mailbox);
  } catch {
    return unchanged;
  }
  const firmMoved = !sameStart(b, f);
  const mailboxMoved = !sameStart(b, m);
  if ((!firmMoved && !mailboxMoved) || sameStart(f, m)) return unchanged;
  // One side moved, or both to different starts: the winner's move renames the other's.
  const fromFirm = firmMoved && (!mailboxMoved || winner === 'firm');
  const mover = fromFirm ? f : m;
  const other = fromFirm ? m : f;
  if (other.rrule === '' || seriesMoveProblem(b, mover.start) !== null) return unchanged;
  // Each keeps its own length; the mover's own end, if it changed, wins in the merge.
  const moved = (a: Appointment) =>
    appointmentFields(
      moveAppointment(a, mover.start, a.end && shiftLike(a.start, mover.start, a.timezones)(a.end)),
    );
  try {
    return fromFirm
      ? { base: moved(b), firm, mailbox: moved(m) }
      : { base: moved(b), firm: moved(f), mailbox };
  } catch {
    return unchanged;
  }
}
