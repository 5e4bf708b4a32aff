/**
 * Time zones: IANA definitions from timezones-ical-library, registered with ical.js's
 * TimezoneService on first use, and the zones a calendar object brings along.
 *
 * timezones-ical-library 1.x is kept (2.x needs Node 22). Its VTIMEZONE blocks carry the
 * current rules of each zone, which is what a calendar window around today needs.
 */
import ICAL from 'ical.js';
import { tzlib_get_ical_block, tzlib_get_timezones } from 'timezones-ical-library';
import { buildComponents, propertyName, rawValue, unfoldLines } from './content-lines.js';

type Timezone = InstanceType<typeof ICAL.Timezone>;

let ianaNames: Map<string, string> | undefined;

/** Carried VTIMEZONE texts seen lately: built zones and declared TZIDs, bounded. */
const CACHE_LIMIT = 256;
const builtZones = new Map<string, Timezone | undefined>();
const zoneIds = new Map<string, string>();

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(key, value);
}

/** Lower-case name → name as the library spells it; built once, on first use. */
function names(): Map<string, string> {
  if (!ianaNames) {
    const list = tzlib_get_timezones();
    ianaNames = new Map((Array.isArray(list) ? list : []).map((n) => [n.toLowerCase(), n]));
  }
  return ianaNames;
}

/**
 * The IANA name for a TZID (matched without regard to case, as TZID values are compared by
 * many clients), or undefined when the TZID is not an IANA zone or link.
 */
export function ianaName(tzid: string): string | undefined {
  return names().get(tzid.toLowerCase());
}

/** Whether the TZID names an IANA zone (or one of its links, e.g. `US/Eastern`). */
export function isIanaZone(tzid: string): boolean {
  return ianaName(tzid) !== undefined;
}

const UTC_NAMES = new Set(
  ['UTC', 'Z', 'GMT', 'UCT', 'Zulu', 'Universal', 'Greenwich', 'GMT0', 'GMT+0', 'GMT-0'].flatMap((n) => [
    n.toLowerCase(),
    `etc/${n.toLowerCase()}`,
  ]),
);

/** Whether the TZID is a name for UTC itself, so that a time in it is better written with `Z`. */
export function isUtcName(tzid: string): boolean {
  return UTC_NAMES.has(tzid.toLowerCase());
}

/**
 * The VTIMEZONE text (CRLF lines, unfolded) for an IANA zone, with TZID and X-LIC-LOCATION
 * spelled as asked (the library answers a link such as `US/Eastern` with its target's block,
 * and RFC 5545 §3.2.19 wants the TZID parameter and the VTIMEZONE's TZID to be equal).
 */
export function ianaVtimezone(tzid: string): string | undefined {
  const name = ianaName(tzid);
  if (!name) return undefined;
  const block = tzlib_get_ical_block(name);
  const text = Array.isArray(block) ? block[0] : undefined;
  if (!text) return undefined;
  return text
    .split(/\r\n/)
    .map((line) => {
      const upper = line.toUpperCase();
      if (upper.startsWith('TZID:')) return `TZID:${tzid}`;
      if (upper.startsWith('X-LIC-LOCATION:')) return `X-LIC-LOCATION:${tzid}`;
      return line;
    })
    .join('\r\n');
}

/**
 * Registers the IANA zone under the given TZID with ical.js's TimezoneService, once, and
 * returns it; undefined for a TZID that is not an IANA zone. Idempotent and cheap to repeat.
 */
export function registerIanaZone(tzid: string): Timezone | undefined {
  const known = ICAL.TimezoneService.get(tzid);
  if (known) return known;
  const text = ianaVtimezone(tzid);
  if (!text) return undefined;
  const zone = timezoneFromText(text);
  if (!zone) return undefined;
  ICAL.TimezoneService.register(zone, tzid);
  return zone;
}

/**
 * Builds an ical.js Timezone from VTIMEZONE text, or undefined when ical.js cannot read it or
 * it cannot give an offset (a broken definition must not stop an item from being read).
 */
export function timezoneFromText(text: string): Timezone | undefined {
  // ical.js expands a zone's rules from its first DTSTART on (1601 for Outlook's zones), which
  // costs milliseconds, so a zone is built once per distinct text.
  if (builtZones.has(text)) return builtZones.get(text);
  const zone = buildTimezone(text);
  remember(builtZones, text, zone);
  return zone;
}

function buildTimezone(text: string): Timezone | undefined {
  try {
    const zone = new ICAL.Timezone(new ICAL.Component(ICAL.parse(text)));
    // Expanding the rules is lazy in ical.js; ask once so that a broken rule fails here.
    const probe = ICAL.Time.fromData({ year: 2000, month: 1, day: 1, hour: 12 });
    const offset = zone.utcOffset(probe);
    return Number.isFinite(offset) ? zone : undefined;
  } catch {
    return undefined;
  }
}

/** The TZID a VTIMEZONE text declares (read from its TZID line), or ''. */
export function vtimezoneId(text: string): string {
  const known = zoneIds.get(text);
  if (known !== undefined) return known;
  const [root] = safeComponents(text);
  const tzid = root ? tzidOfLines(root.lines) : '';
  remember(zoneIds, text, tzid);
  return tzid;
}

/** The TZID declared among a VTIMEZONE's own content lines, or ''. */
export function tzidOfLines(lines: readonly string[]): string {
  const line = lines.find((l) => propertyName(l) === 'TZID');
  return line ? rawValue(line).trim() : '';
}

function safeComponents(text: string) {
  try {
    return buildComponents(unfoldLines(text), 'VTIMEZONE');
  } catch {
    return [];
  }
}

/**
 * Resolves a TZID for computing instants: the IANA zone of that name first (current data,
 * registered with ical.js), else a VTIMEZONE the item carries, else undefined, meaning the
 * caller treats the time as floating.
 */
export function resolveZone(tzid: string, carried: readonly string[] = []): Timezone | undefined {
  if (tzid === '') return undefined;
  if (isUtcName(tzid)) return ICAL.Timezone.utcTimezone;
  const iana = registerIanaZone(tzid);
  if (iana) return iana;
  const text = carried.find((t) => vtimezoneId(t) === tzid);
  return text ? timezoneFromText(text) : undefined;
}
