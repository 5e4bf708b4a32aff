import type { ErrorContext } from '../../domain/errors.js';
import { LiaisonError } from '../../domain/errors.js';

/** The errno code of a Node.js file-system error (`ENOENT`, `EEXIST`, …), if it has one. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  return typeof e.code === 'string' ? e.code : undefined;
}

/**
 * Wraps a file-system error in a `LiaisonError` whose kind drives retries: a missing path is
 * `NotFound`, a permission or read-only problem is `AccessDenied` (an administrator must
 * act), anything else (full disk, I/O error, too many open files) is `Unavailable`.
 */
export function fsFailure(
  e: unknown,
  action: string,
  path: string,
  context: ErrorContext = {},
): LiaisonError {
  const code = errnoCode(e);
  const kind =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'NotFound'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'AccessDenied'
        : 'Unavailable';
  const reason = code ?? (e instanceof Error ? e.message : String(e));
  return new LiaisonError(kind, `could not ${action} ${path}: ${reason}`, { cause: e, context });
}
