/**
 * The one error type. Retry and skip decisions are a function of `kind`;
 * expected outcomes (conflicts, quarantined items, skipped or held users) are
 * report values, never thrown.
 */
export type ErrorKind =
  | 'NotFound'
  | 'PreconditionFailed'
  | 'AlreadyExists'
  | 'InvalidSyncToken'
  | 'Truncated'
  | 'Unavailable'
  | 'RateLimited'
  | 'AccessDenied'
  | 'InvalidData'
  /** Well-formed, but not something Liaison syncs (a task or journal entry in a calendar). */
  | 'Unsupported'
  | 'Config'
  | 'Usage'
  | 'OutOfSync'
  | 'Busy'
  | 'Database';

export interface ErrorContext {
  readonly user?: string;
  readonly collection?: string;
  readonly href?: string;
  readonly server?: string;
}

export class LiaisonError extends Error {
  readonly kind: ErrorKind;
  readonly context: ErrorContext;

  constructor(kind: ErrorKind, message: string, options: { cause?: unknown; context?: ErrorContext } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LiaisonError';
    this.kind = kind;
    this.context = options.context ?? {};
  }
}

export function isLiaisonError(e: unknown, kind?: ErrorKind): e is LiaisonError {
  return e instanceof LiaisonError && (kind === undefined || e.kind === kind);
}

/** Kinds worth retrying with backoff: the other end may answer next time. */
export function isTransient(kind: ErrorKind): boolean {
  return kind === 'Unavailable' || kind === 'RateLimited';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
