/**
 * Test helpers for simulator tests: HTTP GET without keep-alive (so no client socket outlives a test) and a
 * WebSocket client that records every text frame.
 */
import { get } from 'node:http';
import { WebSocket } from 'ws';

export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** GETs `url` on a fresh connection and parses the JSON body. */
export function getJson(url: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) as unknown });
        } catch (err) {
          reject(new Error(`not JSON (${res.statusCode}): ${text.slice(0, 200)}`, { cause: err }));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** A WebSocket client that keeps every received text frame, parsed. */
export class RecordingClient {
  readonly socket: WebSocket;
  readonly frames: unknown[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string, options: { autoPong?: boolean } = {}) {
    this.socket = new WebSocket(url, { autoPong: options.autoPong ?? true });
    this.socket.on('message', (data) => this.frames.push(JSON.parse(String(data)) as unknown));
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  send(value: unknown): void {
    this.socket.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  /**
   * Resolves on the pong of a fresh ping. Where the venue lets \`ws\` answer pings, the socket is ordered: every
   * frame the venue sent before it read the ping has arrived by then.
   */
  roundTrip(): Promise<void> {
    const pong = new Promise<void>((resolve) => this.socket.once('pong', () => resolve()));
    this.socket.ping();
    return pong;
  }

  /** Resolves with the first recorded frame (past or future) that matches, or rejects after `timeoutMs`. */
  async waitFor<T>(match: (frame: unknown) => frame is T, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    if (this.socket.readyState === this.socket.CLOSED) return;
    this.socket.close();
    await this.closed;
  }
}

/** Resolves once `condition()` holds, polling every 10 ms; rejects after `timeoutMs` (generous: CI machines are loaded). */
export async function waitUntil(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
