const FREQS = new Set(['SECONDLY', 'MINUTELY', 'HOURLY', 'DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY']);
const PARTS = new Set([
  'FREQ',
  'UNTIL',
  'COUNT',
  'INTERVAL',
  'BYSECOND',
  'BYMINUTE',
  'BYHOUR',
  'BYDAY',
  'BYMONTHDAY',
  'BYYEARDAY',
  'BYWEEKNO',
  'BYMONTH',
  'BYSETPOS',
  'WKST',
]);

/**
 * What is wrong with a recurrence rule given by a person, or null when it is sound
 * (RFC 5545 §3.3.10: FREQ is required, COUNT and UNTIL exclude each other, each part
 * once). ical.js reads almost anything without complaint, so rules typed on the command
 * line are checked here before they can reach a mailbox.
 *
 * With `lenient` (a rule read from a mailbox) only what makes a rule meaningless is a
 * problem — no FREQ, or an unknown one, or a COUNT, INTERVAL or UNTIL that is not a number
 * or date; parts of later standards (RSCALE, SKIP of RFC 7529) and repeated parts pass.
 */
export function rruleProblem(text: string, lenient = false): string | null {
  const seen = new Set<string>();
  for (const part of text
    .trim()
    .toUpperCase()
    .replace(/^RRULE:/, '')
    .split(';')) {
    const [key, value, ...rest] = part.split('=');
    if (!key || value === undefined || value === '' || rest.length > 0) return `"${part}" is not NAME=VALUE`;
    if (!lenient && !PARTS.has(key)) return `${key} is not a recurrence rule part`;
    if (!lenient && seen.has(key)) return `${key} is given twice`;
    seen.add(key);
    if (key === 'FREQ' && !FREQS.has(value)) return `FREQ=${value} is not one of ${[...FREQS].join(', ')}`;
    if ((key === 'COUNT' || key === 'INTERVAL') && !/^[1-9]\d*$/.test(value))
      return `${key} must be a positive number`;
    if (key === 'UNTIL' && !/^\d{8}(T\d{6}Z?)?$/.test(value))
      return 'UNTIL must be a date (YYYYMMDD) or date-time (YYYYMMDDTHHMMSSZ)';
  }
  if (!seen.has('FREQ')) return 'FREQ is required';
  if (!lenient && seen.has('COUNT') && seen.has('UNTIL')) return 'COUNT and UNTIL cannot both be given';
  return null;
}
