import { describe, expect, it } from 'vitest';
import { asHref } from '../../src/domain/ids.js';
import { appointmentCodec } from '../../src/formats/appointment-codec.js';
import { memoryItemSync } from '../support/memory-sync.js';

const EVENT =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:meeting\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
const TASK =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VTODO\r\nUID:task\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:File the brief\r\nEND:VTODO\r\nEND:VCALENDAR\r\n';

describe('a calendar that also holds tasks', () => {
  it('syncs its events and leaves its tasks alone: not quarantined, not copied, not deleted', async () => {
    const { server, firm, sync } = await memoryItemSync(appointmentCodec);
    server.put('acct', 'calendar', 'meeting.ics', EVENT);
    server.put('acct', 'calendar', 'task.ics', TASK);
    for (const mode of ['complete', 'express', 'complete'] as const) {
      const report = await sync(mode);
      expect(report.outcome).not.toBe('failed');
      expect(report.quarantined).toEqual([]);
    }
    expect([...firm.items.values()].map((a) => a.uid)).toEqual(['meeting']);
    expect(server.items('acct', 'calendar').get(asHref('task.ics'))).toBe(TASK);
  });
});
