import { it } from 'vitest';
import { startCyrus } from '../support/dav-servers/cyrus.js';

it('start/stop loop', async () => {
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    const s = await startCyrus({ users: ['alice'] });
    const t1 = performance.now();
    await s.restart({ signal: 'SIGKILL' });
    const t2 = performance.now();
    await s.restart({ signal: 'SIGTERM' });
    const t3 = performance.now();
    await s.stop();
    console.log(`start ${Math.round(t1 - t0)} kill-restart ${Math.round(t2 - t1)} term-restart ${Math.round(t3 - t2)} stop-now ${Math.round(performance.now() - t3)}`);
  }
}, 300_000);
