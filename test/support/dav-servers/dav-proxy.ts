/**
 * A proxy in front of a DAV server that records every request it passes on, can remove
 * the ETag header from PUT answers, as servers that rewrite what they store do (RFC 4791
 * §5.3.4, RFC 6352 §6.3.2.3), and can rewrite answers, to play a server that misbehaves.
 */
import { createServer, request } from 'node:http';
import { listenLocally } from './local-http.js';

/** A request as the proxy saw it. */
export interface ProxiedRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

/** Returns the answer's new body, or undefined to pass it on unchanged. */
export type AnswerRewrite = (request: ProxiedRequest, body: string) => string | undefined;

export interface DavProxy {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** `METHOD /path` of every request passed on so far; clear it with `length = 0`. */
  readonly requests: string[];
  /** Set to rewrite answers from now on; undefined passes them on. */
  rewrite: AnswerRewrite | undefined;
  close(): Promise<void>;
}

export async function startDavProxy(
  target: string,
  options: { readonly stripPutEtags?: boolean } = {},
): Promise<DavProxy> {
  const upstream = new URL(target);
  const requests: string[] = [];
  const proxy = { requests, rewrite: undefined as AnswerRewrite | undefined };
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const sent: Buffer[] = [];
    req.on('data', (chunk: Buffer) => sent.push(chunk));
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
        const rewrite = proxy.rewrite;
        if (rewrite === undefined) {
          res.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(res);
          return;
        }
        const got: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => got.push(chunk));
        answer.on('end', () => {
          const seen = {
            method: req.method ?? '',
            url: req.url ?? '',
            body: Buffer.concat(sent).toString('utf8'),
          };
          const original = Buffer.concat(got).toString('utf8');
          const body = Buffer.from(rewrite(seen, original) ?? original, 'utf8');
          delete headers['transfer-encoding'];
          res.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': String(body.length) });
          res.end(body);
        });
      },
    );
    forwarded.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(forwarded);
  });
  const local = await listenLocally(server);
  return Object.assign(proxy, local);
}
