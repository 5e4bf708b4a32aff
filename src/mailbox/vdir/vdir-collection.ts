import { createHash } from 'node:crypto';
import type { BigIntStats, Dirent } from 'node:fs';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { lstat, open, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorContext } from '../../domain/errors.js';
import { LiaisonError } from '../../domain/errors.js';
import type { CollectionKind, Etag, Href, SyncToken, Uid } from '../../domain/ids.js';
import { asHref } from '../../domain/ids.js';
import { mapBounded } from '../bounded-map.js';
import { ITEM_EXTENSION, itemName } from '../item-name.js';
import type { ChangeSet, ItemRef, MailboxCollection, ReadResult, WriteResult } from '../port.js';
import { etagOfStats, writeFileAtomic } from './atomic-file.js';
import { errnoCode, fsFailure } from './fs-error.js';

/** vCard 4.0 and iCalendar are UTF-8 (RFC 6350 §3.1, RFC 5545 §3.1). */
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Tuning of a vdir collection. */
export interface VdirCollectionOptions {
  /** fsync each written file before it is renamed into place. */
  readonly fsync: boolean;
  /** How many files are stat'ed or read at once. */
  readonly concurrency: number;
}

/**
 * One vdir collection: a folder holding one `.vcf` (contacts) or `.ics` (calendar) file per
 * item, as khard, khal and vdirsyncer keep them. The href is the file name; the etag comes
 * from the file's stat (see `etagOfStats`), so edits by other programs are seen.
 *
 * Preconditions are checked by a stat just before the write. A program that changes the
 * file between that stat and our rename loses its edit — a window of well under a
 * millisecond that a file system without locks cannot close; the next sync sees our
 * version and nothing is duplicated. Creates have no such window (see `writeFileAtomic`).
 *
 * A folder keeps no change list: `currentToken` and `changesSince` return null, and
 * `probe` is a digest of the listing.
 */
export class VdirCollection implements MailboxCollection {
  readonly #extension: string;

  constructor(
    readonly kind: CollectionKind,
    /** The folder's path. */
    readonly location: string,
    private readonly account: string,
    private readonly options: VdirCollectionOptions,
  ) {
    this.#extension = ITEM_EXTENSION[kind];
  }

  /** Files are read as they are asked for: nothing waits to be sent. */
  async sendStarted(): Promise<void> {}

