import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { constants } from 'node:fs';
import { copyFile, link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Etag } from '../../domain/ids.js';
import { asEtag } from '../../domain/ids.js';
import { errnoCode } from './fs-error.js';

/** Suffix of the temporary files written next to their target; listings skip them. */
export const TEMP_SUFFIX = '.tmp';

/**
 * The etag of a file: modification time in nanoseconds, size and inode.
 *
 * Every write of ours goes through a new temporary file that is renamed (or linked) into
 * place, so each version has an inode different from the one it replaced, and its etag
 * differs even when time and size do not. A program that rewrites a file in place keeps
 * the inode; its edit shows as a new mtime or size. The blind spot left is an in-place
 * edit that keeps the size within one tick of the file-system clock (a few milliseconds
 * on Linux), which no stat-based etag can see.
 */
export function etagOfStats(stats: BigIntStats): Etag {
  return asEtag(`${stats.mtimeNs}-${stats.size}-${stats.ino}`);
}

/** How {@link writeFileAtomic} treats an existing target. */
export type WriteMode = 'replace' | 'exclusive';

/**
 * Writes `text` to `target` so that readers see the old file or the new one, never a part:
 * the text goes to a hidden temporary file in the same folder (same file system, so the
 * final step is atomic), then `rename` replaces the target, or — for `exclusive` — `link`
 * puts it in place only when no file has that name (link fails with EEXIST, which gives
 * If-None-Match: * semantics without a check-then-write race).
 *
 * Returns the new file's stats, taken from the temporary file before it is moved (rename
 * and link keep inode, size and mtime), so the etag describes our write even if another
 * program touches the file right after. Returns null when `exclusive` found a file there.
 * The temporary file is always removed.
 */
export async function writeFileAtomic(
  target: string,
  text: string,
  mode: WriteMode,
  options: { fsync: boolean },
): Promise<BigIntStats | null> {
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  let moved = false;
  try {
    const handle = await open(temp, 'wx');
    let stats: BigIntStats;
    try {
      await handle.writeFile(text, 'utf8');
      if (options.fsync) await handle.sync();
      stats = await handle.stat({ bigint: true });
    } finally {
      await handle.close();
    }
    if (mode === 'replace') {
      await rename(temp, target);
      moved = true;
      return stats;
    }
    try {
      await link(temp, target);
      return stats;
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return null;
      if (!LINK_UNSUPPORTED.has(errnoCode(e) ?? '')) throw e;
    }
    // File systems without hard links (some network and FUSE mounts): an exclusive copy is
    // still never an overwrite, though a reader may briefly see a partly written file.
    try {
      await copyFile(temp, target, constants.COPYFILE_EXCL);
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return null;
      throw e;
    }
    return await stat(target, { bigint: true });
  } finally {
    if (!moved) await unlink(temp).catch(() => undefined);
  }
}

const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);
