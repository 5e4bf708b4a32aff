/** Prints a value as JSON only (for `--json`). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as an aligned text table. */
export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(headers)}\n${rows.map(line).join('\n')}\n`);
}

export function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Prints labelled values, one per line, labels aligned; empty values are left out. */
export function printFields(rows: readonly (readonly [string, string])[]): void {
  const shown = rows.filter(([, value]) => value !== '');
  const width = Math.max(...shown.map(([label]) => label.length));
  const text = shown.map(([label, value]) =>
    value
      .split('\n')
      .map((line, i) => `${(i === 0 ? `${label}:` : '').padEnd(width + 2)}${line}`)
      .join('\n'),
  );
  process.stdout.write(`${text.join('\n')}\n`);
}
