import { describe, expect, it } from 'vitest';
import type { Appointment } from '../../src/domain/appointment.js';
import { asHref, asUserId } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { MemoryMailboxServer } from '../../src/mailbox/memory/memory-mailbox-server.js';
import { syncCollection } from '../../src/sync/collection-sync.js';
import { emptyReport } from '../../src/sync/report.js';
import { DEFAULT_SETTINGS } from '../../src/sync/settings.js';
import { MemoryFirmStore, MemoryHeldStore } from '../support/memory-firm-store.js';

const EVENT =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:meeting\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
const TASK =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VTODO\r\nUID:task\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:File the brief\r\nEND:VTODO\r\nEND:VCALENDAR\r\n';

describe('a calendar that also holds tasks', () => {
  it('syncs its events and leaves its tasks alone: not quarantined, not copied, not deleted', async () => {
    const server = new MemoryMailboxServer();
    await server.ensureMailbox('acct');
    server.put('acct', 'calendar', 'meeting.ics', EVENT);
    server.put('acct', 'calendar', 'task.ics', TASK);
    const firm = new MemoryFirmStore<Appointment>();
    const target = { user: asUserId('u'), login: 'ann', kind: 'calendar' as const, runId: 'r' };
    const deps = {
      codec: appointmentCodec,
      firm,
      held: new MemoryHeldStore(),
      mailbox: server.open('acct'),
      now: () => new Date('2026-11-26T00:00:00Z'),
    };
    for (const mode of ['complete', 'express', 'complete'] as const) {
      const report = emptyReport('ann', 'calendar', false);
      await syncCollection(target, deps, { ...DEFAULT_SETTINGS, mode }, report);
      expect(report.outcome).not.toBe('failed');
      expect(report.quarantined).toEqual([]);
    }
    expect([...firm.items.values()].map((a) => a.uid)).toEqual(['meeting']);
    expect(server.items('acct', 'calendar').get(asHref('task.ics'))).toBe(TASK);
  });
});
