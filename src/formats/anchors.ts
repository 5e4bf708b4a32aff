/**
 * Anchors: what a modelled, repeatable property carries beyond what the domain type holds.
 *
 * A `TypedValue` holds TYPE values and a value; an `Attendee` holds CN, ROLE, PARTSTAT and
 * RSVP. Apple groups a property with its label (`item1.EMAIL:...` + `item1.X-ABLabel:Assistant`),
 * and CalDAV clients put CUTYPE, SCHEDULE-AGENT or SENT-BY on attendees. To keep those through
 * a rewrite, such a property leaves an anchor line in `extra`: its group, its unmodelled
 * parameters and its value, written canonically (`item1.EMAIL:jane@example.com`). When the
 * item is written again, a property with the same name and value takes the group and the
 * parameters back; an anchor whose value is gone is dropped with it.
 *
 * An anchor is recognised by its property name alone: a parser here never puts any other line
 * with one of the anchored names into `extra`.
 */
import { canonicalParams, type DesignSet, type ParsedProperty, parseProperty } from './ical-property.js';

/** What an anchor gives back to the property it belongs to. */
export interface AnchorParts {
  /** vCard group as written, or ''. */
  readonly group: string;
  /** Canonical `NAME=value` parameter texts. */
  readonly params: readonly string[];
}

/**
 * The anchor line for a property, or undefined when it carries nothing beyond the model
 * (no group, no parameter outside `modelled`).
 */
export function anchorLine(
  p: ParsedProperty,
  modelled: ReadonlySet<string>,
  encodedValue: string,
): string | undefined {
  const params = canonicalParams(p, modelled);
  if (p.group === '' && params.length === 0) return undefined;
  // The group keeps its spelling, so that it still matches the other lines of its group as written.
  const head = p.group ? `${p.group}.${p.name}` : p.name;
  return `${head}${params.map((x) => `;${x}`).join('')}:${encodedValue}`;
}

/** The anchors held in an item's `extra`, consumed as the item's properties are written. */
export class Anchors {
  readonly #pending = new Map<string, AnchorParts[]>();

  /**
   * @param extra the item's extra lines; those named in `names` are anchors
   * @param names upper-case names of the anchored properties
   */
  constructor(extra: readonly string[], names: ReadonlySet<string>, design: DesignSet) {
    for (const line of extra) {
      let p: ParsedProperty;
      try {
        p = parseProperty(line, design);
      } catch {
        continue;
      }
      if (!names.has(p.name)) continue;
      const key = anchorKey(p.name, p.raw);
      const list = this.#pending.get(key) ?? [];
      list.push({ group: p.group, params: canonicalParams(p) });
      this.#pending.set(key, list);
    }
  }

  /** Takes the first unused anchor for this property name and encoded value. */
  take(name: string, encodedValue: string): AnchorParts | undefined {
    return this.#pending.get(anchorKey(name, encodedValue))?.shift();
  }
}

/** The key an anchor and a written property are matched by. */
export function anchorKey(name: string, encodedValue: string): string {
  // Values compare without regard to case: e-mail addresses and calendar addresses are
  // matched that way everywhere else, and a phone number or street has no case to speak of.
  return `${name}:${encodedValue.toLowerCase()}`;
}

/**
 * Which anchors a set of written values will take, counted the way `Anchors.take` hands
 * them out: normalized fields keep exactly those, so that an anchor left over from an edited
 * value does not count as content it would never be written with.
 */
export class LiveAnchors {
  readonly #counts = new Map<string, number>();

  /** @param keys `anchorKey` of every modelled value that will be written */
  constructor(keys: Iterable<string>) {
    for (const key of keys) this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Whether a written value is left to take an anchor with this key (and takes it). */
  take(key: string): boolean {
    const left = this.#counts.get(key) ?? 0;
    if (left === 0) return false;
    this.#counts.set(key, left - 1);
    return true;
  }
}

/**
 * Writes one property line: group and parameters from its anchor (if any), then the
 * modelled parameters, then the value. The anchor is found by `encodedValue`; `written`
 * is the value as written when it takes another form (a vCard 4.0 `tel:` URI).
 */
export function writeAnchored(
  anchors: Anchors,
  name: string,
  modelledParams: readonly string[],
  encodedValue: string,
  written = encodedValue,
): string {
  const anchor = anchors.take(name, encodedValue);
  const head = anchor?.group ? `${anchor.group}.${name}` : name;
  const params = [...modelledParams, ...(anchor?.params ?? [])];
  return `${head}${params.map((p) => `;${p}`).join('')}:${written}`;
}
