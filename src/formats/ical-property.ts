/**
 * One content line read by ical.js, with what ical.js's jCal form leaves out (the group's
 * original spelling, the raw value text), and its canonical text: the same property written
 * one fixed way, so that refolding, reordered parameters and changed letter case do not
 * count as a change.
 */
import ICAL from 'ical.js';
import { rawValue, valueStart } from './content-lines.js';
import { decodeText, encodeParamValue, escapeText } from './text-values.js';

/** An ical.js design set (iCalendar, vCard 3.0 or vCard 4.0). */
export type DesignSet = typeof ICAL.design.icalendar;

/** ical.js's rules for iCalendar (RFC 5545). */
export const ICALENDAR: DesignSet = ICAL.design.icalendar;
/** ical.js's rules for vCard 3.0 (RFC 2426); also used for 2.1 once its lines are upgraded. */
export const VCARD3: DesignSet = ICAL.design.vcard3;
/** ical.js's rules for vCard 4.0 (RFC 6350). */
export const VCARD4: DesignSet = ICAL.design.vcard;

/** A parameter value as ical.js decodes it: one string, or several for multi-valued parameters. */
export type ParamValue = string | readonly string[];

/** One property, as ical.js reads it. */
export interface ParsedProperty {
  /** The logical (unfolded) line it was read from. */
  readonly line: string;
  /** Upper-case name without group. */
  readonly name: string;
  /** The name as written, without group. */
  readonly spelledName: string;
  /** vCard group as written (`item1`), or ''. */
  readonly group: string;
  /** Parameters by lower-case name, RFC 6868-decoded, without `group` and `value`. */
  readonly params: Readonly<Record<string, ParamValue>>;
  /** ical.js value type (lower case), from VALUE= or the property's default. */
  readonly valueType: string;
  /** Whether the value type differs from the property's default, so VALUE= must be written. */
  readonly explicitType: boolean;
  /** jCal values as ical.js decodes them. */
  readonly values: readonly unknown[];
  /** The still-escaped value text. */
  readonly raw: string;
  /** Whether the design reads the value as a list or as components (CATEGORIES, N, ADR, ...). */
  readonly compound: boolean;
}

interface PropertyDesign {
  defaultType?: string;
  multiValue?: string;
  structuredValue?: string;
}

const NAME = /^(?:[A-Za-z0-9-]+\.)?[A-Za-z0-9-]+$/;

/**
 * Reads one content line with ical.js (`ICAL.parse.property`).
 * Throws an `Error` with ical.js's reason when the line cannot be read.
 */
export function parseProperty(line: string, design: DesignSet): ParsedProperty {
  const head = line.slice(0, Math.max(0, line.search(/[;:]/)));
  if (!NAME.test(head)) throw new Error(`invalid property name ${JSON.stringify(head)}`);
  const jcal = ICAL.parse.property(line, design) as [
    string,
    Record<string, ParamValue>,
    string,
    ...unknown[],
  ];
  const [lowerName, jparams, detected, ...values] = jcal;
  // A VALUE the design does not allow for the property (vCard 3.0 BDAY;VALUE=text) is taken
  // as declared: ical.js would put its default in its place, and the value would be written
  // back declared as something it is not (BDAY;VALUE=DATE:circa 1800).
  const declared = /;VALUE=([A-Za-z-]+)(?=;|$)/i.exec(line.slice(0, Math.max(0, valueStart(line))))?.[1];
  const valueType = declared === undefined ? detected : declared.toLowerCase();
  const params: Record<string, ParamValue> = {};
  let group = '';
  for (const [key, value] of Object.entries(jparams)) {
    if (key === 'group' && design.propertyGroups) group = head.slice(0, head.indexOf('.'));
    else params[key] = value;
  }
  const raw = rawValue(line);
  // A type ical.js detected from the value (RDATE periods, vCard 3.0 dates) still needs VALUE=
  // when written: RFC 5545 §3.2.20 and RFC 2426 §4 readers go by the declared default.
  const spec = propertyDesign(lowerName, design);
  return {
    line,
    name: lowerName.toUpperCase(),
    spelledName: design.propertyGroups ? head.slice(head.indexOf('.') + 1) : head,
    group,
    params,
    valueType,
    explicitType: valueType !== (spec?.defaultType ?? 'unknown'),
    values,
    raw,
    compound: Boolean(spec?.multiValue || spec?.structuredValue),
  };
}

