import type { Appointment } from '../domain/appointment.js';
import type { TimeSpan } from '../domain/codec.js';
import type { UserId } from '../domain/ids.js';
import { type Clock, systemClock } from './clock.js';
import type { Database } from './open.js';
import { toItemRecord, type UserItemRecord, UserItemRepo } from './user-item-repo.js';
import { appointmentSpec } from './user-item-table.js';

export interface AppointmentRepoOptions {
  readonly clock?: Clock;
  /** How to read an appointment's time span (the codec's `span`); a conservative reading by default. */
  readonly span?: (item: Appointment) => TimeSpan | null;
}

/** User appointments as the CRM user edits them, plus a query by time window. */
export class AppointmentRepo extends UserItemRepo<Appointment> {
  constructor(database: Database, options: AppointmentRepoOptions = {}) {
    super(database, appointmentSpec(options.span), options.clock ?? systemClock);
  }

  /**
   * The user's appointments that may overlap [from, to) (epoch milliseconds): those with an
   * unbounded end or an unreadable start are always included, so the caller's exact
   * window test sees every candidate.
   */
  async listInWindow(user: UserId, from: number, to: number): Promise<UserItemRecord<Appointment>[]> {
    const rows = await this.database.db
      .selectFrom('user_appointments')
      .selectAll()
      .where('user_id', '=', user)
      .where((eb) =>
        eb.or([
          eb('start_utc', 'is', null),
          eb.and([eb('start_utc', '<', to), eb.or([eb('end_utc', 'is', null), eb('end_utc', '>=', from)])]),
        ]),
      )
      .orderBy('id')
      .execute();
    return rows.map((r) => toItemRecord<Appointment>(r, 'user_appointments'));
  }
}
