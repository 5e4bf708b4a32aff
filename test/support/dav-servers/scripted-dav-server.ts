/**
 * A tiny HTTP server on 127.0.0.1 whose answers a test scripts, recording every request:
 * for the transport's retries, recorded multistatus answers and request bodies that real
 * servers cannot be made to produce on demand.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { listenLocally } from './local-http.js';

/** One request as the server received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The client's port: requests that share it came over one connection. */
  readonly clientPort: number;
}

/** What the script answers. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Text is sent as UTF-8; bytes as they are (for answers that are not UTF-8). */
  readonly body?: string | Buffer;
}

export type Script = (request: RecordedRequest, index: number) => ScriptedAnswer | Promise<ScriptedAnswer>;

export interface ScriptedDavServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startScriptedDavServer(script: Script): Promise<ScriptedDavServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        clientPort: req.socket.remotePort ?? 0,
      };
      requests.push(recorded);
      Promise.resolve(script(recorded, requests.length - 1)).then(
        (answer) => {
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body ?? '');
        },
        (e: unknown) => {
          res.writeHead(599);
          res.end(String(e));
        },
      );
    });
  });
  const local = await listenLocally(server);
  return { ...local, requests };
}

/** A 207 answer with `xml` as its body. */
export function multistatus(xml: string): ScriptedAnswer {
  return { status: 207, headers: { 'content-type': 'application/xml; charset=utf-8' }, body: xml };
}
