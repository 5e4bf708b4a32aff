import { DAV_DEFAULTS, type DavServerConfig } from '../../../src/mailbox/dav/dav-config.js';

/** A DAV server configuration for a test server, with short timeouts. */
export function davTestConfig(
  server: { readonly url: string; readonly username: string; readonly password: string },
  overrides: Partial<DavServerConfig> = {},
): DavServerConfig {
  return {
    name: 'test-dav',
    url: server.url,
    auth: { kind: 'basic', username: server.username, password: server.password },
    tls: { skipVerify: false },
    ...DAV_DEFAULTS,
    timeoutMs: 10_000,
    ...overrides,
  };
}
