import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { FirmRunReport, FirmUserReport } from '../../src/firm/firm-report.js';
import type { RunReport } from '../../src/sync/report.js';
import { type CliResult, liaison, liaisonJson } from './cli.js';

/*
 * What the firm sync end-to-end tests share: vCards written by hand, the guide's four-step
 * cycle run through the real CLI, and readers of the firm list, firm contacts and vdir files.
 */

/** A vCard 3.0 as a groupware client writes it; `extra` holds more content lines (CRLF ended). */
export const vcard = (uid: string, given: string, family: string, extra = '') =>
  `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${given} ${family}\r\nN:${family};${given};;;\r\n${extra}END:VCARD\r\n`;

/** A row of `liaison firm list --json`. */
export interface FirmListRow {
  id: string;
  formattedName: string;
  organization: string;
  emails: string[];
  connected: number;
  possibleDuplicate: boolean;
  candidates: string[];
}

interface Typed {
  types: string[];
  value: string;
}

/** `liaison firm show ID --json`: the firm contact and its connected user contacts. */
export interface FirmShow {
  id: string;
  fields: { formattedName: string; title: string; emails: Typed[]; phones: Typed[] } & Record<
    string,
    unknown
  >;
  provenance: Record<string, { user: string | null; run: string | null; at: string }>;
  possibleDuplicate: boolean;
  candidates: string[];
  connected: { login: string; userContactId: string; uid: string; formattedName: string }[];
}

/** A row of `liaison contacts list --json`. */
export interface ContactRow {
  id: string;
  uid: string;
  formattedName: string;
  title: string;
  note: string;
  private: boolean;
  phones: Typed[];
  emails: Typed[];
}

/** A line of `liaison journal --json`. */
export interface JournalRow {
  id: string;
  runId: string | null;
  actor: string;
  action: string;
  direction: string;
  login: string | null;
  firmContactId: string | null;
  userContactId: string | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  note: string;
  reason: string | null;
}

/** The four commands of one cycle, each with its exit code and report. */
export interface Cycle {
  readonly mailboxIn: { code: number; json: RunReport };
  readonly up: { code: number; json: FirmRunReport };
  readonly down: { code: number; json: FirmRunReport };
  readonly mailboxOut: { code: number; json: RunReport };
}

/** The CLI on one firm database (`env`), with vdir mailboxes under `mailboxes` when there are any. */
export class FirmCli {
  constructor(
    readonly env: Record<string, string>,
    readonly mailboxes = '',
  ) {}

  run(args: readonly string[]): Promise<CliResult> {
    return liaison(args, this.env);
  }

  async json<T>(args: readonly string[]): Promise<T> {
    const r = await liaisonJson<T>(args, this.env);
    expect(r.code, `liaison ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return r.json;
  }

  /** Runs a command expected to succeed; returns its output. */
  async ok(args: readonly string[]): Promise<string> {
    const r = await this.run(args);
    expect(r.code, `liaison ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
    return r.stdout;
  }

  mailboxSync(scope: 'contacts' | 'both') {
    return liaisonJson<RunReport>(['sync', '--all', '--mode', 'express', '--scope', scope], this.env);
  }

  firmSync(step: 'up' | 'down' | 'both', extra: readonly string[] = []) {
    return liaisonJson<FirmRunReport>(['firm-sync', '--step', step, ...extra], this.env);
  }

  /**
   * The guide's four-step cycle, as an administrator schedules it: mailbox contacts in → firm
   * up → firm down → mailbox contacts and calendar out.
   */
  async cycle(): Promise<Cycle> {
    const mailboxIn = await this.mailboxSync('contacts');
    const up = await this.firmSync('up');
    const down = await this.firmSync('down');
    const mailboxOut = await this.mailboxSync('both');
    return { mailboxIn, up, down, mailboxOut };
  }

  /** A cycle in which every step must exit 0. */
  async cleanCycle(): Promise<Cycle> {
    const c = await this.cycle();
    expect(
      [c.mailboxIn.code, c.up.code, c.down.code, c.mailboxOut.code],
      JSON.stringify([c.up.json, c.down.json]),
    ).toEqual([0, 0, 0, 0]);
    return c;
  }

  firmList(search?: string): Promise<FirmListRow[]> {
    return this.json<FirmListRow[]>(['firm', 'list', ...(search === undefined ? [] : ['--search', search])]);
  }

  /** The one firm contact found by `search`; fails unless there is exactly one. */
  async firmOne(search: string): Promise<FirmListRow> {
    const list = await this.firmList(search);
    expect(list, `firm list --search ${search}`).toHaveLength(1);
    return list[0]!;
  }

  firmShow(id: string): Promise<FirmShow> {
    return this.json<FirmShow>(['firm', 'show', id]);
  }

  contacts(login: string): Promise<ContactRow[]> {
    return this.json<ContactRow[]>(['contacts', 'list', '--user', login]);
  }

  journal(filters: readonly string[]): Promise<JournalRow[]> {
    return this.json<JournalRow[]>(['journal', ...filters]);
  }

  /** A user's vdir contacts folder. */
  folder(login: string): string {
    return join(this.mailboxes, login, 'contacts');
  }

  /** The texts of a user's vdir contact files. */
  files(login: string): string[] {
    const dir = this.folder(login);
    return readdirSync(dir)
      .filter((f) => f.endsWith('.vcf'))
      .map((f) => readFileSync(join(dir, f), 'utf8'));
  }

  /** The text of the one vdir contact file of `login` containing `needle`. */
  file(login: string, needle: string): string {
    const found = this.files(login).filter((t) => t.includes(needle));
    expect(found, `${login}'s files with ${needle}`).toHaveLength(1);
    return found[0]!;
  }

  write(login: string, name: string, text: string): void {
    writeFileSync(join(this.folder(login), name), text);
  }

  /** Rewrites the one file of `login` containing `needle`, as the user's client would. */
  edit(login: string, needle: string, change: (text: string) => string): void {
    const dir = this.folder(login);
    const name = readdirSync(dir).find((f) => readFileSync(join(dir, f), 'utf8').includes(needle));
    if (name === undefined) throw new Error(`no file of ${login} holds ${needle}`);
    const before = readFileSync(join(dir, name), 'utf8');
    const after = change(before);
    if (after === before) throw new Error(`the edit of ${name} changed nothing`);
    writeFileSync(join(dir, name), after);
  }
}

/** Adds a line before END:VCARD. */
export const addLine = (line: string) => (text: string) => text.replace('END:VCARD', `${line}\r\nEND:VCARD`);

/** The report of one user's step. */
export function stepOf(report: FirmRunReport, login: string, step: 'up' | 'down'): FirmUserReport {
  const r = report.users.find((u) => u.user === login && u.step === step);
  if (r === undefined) throw new Error(`no ${step} report for ${login} in ${JSON.stringify(report)}`);
  return r;
}

/** The phone numbers of a firm contact or contact row. */
export const phonesOf = (c: { phones: Typed[] } | { fields: { phones: Typed[] } }) =>
  ('fields' in c ? c.fields.phones : c.phones).map((p) => p.value);
