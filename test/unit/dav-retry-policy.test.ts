import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  isRepeatable,
  mayRetryFailure,
  retriesAfter,
  retryAfterMs,
} from '../../src/mailbox/dav/retry-policy.js';

describe('Retry-After', () => {
  const now = Date.parse('2026-01-01T10:00:00Z');

  it('reads delay-seconds and HTTP dates (RFC 9110 §10.2.3)', () => {
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Thu, 01 Jan 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs('Thu, 01 Jan 2026 09:00:00 GMT', now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
    expect(retryAfterMs('-5', now)).toBeUndefined();
  });
});

describe('backoff', () => {
  const settings = { retries: 5, backoffMs: 100, maxWaitMs: 1000 };

  it('doubles per attempt with jitter between half and all of the step, capped', () => {
    expect(backoffMs(0, settings, () => 0)).toBe(50);
    expect(backoffMs(0, settings, () => 1)).toBe(100);
    expect(backoffMs(2, settings, () => 0)).toBe(200);
    expect(backoffMs(2, settings, () => 1)).toBe(400);
    expect(backoffMs(10, settings, () => 1)).toBe(1000);
    expect(backoffMs(10, settings, () => 0)).toBe(500);
  });
});

describe('which requests are repeated', () => {
  it('repeats safe methods and conditional writes only', () => {
    for (const method of ['PROPFIND', 'REPORT', 'GET', 'OPTIONS'])
      expect(isRepeatable(method, {})).toBe(true);
    expect(isRepeatable('PUT', { 'if-match': '"1"' })).toBe(true);
    expect(isRepeatable('PUT', { 'if-none-match': '*' })).toBe(true);
    expect(isRepeatable('PUT', {})).toBe(false);
    expect(isRepeatable('DELETE', { 'if-match': '"1"' })).toBe(true);
    expect(isRepeatable('DELETE', {})).toBe(false);
    for (const method of ['PROPPATCH', 'MKCOL', 'MKCALENDAR']) expect(isRepeatable(method, {})).toBe(false);
  });

  it('repeats any request that never reached the server', () => {
    expect(mayRetryFailure('ECONNREFUSED', false)).toBe(true);
    expect(mayRetryFailure('UND_ERR_CONNECT_TIMEOUT', false)).toBe(true);
    expect(mayRetryFailure('ECONNRESET', false)).toBe(false);
    expect(mayRetryFailure('UND_ERR_HEADERS_TIMEOUT', false)).toBe(false);
    expect(mayRetryFailure('ECONNRESET', true)).toBe(true);
  });

  it('tries a request that timed out once more at most', () => {
    expect(retriesAfter('UND_ERR_HEADERS_TIMEOUT', 3)).toBe(1);
    expect(retriesAfter('UND_ERR_CONNECT_TIMEOUT', 3)).toBe(1);
    expect(retriesAfter('UND_ERR_BODY_TIMEOUT', 0)).toBe(0);
    expect(retriesAfter('ECONNREFUSED', 3)).toBe(3);
    expect(retriesAfter(undefined, 3)).toBe(3);
  });
});