  async list(): Promise<ItemRef[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.location, { withFileTypes: true });
    } catch (e) {
      throw fsFailure(e, 'list', this.location, this.#context());
    }
    // Symbolic links are listed so that reading reports them (they are not followed: a link
    // could reach any file Liaison may read); left out, such a contact would never sync unseen.
    const names = entries
      .filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && this.#isItemName(entry.name))
      .map((e) => e.name);
    const refs = await mapBounded(names, this.options.concurrency, async (name) => {
      try {
        return {
          href: asHref(name),
          etag: etagOfStats(await lstat(join(this.location, name), { bigint: true })),
        };
      } catch (e) {
        // Deleted between readdir and stat: it is simply not part of this listing.
        if (errnoCode(e) === 'ENOENT') return null;
        throw fsFailure(e, 'stat', join(this.location, name), this.#context(name));
      }
    });
    return refs.filter((ref): ref is ItemRef => ref !== null);
  }

  async probe(): Promise<string> {
    return listingDigest(await this.list());
  }

  readonly probeFromListing = listingDigest;
  /** A folder keeps no change list. */
  readonly keepsChangeList = false;

  async currentToken(): Promise<SyncToken | null> {
    return null;
  }

  async listAll(): Promise<{ refs: ItemRef[]; token: SyncToken | null }> {
    return { refs: await this.list(), token: null };
  }

  async changesSince(_token: SyncToken): Promise<ChangeSet | null> {
    return null;
  }

  /**
   * Reads up to `concurrency` files at a time, yielding in the order asked. Each etag comes
   * from the same open file as its text, so the two always belong together. Text is decoded
   * as UTF-8; invalid bytes become U+FFFD and are left to the format layer to judge.
   */
  async *read(hrefs: readonly Href[]): AsyncIterable<ReadResult> {
    type Settled = { ok: true; value: ReadResult } | { ok: false; error: unknown };
    const window: Promise<Settled>[] = [];
    let next = 0;
    const startOne = () => {
      const href = hrefs[next] as Href;
      next += 1;
      // Settle at once so a failure ahead of the consumer is never an unhandled rejection.
      window.push(
        this.#readOne(href).then(
          (value): Settled => ({ ok: true, value }),
          (error: unknown): Settled => ({ ok: false, error }),
        ),
      );
    };
    while (next < hrefs.length && window.length < this.options.concurrency) startOne();
    while (window.length > 0) {
      const settled = await (window.shift() as Promise<Settled>);
      if (next < hrefs.length) startOne();
      if (!settled.ok) throw settled.error;
      yield settled.value;
    }
  }

  async create(uid: Uid, text: string): Promise<WriteResult> {
    const href = itemName(uid, this.kind);
    const path = join(this.location, href);
    let stats: BigIntStats | null;
    try {
      stats = await writeFileAtomic(path, text, 'exclusive', this.options);
    } catch (e) {
      throw fsFailure(e, 'create', path, this.#context(href));
    }
    if (stats === null) {
      throw new LiaisonError('AlreadyExists', `${path} already exists (UID ${uid})`, {
        context: this.#context(href),
      });
    }
    return { href, etag: etagOfStats(stats) };
  }

  async update(href: Href, text: string, ifMatch: Etag): Promise<WriteResult> {
    const path = this.#itemPath(href);
    await this.#checkEtag(href, path, ifMatch, 'update');
    try {
      const stats = await writeFileAtomic(path, text, 'replace', this.options);
      return { href, etag: stats === null ? null : etagOfStats(stats) };
    } catch (e) {
      throw fsFailure(e, 'update', path, this.#context(href));
    }
  }

  async delete(href: Href, ifMatch: Etag): Promise<void> {
    const path = this.#itemPath(href);
    if ((await this.#checkEtag(href, path, ifMatch, 'delete')) === 'gone') return;
    try {
      await unlink(path);
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw fsFailure(e, 'delete', path, this.#context(href));
    }
  }

  /** Throws `PreconditionFailed` unless the file's etag is `ifMatch`; a missing file passes only for delete. */
  async #checkEtag(
    href: Href,
    path: string,
    ifMatch: Etag,
    action: 'update' | 'delete',
  ): Promise<'gone' | 'ok'> {
    let current: Etag | null;
    try {
      current = etagOfStats(await lstat(path, { bigint: true }));
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw fsFailure(e, 'stat', path, this.#context(href));
      current = null;
    }
    if (current === null && action === 'delete') return 'gone';
    if (current !== ifMatch) {
      throw new LiaisonError(
        'PreconditionFailed',
        `${path} changed since it was listed (expected etag ${ifMatch}, found ${current ?? 'no file'})`,
        { context: this.#context(href) },
      );
    }
    return 'ok';
  }

  async #readOne(href: Href): Promise<ReadResult> {
    // An href that could not be one of our files (a path, a hidden name) cannot exist here.
    if (!this.#isItemName(href)) return { href, missing: true };
    const path = join(this.location, href);
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return { href, missing: true };
      if (code === 'ELOOP') {
        return {
          href,
          failed: 'the file is a symbolic link, which is not followed: put the file itself here',
        };
      }
      // This file alone cannot be read (its permissions): reported, the rest of the folder syncs.
      if (code === 'EACCES' || code === 'EPERM') {
        return { href, failed: `the file cannot be read (${code}): check its permissions` };
      }
      throw fsFailure(e, 'read', path, this.#context(href));
    }
    try {
      const stats = await handle.stat({ bigint: true });
      if (!stats.isFile()) return { href, missing: true };
      const bytes = await handle.readFile();
      try {
        return { href, etag: etagOfStats(stats), text: STRICT_UTF8.decode(bytes) };
      } catch {
        // Decoded leniently, the bytes would turn into U+FFFD and, written back after any
        // edit, replace the file's real text. Reported and left alone instead.
        return { href, failed: 'the file is not valid UTF-8 text' };
      }
    } catch (e) {
      throw fsFailure(e, 'read', path, this.#context(href));
    } finally {
      await handle.close();
    }
  }

  holds(href: Href): boolean {
    return this.#isItemName(href);
  }

  /** The path of an item, refusing an href that is not a plain item file name of this folder. */
  #itemPath(href: Href): string {
    if (!this.#isItemName(href)) {
      throw new LiaisonError('InvalidData', `${JSON.stringify(href)} is not an item of ${this.location}`, {
        context: this.#context(href),
      });
    }
    return join(this.location, href);
  }

  /** Item files: our extension, not hidden (temporary files and editors' swap files are). */
  #isItemName(name: string): boolean {
    return (
      name.length > this.#extension.length &&
      !name.startsWith('.') &&
      !name.includes('/') &&
      !name.includes('\0') &&
      name.toLowerCase().endsWith(this.#extension)
    );
  }

  #context(href?: string): ErrorContext {
    return href === undefined
      ? { user: this.account, collection: this.location }
      : { user: this.account, collection: this.location, href };
  }
}

/**
 * A folder's fingerprint: names and etags, sorted so the digest does not depend on
 * directory order. An added, removed, renamed or edited file changes a line and so the digest.
 */
export function listingDigest(refs: readonly ItemRef[]): string {
  const lines = refs.map((ref) => `${ref.href}\0${ref.etag}\n`).sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return `vdir:${lines.length}:${hash.digest('hex')}`;
}
