/**
 * Bare HTTP for the DAV benchmark, over undici and nothing of Liaison's client: loading an
 * address book, editing items the way a phone would, and the protocol floor.
 */
import { performance } from 'node:perf_hooks';
import { Agent, type Dispatcher, request } from 'undici';

export interface Login {
  readonly username: string;
  readonly password: string;
}

/** An item to write: its absolute URL and its text. */
export interface PutItem {
  readonly url: string;
  readonly text: string;
}

const CARDDAV_NS = 'urn:ietf:params:xml:ns:carddav';

/** A few connections to one server, signed in as one account. */
export class BareDav {
  readonly #agent: Agent;
  readonly #authorization: string;

  constructor(login: Login, connections: number) {
    this.#agent = new Agent({ connections, headersTimeout: 600_000, bodyTimeout: 600_000 });
    this.#authorization = `Basic ${Buffer.from(`${login.username}:${login.password}`).toString('base64')}`;
  }

  /** Sends one request and reads the whole answer. */
  async send(
    method: string,
    url: string,
    headers: Record<string, string> = {},
    body?: string,
  ): Promise<{ status: number; text: string }> {
    const answer = await request(url, {
      dispatcher: this.#agent,
      method: method as Dispatcher.HttpMethod,
      headers: { authorization: this.#authorization, ...headers },
      body: body ?? null,
    });
    return { status: answer.statusCode, text: await answer.body.text() };
  }

  /**
   * PUTs every item, `concurrency` at a time; `create` adds If-None-Match: * (a new item).
   * Throws on the first answer that is not 2xx.
   */
  async putAll(items: readonly PutItem[], concurrency: number, create: boolean): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const answer = await this.send(
          'PUT',
          item.url,
          {
            'content-type': 'text/vcard; charset=utf-8',
            ...(create ? { 'if-none-match': '*' } : {}),
          },
          item.text,
        );
        if (answer.status < 200 || answer.status >= 300) {
          throw new Error(`PUT ${item.url} answered ${answer.status}: ${answer.text.slice(0, 300)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  }

  /** The initial sync-collection REPORT (RFC 6578, no token): every member's href. */
  async initialSync(collectionUrl: string): Promise<string[]> {
    const answer = await this.send(
      'REPORT',
      collectionUrl,
      { depth: '0', 'content-type': 'application/xml; charset=utf-8' },
      '<?xml version="1.0" encoding="utf-8"?>\n<D:sync-collection xmlns:D="DAV:"><D:sync-token/>' +
        '<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>',
    );
    if (answer.status !== 207) throw new Error(`sync-collection answered ${answer.status}`);
    const collectionPath = new URL(collectionUrl).pathname;
    return hrefsOf(answer.text).filter((href) => href !== collectionPath && !href.endsWith('/'));
  }

  /** One addressbook-multiget of `hrefs`; resolves with the number of vCards it returned. */
  async multiget(collectionUrl: string, hrefs: readonly string[]): Promise<number> {
    const body =
      `<?xml version="1.0" encoding="utf-8"?>\n<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="${CARDDAV_NS}">` +
      '<D:prop><D:getetag/><C:address-data/></D:prop>' +
      hrefs.map((h) => `<D:href>${escapeXml(h)}</D:href>`).join('') +
      '</C:addressbook-multiget>';
    const answer = await this.send(
      'REPORT',
      collectionUrl,
      { depth: '1', 'content-type': 'application/xml; charset=utf-8' },
      body,
    );
    if (answer.status !== 207) throw new Error(`addressbook-multiget answered ${answer.status}`);
    return answer.text.split('BEGIN:VCARD').length - 1;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/**
 * The protocol floor: what a bare client needs at least to fetch a whole address book —
 * one initial sync-collection REPORT, then addressbook-multiget of every member in batches
 * of `batch`, `concurrency` at a time (Liaison's own settings). The answers are read in
 * full but not parsed beyond finding the hrefs.
 */
export async function protocolFloor(
  collectionUrl: string,
  login: Login,
  batch: number,
  concurrency: number,
): Promise<{ ms: number; listMs: number; items: number }> {
  const dav = new BareDav(login, concurrency);
  try {
    const t0 = performance.now();
    const hrefs = await dav.initialSync(collectionUrl);
    const listMs = performance.now() - t0;
    const batches: string[][] = [];
    for (let i = 0; i < hrefs.length; i += batch) batches.push(hrefs.slice(i, i + batch));
    let items = 0;
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const got = await dav.multiget(collectionUrl, batches[next++]!);
        items += got;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { ms: performance.now() - t0, listMs, items };
  } finally {
    await dav.close();
  }
}

/** Every `href` element's text in a multistatus, whatever prefix DAV: has there. */
function hrefsOf(xml: string): string[] {
  const hrefs: string[] = [];
  for (const m of xml.matchAll(/<(?:[A-Za-z_][\w.-]*:)?href>([^<]*)<\/(?:[A-Za-z_][\w.-]*:)?href>/g)) {
    const href = unescapeXml(m[1]!.trim());
    hrefs.push(/^https?:/i.test(href) ? new URL(href).pathname : href);
  }
  return hrefs;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function unescapeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
