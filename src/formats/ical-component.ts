/**
 * Normalized component text: how Liaison holds the iCalendar components it does not model
 * field by field (overridden instances, alarms, carried time zones). Each line is written
 * canonically (`canonicalLine`), the component's own lines are sorted (their order carries no
 * meaning, RFC 5545 §3.6), then its sub-components follow, each normalized and sorted.
 */
import { buildComponents, propertyName, type RawComponent, unfoldLines } from './content-lines.js';
import { canonicalLine, ICALENDAR, type ParsedProperty, paramText, parseProperty } from './ical-property.js';
import { clean } from './text-values.js';

/** What to leave out while normalizing. */
export interface NormalizeOptions {
  /** Properties (upper-case name) to leave out, at every level. */
  readonly dropProperty?: (name: string) => boolean;
  /** Parameters (lower-case name) to leave out of every line. */
  readonly omitParams?: ReadonlySet<string>;
  /** Properties (upper-case name) to leave out of the top component only. */
  readonly dropTopLevel?: ReadonlySet<string>;
  /** Collects every TZID parameter met. */
  readonly tzids?: Set<string>;
}

/**
 * The normalized text of a component: unfolded lines joined by CRLF, from `BEGIN:` to `END:`.
 * A line ical.js cannot read is kept as written (trimmed): a broken time zone must not stop
 * an item from being read.
 */
export function normalizeComponent(c: RawComponent, options: NormalizeOptions = {}, top = true): string {
  const lines: string[] = [];
  for (const line of c.lines) {
    const canonical = normalizeLine(line, options, top);
    if (canonical !== undefined) lines.push(canonical);
  }
  lines.sort();
  const children = c.children.map((child) => normalizeComponent(child, options, false)).sort();
  return [`BEGIN:${c.name}`, ...lines, ...children, `END:${c.name}`].join('\r\n');
}

function normalizeLine(line: string, options: NormalizeOptions, top: boolean): string | undefined {
  let p: ParsedProperty;
  try {
    p = parseProperty(line, ICALENDAR);
  } catch {
    const name = propertyName(line);
    return options.dropProperty?.(name) || (top && options.dropTopLevel?.has(name)) ? undefined : clean(line);
  }
  if (options.dropProperty?.(p.name) || (top && options.dropTopLevel?.has(p.name))) return undefined;
  const tzid = paramText(p, 'tzid');
  if (tzid !== '') options.tzids?.add(tzid);
  return canonicalLine(p, { omit: options.omitParams });
}

/**
 * Normalizes component text again (text held from an earlier parse, or merged fields).
 * Text that does not hold exactly one component is returned trimmed, unchanged.
 */
export function renormalize(text: string, options: NormalizeOptions = {}): string {
  let roots: RawComponent[];
  try {
    roots = buildComponents(unfoldLines(text), 'component');
  } catch {
    return clean(text);
  }
  const [root, ...more] = roots;
  return root && more.length === 0 ? normalizeComponent(root, options) : clean(text);
}

/** Reads component text (as held in an `Appointment`) back into its nesting; undefined if it cannot. */
export function readComponent(text: string): RawComponent | undefined {
  try {
    const [root, ...more] = buildComponents(unfoldLines(text), 'component');
    return more.length === 0 ? root : undefined;
  } catch {
    return undefined;
  }
}
