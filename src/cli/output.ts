/**
 * Prints a value as JSON only (for `--json`), waiting for a slow reader between parts:
 * a pipe that fills up would otherwise leave the whole output queued in memory.
 */
export async function printJson(value: unknown): Promise<void> {
  for (const part of jsonParts(value)) {
    if (!process.stdout.write(part)) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
}

/** Parts written at once: large enough to keep writes few, small enough to bound memory. */
const PART_CHARS = 1 << 20;

/**
 * `JSON.stringify(value, null, 2)` and a newline, in parts: an array is written an element
 * at a time, since a list of thousands of contacts with photos is longer than a string can
 * be (about 512 million characters).
 */
export function* jsonParts(value: unknown): Iterable<string> {
  if (!Array.isArray(value) || value.length === 0) {
    yield `${JSON.stringify(value, null, 2)}\n`;
    return;
  }
  let part = '[';
  for (let i = 0; i < value.length; i++) {
    const element = JSON.stringify(value[i], null, 2) ?? 'null';
    part += `${i === 0 ? '' : ','}\n  ${element.replaceAll('\n', '\n  ')}`;
    if (part.length >= PART_CHARS) {
      yield part;
      part = '';
    }
  }
  yield `${part}\n]\n`;
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
