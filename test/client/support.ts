/**
 * What the client tests share: a clock whose `now()` the test sets (the market's time, so that the client's
 * outage arithmetic matches the bars the test publishes) over real timers, a proxy in front of the gateway that
 * can stall (stop forwarding, keep the sockets: a dead path) or refuse WebSocket upgrades (a proxy that speaks
 * HTTP only), and a fresh subscribe's `initial` to compare a client's series with.
 */
import http from 'node:http';
import net from 'node:net';
import { WebSocket } from 'ws';
import type { ClientClock, WebSocketFactory } from '../../src/client/types.ts';
import { TestClient } from '../gateway/helpers.ts';

/** The ws package's WebSocket as the client's option wants it (Node 20 has no global WebSocket). */
export const NodeWebSocket = WebSocket as unknown as WebSocketFactory;

export class MarketClock implements ClientClock {
  constructor(public time: number) {}
  now = (): number => this.time;
  setTimeout(callback: () => void, ms: number): unknown {
    return setTimeout(callback, ms);
  }
  clearTimeout(handle: unknown): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  }
}

export interface GatewayProxy {
  readonly port: number;
  /** `ws://127.0.0.1:port/ws` through the proxy. */
  readonly wsUrl: string;
  /** Resets every open connection and refuses new ones until restore(). */
  cut(): void;
  restore(): void;
  /** Stops forwarding bytes both ways on the open connections (which stay open): a silent, dead path. */
  stall(): void;
  /** Answers WebSocket upgrades with HTTP 403 (plain HTTP requests still pass) until allowUpgrades(). */
  refuseUpgrades(): void;
  allowUpgrades(): void;
  /** Upgrades refused, HTTP requests forwarded. */
  readonly refused: number;
  readonly httpRequests: number;
  close(): Promise<void>;
}

/** An HTTP proxy on loopback in front of the gateway at `targetPort`, which forwards upgrades as raw TCP. */
export async function startGatewayProxy(targetPort: number): Promise<GatewayProxy> {
  const open = new Set<net.Socket>();
  let cut = false;
  let stalled = false;
  let refuse = false;
  let refused = 0;
  let httpRequests = 0;
  const server = http.createServer((req, res) => {
    if (cut) {
      req.socket.resetAndDestroy();
      return;
    }
    httpRequests++;
    const upstream = http.request(
      { host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: net.Socket) => {
    if (cut) socket.resetAndDestroy();
  });
  server.on('upgrade', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    if (refuse) {
      refused++;
      client.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    open.add(client);
    open.add(upstream);
    const end = (): void => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    let request = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      request += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    upstream.write(request + '\r\n');
    if (head.length > 0) upstream.write(head);
    // Forward by hand (not pipe) so that stall() can drop bytes while the sockets stay open.
    client.on('data', (chunk: Buffer) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!stalled) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    wsUrl: `ws://127.0.0.1:${port}/ws`,
    cut() {
      cut = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore() {
      cut = false;
      stalled = false;
    },
    stall() {
      stalled = true;
    },
    refuseUpgrades() {
      refuse = true;
    },
    allowUpgrades() {
      refuse = false;
    },
    get refused() {
      return refused;
    },
    get httpRequests() {
      return httpRequests;
    },
    async close() {
      for (const socket of open) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What a fresh subscribe to the room returns: the server's series of the newest `bars` bars. */
export async function freshInitial(
  gatewayUrl: string,
  symbol: string,
  interval: string,
  bars: number,
): Promise<unknown[]> {
  const client = await TestClient.connect(gatewayUrl);
  try {
    const initial = client.nextOfType('initial', 10_000);
    client.send({ type: 'subscribe', symbol, interval, initialBars: bars });
    return (await initial).bars as unknown[];
  } finally {
    client.close();
  }
}

/** Resolves once `check()` holds; rejects naming `what` after `ms` (generous: the machine may be slow). */
export async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A WebSocket over the ws package whose path loses the incoming messages `drop` picks (a lossy path between
 * a real gateway and the client), and which records what the client sent.
 */
export function lossyWebSocket(drop: (text: string) => boolean, sent: string[]): WebSocketFactory {
  return class LossyWebSocket {
    private readonly ws: WebSocket;
    onopen: ((event: unknown) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;

    constructor(url: string) {
      this.ws = new WebSocket(url);
      this.ws.onopen = (event) => this.onopen?.(event);
      this.ws.onclose = (event) => this.onclose?.(event);
      this.ws.onerror = (event) => this.onerror?.(event);
      this.ws.onmessage = (event) => {
        if (!drop(String(event.data))) this.onmessage?.({ data: event.data });
      };
    }
    get readyState(): number {
      return this.ws.readyState;
    }
    send(data: string): void {
      sent.push(data);
      this.ws.send(data);
    }
    close(code?: number, reason?: string): void {
      this.ws.close(code, reason);
    }
    terminate(): void {
      this.ws.terminate();
    }
  };
}