function propertyDesign(lowerName: string, design: DesignSet): PropertyDesign | undefined {
  return (design.property as Record<string, PropertyDesign | undefined>)[lowerName];
}

/** The first value of a parameter, or '' when absent. */
export function paramText(p: ParsedProperty, name: string): string {
  const v = p.params[name];
  if (v === undefined) return '';
  return typeof v === 'string' ? v : (v[0] ?? '');
}

/** All values of a parameter (a multi-valued or repeated parameter gives several). */
export function paramList(p: ParsedProperty, name: string): string[] {
  const v = p.params[name];
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : [...v];
}

/** Parameters whose values are calendar addresses or URIs, which RFC 5545 §3.2 requires in quotes. */
const QUOTED_PARAMS = new Set(['sent-by', 'delegated-to', 'delegated-from', 'member', 'dir', 'altrep']);

/** Options for {@link canonicalLine}. */
export interface CanonicalOptions {
  /** Parameters (lower case) to leave out. */
  readonly omit?: ReadonlySet<string>;
  /** Use this already-escaped value instead of the line's own. */
  readonly value?: string;
}

/**
 * The property written one fixed way: an IANA property name upper case (an X- name and a
 * group keep their spelling, since clients look them up as they wrote them), parameters
 * sorted by name with upper-case names, TYPE values lower case, sorted and de-duplicated (both are
 * case-insensitive, RFC 6350 §5.6 and RFC 2426 §4), VALUE= only when it is not the default;
 * a single TEXT value re-escaped one way; a `mailto:` address lower case. Other values are
 * kept as written, since their text is their meaning.
 */
export function canonicalLine(p: ParsedProperty, options: CanonicalOptions = {}): string {
  const name = p.name.startsWith('X-') ? p.spelledName : p.name;
  let out = p.group ? `${p.group}.${name}` : name;
  for (const param of canonicalParams(p, options.omit)) out += `;${param}`;
  return `${out}:${options.value ?? canonicalValue(p)}`;
}

/** The canonical `NAME=value` texts of a property's parameters, sorted; VALUE= included when needed. */
export function canonicalParams(p: ParsedProperty, omit?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(p.params)) {
    if (omit?.has(name)) continue;
    // A list ical.js does not know as one (CONFERENCE's FEATURE=AUDIO,VIDEO, RFC 7986) comes
    // as one string: written unquoted, as it was, it stays a list; quoted, it became one value.
    let list =
      typeof value === 'string' ? (unquotedList(p.line, name) ? value.split(',') : [value]) : [...value];
    if (name === 'type') list = [...new Set(list.map((t) => t.toLowerCase()).filter((t) => t !== ''))].sort();
    if (list.length === 0) continue;
    const quote = QUOTED_PARAMS.has(name);
    out.push(`${name.toUpperCase()}=${list.map((v) => encodeParamValue(v, quote)).join(',')}`);
  }
  if (p.explicitType && !omit?.has('value')) out.push(`VALUE=${p.valueType.toUpperCase()}`);
  return out.sort();
}

/** Whether parameter `name` of `line` was written unquoted with commas: a list of values. */
function unquotedList(line: string, name: string): boolean {
  const head = line.slice(0, Math.max(0, valueStart(line)));
  const m = new RegExp(`;${name}=([^;:]*)`, 'i').exec(head);
  return m !== null && !m[1]!.startsWith('"') && m[1]!.includes(',');
}

function canonicalValue(p: ParsedProperty): string {
  if (p.valueType === 'cal-address') return canonicalAddress(p.raw);
  // Multi-valued and structured TEXT keep their separators as written; only plain TEXT is re-escaped.
  if (p.valueType !== 'text' || p.explicitType || p.compound) return p.raw;
  return escapeText(decodeText(p.raw));
}

/** A calendar address with its `mailto:` scheme and address lower case; other URIs as written. */
export function canonicalAddress(raw: string): string {
  return /^mailto:/i.test(raw) ? raw.toLowerCase() : raw;
}
