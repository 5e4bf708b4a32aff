/**
 * A proxy in front of a DAV server that records every request it passes on, and can remove
 * the ETag header from PUT answers, as servers that rewrite what they store do (RFC 4791
 * §5.3.4, RFC 6352 §6.3.2.3).
 */
import { createServer, request } from 'node:http';
import { listenLocally } from './local-http.js';

export interface DavProxy {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** `METHOD /path` of every request passed on so far; clear it with `length = 0`. */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startDavProxy(
  target: string,
  options: { readonly stripPutEtags?: boolean } = {},
): Promise<DavProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const forwarded = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        const headers = { ...answer.headers };
        if (options.stripPutEtags && req.method === 'PUT') delete headers.etag;
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    forwarded.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forwarded);
  });
  const local = await listenLocally(server);
  return { ...local, requests };
}
