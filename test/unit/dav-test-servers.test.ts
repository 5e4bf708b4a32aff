import { afterEach, describe, expect, it } from 'vitest';
import { RADICALE_BIN_VARIABLE, startRadicale } from '../support/dav-servers/radicale.js';
import { startXandikos, XANDIKOS_BIN_VARIABLE } from '../support/dav-servers/xandikos.js';

const saved = { radicale: process.env[RADICALE_BIN_VARIABLE], xandikos: process.env[XANDIKOS_BIN_VARIABLE] };

afterEach(() => {
  for (const [variable, value] of [
    [RADICALE_BIN_VARIABLE, saved.radicale],
    [XANDIKOS_BIN_VARIABLE, saved.xandikos],
  ] as const) {
    if (value === undefined) delete process.env[variable];
    else process.env[variable] = value;
  }
});

describe('test DAV servers', () => {
  it('fail, naming the Debian package to install, when the program is missing', async () => {
    process.env[RADICALE_BIN_VARIABLE] = '/nonexistent/radicale';
    process.env[XANDIKOS_BIN_VARIABLE] = '/nonexistent/xandikos';
    await expect(startRadicale()).rejects.toThrow(/install the Debian package "radicale"/);
    await expect(startXandikos()).rejects.toThrow(/install the Debian package "xandikos"/);
  });
});
