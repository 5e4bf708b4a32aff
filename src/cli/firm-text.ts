/**
 * Human forms of firm sync's values: the run report, field values, provenance and the
 * before → after of reviews and journal lines. JSON output never goes through here.
 */
import { type Fields, type FieldValue, sameValue } from '../domain/fields.js';
import type { FieldSource, FirmCounts, FirmRunReport, FirmUserReport } from '../firm/index.js';
import { summaryLine } from './report-text.js';

/** Longest value shown in a table cell before it is cut (the JSON output has it whole). */
const CELL = 60;

const cut = (text: string, max = CELL) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

function isRecord(v: FieldValue): v is { readonly [key: string]: FieldValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One element of a list field: an e-mail, phone or URL by its value, an address by its parts. */
function elementText(v: FieldValue): string {
  if (!isRecord(v)) return valueText(v);
  if (typeof v.value === 'string') {
    const types = Array.isArray(v.types) && v.types.length > 0 ? ` (${v.types.join(', ')})` : '';
    return `${v.value}${types}`;
  }
  if ('street' in v || 'locality' in v) {
    return ['poBox', 'extended', 'street', 'locality', 'region', 'postalCode', 'country']
      .map((k) => v[k])
      .filter((p): p is string => typeof p === 'string' && p !== '')
      .join(', ');
  }
  return JSON.stringify(v);
}

/** A field value as an administrator reads it; '' for an empty one. */
export function valueText(v: FieldValue | undefined): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(elementText).join('; ');
  if (isRecord(v) && 'given' in v && 'family' in v) {
    return ['prefix', 'given', 'additional', 'family', 'suffix']
      .map((k) => v[k])
      .filter((p): p is string => typeof p === 'string' && p !== '')
      .join(' ');
  }
  return JSON.stringify(v);
}

/** Who set a field: the user and run, or an administrator. */
export function sourceText(s: FieldSource | undefined): { by: string; run: string; at: string } {
  if (s === undefined) return { by: '', run: '', at: '' };
  return { by: s.user ?? 'administrator', run: s.run ?? '', at: s.at };
}

/**
 * `field: before → after` for each field whose value differs, joined by "; "; a creation or a
 * deletion (no before, or no after) by the item's name. A link's base (the values last
 * exchanged) is bookkeeping and left out; `--json` shows it.
 */
export function changeText(before: Fields | null, after: Fields | null, max = 100): string {
  if (before === null && after !== null) return `+ ${nameOf(after)}`;
  if (after === null && before !== null) return `- ${nameOf(before)}`;
  const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].filter(
    (k) =>
      k !== 'base' &&
      !sameValue(before?.[k], after?.[k]) &&
      // null and '' (or []) are both "nothing" to the reader.
      (valueText(before?.[k]) !== '' || valueText(after?.[k]) !== ''),
  );
  const show = (v: FieldValue | undefined) => cut(valueText(v), 40) || '∅';
  return cut(keys.map((k) => `${k}: ${show(before?.[k])} → ${show(after?.[k])}`).join('; '), max);
}

/** A contact's (or an event's) name from its fields, for listings. */
export function nameOf(fields: Fields): string {
  for (const k of ['formattedName', 'summary']) {
    const v = fields[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  const name = valueText(fields.name);
  if (name !== '') return name;
  const emails = fields.emails;
  return Array.isArray(emails) && emails.length > 0 ? elementText(emails[0] ?? null) : '(no name)';
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The counts of one user's step, the ones that are not zero after the main ones. */
function countsText(step: FirmUserReport['step'], c: FirmCounts): string {
  const parts =
    step === 'up'
      ? [`firm contacts: ${c.firmCreated} created, ${c.firmUpdated} updated, ${c.connected} connected`]
      : [`user contacts: ${c.userContactsUpdated} updated`];
  if (c.flaggedDuplicates > 0) parts.push(`${plural(c.flaggedDuplicates, 'possible duplicate')} flagged`);
  if (c.reviewsHeld > 0) parts.push(`${c.reviewsHeld} held for review`);
  if (c.notMatched > 0) parts.push(`${c.notMatched} not matched`);
  if (c.keptPrivate > 0) parts.push(`${c.keptPrivate} kept private`);
  if (c.detached > 0) parts.push(`${c.detached} kept apart (firm contact deleted)`);
  if (c.groups > 0) parts.push(`${plural(c.groups, 'contact group')} (not people)`);
  if (c.overruled > 0)
    parts.push(
      `${plural(c.overruled, 'field')} another user changed too (this user's value taken; see the journal)`,
    );
  if (c.disconnected > 0) parts.push(`${c.disconnected} disconnected`);
  return parts.join('; ');
}

function renderUser(u: FirmUserReport): string {
  const out = [
    u.outcome === 'unchanged' || u.outcome === 'skipped'
      ? `  ${u.user} ${u.step}: ${u.outcome}`
      : `  ${u.user} ${u.step}: ${u.outcome} — ${countsText(u.step, u.counts)}`,
  ];
  if (u.reason) out.push(`    why: ${u.reason}`);
  for (const m of u.notMatched) {
    out.push(`    not matched: contact ${m.id} (UID ${m.uid}) has no name and no e-mail address`);
  }
  const unnamed = u.counts.notMatched - u.notMatched.length;
  if (unnamed > 0) out.push(`    … and ${unnamed} more not matched`);
  return out.join('\n');
}

/** The human form of a firm sync report: one line per user and step, then the totals. */
export function renderFirmReport(report: FirmRunReport): string {
  const options = [`step ${report.step}`];
  if (report.groups.length > 0) options.push(`groups ${report.groups.join(', ')}`);
  if (report.dryRun) options.push('dry run');
  const lines = [`Firm sync run ${report.runId} (${options.join(', ')})`];
  if (report.users.length === 0) lines.push('  no users in scope');
  for (const u of report.users) lines.push(renderUser(u));
  lines.push(summaryLine(report.users.map((u) => u.outcome)));
  const t = report.totals;
  if (report.users.some((u) => u.outcome === 'synced')) {
    lines.push(
      `Totals: firm contacts ${t.firmCreated} created, ${t.firmUpdated} updated, ${t.connected} connected; ` +
        `${t.flaggedDuplicates} possible duplicates; user contacts ${t.userContactsUpdated} updated; ` +
        `${t.reviewsHeld} held for review; ${t.notMatched} not matched`,
    );
  }
  if (t.reviewsHeld > 0) lines.push('Held changes wait for a decision: liaison review list');
  return `${lines.join('\n')}\n`;
}
