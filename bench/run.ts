import { benchDav } from './dav-bench.js';
import { benchVdir } from './vdir-bench.js';

/** `npm run bench`: prints figures and the ratios the project holds itself to. */
async function main(): Promise<void> {
  const { phases, peakRssMb } = await benchVdir();
  process.stdout.write('Mailbox sync, SQLite + vdir (10,000 contacts, 5,000 events)\n');
  for (const p of phases)
    process.stdout.write(`  ${p.name.padEnd(42)} ${p.ms.toFixed(0).padStart(7)} ms   ${p.summary}\n`);
  const [first, idle, changed] = phases.map((p) => p.ms) as [number, number, number];
  const ratio = (a: number, b: number) => (a / b).toFixed(3);
  process.stdout.write(`  no-change express / first complete       ${ratio(idle, first)}  (target < 0.05)\n`);
  process.stdout.write(`  express after 110 changes / no-change    ${ratio(changed, idle)}  (target < 3)\n`);
  process.stdout.write(
    `  peak memory (RSS)                        ${peakRssMb.toFixed(0)} MB  (target < 300 MB)\n`,
  );
  await benchDav((text) => process.stdout.write(text));
}

await main();
