import { mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { isLiaisonError, LiaisonError } from '../../domain/errors.js';
import type { CollectionKind } from '../../domain/ids.js';
import { COLLECTION_KINDS } from '../../domain/ids.js';
import { formatMarkerNote, parseMarkerNote } from '../marker-note-text.js';
import type { MailboxCollection, MailboxServer, MailboxStore, MarkerNote } from '../port.js';
import { writeFileAtomic } from './atomic-file.js';
import { errnoCode, fsFailure } from './fs-error.js';
import type { VdirCollectionOptions } from './vdir-collection.js';
import { VdirCollection } from './vdir-collection.js';

/** The folder of each collection inside an account's folder. */
export const VDIR_COLLECTION_FOLDER: Readonly<Record<CollectionKind, string>> = {
  contacts: 'contacts',
  calendar: 'calendar',
};

/**
 * Liaison's own folder inside an account's folder, holding the sync marker. The leading dot
 * hides it from vdirsyncer's collection discovery (it skips dot-folders) and from the `*`
 * globs khal and khard are configured with, so no client shows it or syncs it elsewhere.
 */
export const VDIR_MARKER_FOLDER = '.liaison-sync';
/** The marker note's file name inside {@link VDIR_MARKER_FOLDER}. */
export const VDIR_MARKER_FILE = 'marker.ics';

/** Settings of a {@link VdirMailboxServer}. */
export interface VdirMailboxOptions {
  /**
   * fsync every written file before renaming it into place, so a power cut leaves the old
   * or the new file and never an empty one. Default: true.
   */
  readonly fsync?: boolean;
  /** Files stat'ed or read at once. Default: 64. */
  readonly concurrency?: number;
}

/**
 * Mailboxes kept as vdir folders: account ACCOUNT lives in DIR/ACCOUNT, its address book in
 * DIR/ACCOUNT/contacts/ and its calendar in DIR/ACCOUNT/calendar/, one .vcf or .ics file per
 * item, readable by khard, khal and vdirsyncer. The sync marker is the iCalendar note
 * DIR/ACCOUNT/.liaison-sync/marker.ics.
 *
 * An account name must be a single, non-hidden path segment; `open` throws `Config` otherwise.
 */
export class VdirMailboxServer implements MailboxServer {
  /** The absolute folder holding one folder per account. */
  readonly dir: string;
  readonly #options: VdirCollectionOptions;

  constructor(dir: string, options: VdirMailboxOptions = {}) {
    this.dir = resolve(dir);
    this.#options = { fsync: options.fsync ?? true, concurrency: Math.max(1, options.concurrency ?? 64) };
  }

  open(account: string): MailboxStore {
    return new VdirMailboxStore(this.#accountDir(account), account, this.#options);
  }

  async ensureMailbox(account: string): Promise<void> {
    const accountDir = this.#accountDir(account);
    for (const kind of COLLECTION_KINDS) {
      const path = join(accountDir, VDIR_COLLECTION_FOLDER[kind]);
      try {
        await mkdir(path, { recursive: true });
      } catch (e) {
        throw fsFailure(e, 'create folder', path, { user: account, collection: path });
      }
    }
  }

  #accountDir(account: string): string {
    // The account name becomes a path segment: refuse anything that could leave DIR or hide.
    if (
      account.length === 0 ||
      account.length > 200 ||
      account.startsWith('.') ||
      /[/\\\0]/.test(account) ||
      account.trim() !== account
    ) {
      throw new LiaisonError('Config', `${JSON.stringify(account)} is not a usable vdir account name`, {
        context: { user: account, server: this.dir },
      });
    }
    return join(this.dir, account);
  }
}

/** One account's folder. */
class VdirMailboxStore implements MailboxStore {
  constructor(
    /** The account's folder. */
    readonly location: string,
    private readonly account: string,
    private readonly options: VdirCollectionOptions,
  ) {}

  async collection(kind: CollectionKind): Promise<MailboxCollection> {
    const path = join(this.location, VDIR_COLLECTION_FOLDER[kind]);
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw fsFailure(e, 'open', path);
      isDirectory = false;
    }
    if (!isDirectory) {
      throw new LiaisonError('NotFound', `${path} is not a folder: the mailbox has no ${kind} collection`, {
        context: { user: this.account, collection: path },
      });
    }
    return new VdirCollection(kind, path, this.account, this.options);
  }

  async readMarker(): Promise<MarkerNote | null> {
    const path = this.#markerPath();
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return null;
      throw fsFailure(e, 'read sync marker', path, { user: this.account, href: path });
    }
    try {
      return parseMarkerNote(text);
    } catch (e) {
      if (!isLiaisonError(e)) throw e;
      // Guessing would risk syncing over a restored mailbox: report it, naming the file.
      throw new LiaisonError('InvalidData', `${path}: ${e.message}`, {
        cause: e,
        context: { user: this.account, href: path },
      });
    }
  }

  /** Files are written as they are asked for: nothing waits to be sent. */
  async sendStarted(): Promise<void> {}

  async writeMarker(note: MarkerNote): Promise<void> {
    const folder = join(this.location, VDIR_MARKER_FOLDER);
    try {
      // The account folder must exist (ENOENT → NotFound): a recursive mkdir alone would
      // invent a mailbox under a mistyped account name.
      await stat(this.location);
      await mkdir(folder, { recursive: true });
      await writeFileAtomic(this.#markerPath(), formatMarkerNote(note), 'replace', this.options);
    } catch (e) {
      throw fsFailure(e, 'write sync marker', this.#markerPath(), { user: this.account, collection: folder });
    }
  }

  #markerPath(): string {
    return join(this.location, VDIR_MARKER_FOLDER, VDIR_MARKER_FILE);
  }
}
