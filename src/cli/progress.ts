import cliProgress from 'cli-progress';

/**
 * A progress bar on a terminal for long syncs; nothing when output is JSON or not a
 * terminal, so scripts and `--json` get the report alone.
 */
export function progressReporter(enabled: boolean): {
  onProgress?: (label: string, done: number, total: number) => void;
  stop: () => void;
} {
  if (!enabled || !process.stderr.isTTY) return { stop: () => {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{label} [{bar}] {value}/{total}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let current = '';
  return {
    onProgress: (label, done, total) => {
      if (total < 200) return; // short work needs no bar
      if (label !== current) {
        if (current) bar.stop();
        current = label;
        bar.start(total, done, { label });
      } else bar.update(done, { label });
    },
    stop: () => {
      if (current) bar.stop();
    },
  };
}
