/**
 * Just enough IMAP (RFC 3501) for the Cyrus harness: LOGIN, LIST, SETACL, LOGOUT over a
 * plain loopback connection. Nothing else in the project speaks IMAP.
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/**
 * A minimal IMAP client for the few commands the harness needs: tagged commands sent one
 * at a time, the untagged lines before the tagged answer collected. Literals never come
 * back for the plain names used here.
 */
export class ImapSession {
  private buffer = '';
  private waiter: (() => void) | undefined;
  private closed: Error | undefined;
  private tag = 0;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiter?.();
    });
    const end = (e?: Error) => {
      this.closed = e ?? new Error('IMAP connection closed');
      this.waiter?.();
    };
    socket.on('error', end);
    socket.on('close', () => end());
  }

  static async open(port: number): Promise<ImapSession> {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(10_000, () => socket.destroy(new Error('IMAP timeout')));
    await once(socket, 'connect');
    const session = new ImapSession(socket);
    const greeting = await session.readLine();
    if (!greeting.startsWith('* OK')) throw new Error(`IMAP greeting: ${greeting}`);
    return session;
  }

  private async readLine(): Promise<string> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        return line;
      }
      if (this.closed !== undefined) throw this.closed;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
      this.waiter = undefined;
    }
  }

  /** Sends one command; resolves with its untagged lines, rejects unless it ends in OK. */
  async command(text: string, shown = text): Promise<string[]> {
    this.tag += 1;
    const tag = `h${this.tag}`;
    this.socket.write(`${tag} ${text}\r\n`);
    const untagged: string[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line.startsWith(`${tag} `)) {
        if (line.startsWith(`${tag} OK`)) return untagged;
        throw new Error(`IMAP ${shown}: ${line.slice(tag.length + 1)}`);
      }
      untagged.push(line);
    }
  }

  async login(user: string, password: string): Promise<void> {
    await this.command(`LOGIN ${quote(user)} ${quote(password)}`, `LOGIN ${user}`);
  }

  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT');
    } finally {
      this.socket.destroy();
    }
  }
}

export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The mailbox name from an untagged `* LIST (flags) "/" name` line. */
export function listedMailbox(line: string): string | undefined {
  const match = /^\* LIST \([^)]*\) (?:"[^"]*"|NIL) (.+)$/.exec(line);
  if (match === null) return undefined;
  const name = match[1]!;
  return name.startsWith('"') ? name.slice(1, -1).replace(/\\(.)/g, '$1') : name;
}
