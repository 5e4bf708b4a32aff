import type { Server } from 'node:http';

/** An HTTP server of the tests', listening on a free port of 127.0.0.1. */
export interface LocalHttp {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/** Starts `server` on a free port of 127.0.0.1. */
export async function listenLocally(server: Server): Promise<LocalHttp> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
