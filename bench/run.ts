import { benchDav } from './dav-bench.js';
import { benchFirm } from './firm-bench.js';
import { benchVdir } from './vdir-bench.js';

type Write = (text: string) => void;

async function vdirPart(write: Write): Promise<void> {
  const { phases, peakRssMb } = await benchVdir();
  write('Mailbox sync, SQLite + vdir (10,000 contacts, 5,000 events)\n');
  for (const p of phases) write(`  ${p.name.padEnd(42)} ${p.ms.toFixed(0).padStart(7)} ms   ${p.summary}\n`);
  const [first, idle, changed] = phases.map((p) => p.ms) as [number, number, number];
  const ratio = (a: number, b: number) => (a / b).toFixed(3);
  write(`  no-change express / first complete       ${ratio(idle, first)}  (target < 0.05)\n`);
  write(`  express after 110 changes / no-change    ${ratio(changed, idle)}  (target < 3)\n`);
  write(`  peak memory (RSS)                        ${peakRssMb.toFixed(0)} MB  (target < 300 MB)\n`);
}

/** The benchmark's parts, in the order they run. */
const PARTS: readonly { key: string; run: (write: Write) => Promise<void> }[] = [
  { key: 'vdir', run: vdirPart },
  { key: 'dav', run: benchDav },
  { key: 'firm', run: benchFirm },
];

/**
 * `npm run bench`: prints figures and the ratios the project holds itself to. Env
 * BENCH_PARTS (e.g. `firm` or `vdir,dav`) runs only those parts.
 */
async function main(): Promise<void> {
  const write: Write = (text) => process.stdout.write(text);
  const wanted = (process.env.BENCH_PARTS ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  const unknown = wanted.filter((w) => !PARTS.some((p) => p.key === w));
  if (unknown.length > 0) {
    process.stderr.write(
      `BENCH_PARTS: unknown part ${unknown.join(', ')} (parts: ${PARTS.map((p) => p.key).join(', ')})\n`,
    );
    process.exitCode = 2;
    return;
  }
  for (const part of PARTS) {
    if (wanted.length > 0 && !wanted.includes(part.key)) continue;
    await part.run(write);
  }
}

await main();
