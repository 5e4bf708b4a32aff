import type { Contact } from '../domain/contact.js';
import { type Clock, systemClock } from './clock.js';
import type { Database } from './open.js';
import { UserItemRepo } from './user-item-repo.js';
import { contactSpec } from './user-item-table.js';

/** User contacts as the CRM user edits them: list, get, add, edit, delete (each journaled). */
export class ContactRepo extends UserItemRepo<Contact> {
  constructor(database: Database, clock: Clock = systemClock) {
    super(database, contactSpec, clock);
  }
}
