/**
 * A loopback TCP proxy in front of a real service, so a test can cut the service off (an outage as the client
 * sees it: connections reset, new ones refused) and restore it, without stopping the shared server.
 */
import net from 'node:net';

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Resets every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /** Open client connections. */
  readonly connections: number;
  close(): Promise<void>;
}

/** The default port of each service URL scheme the tests proxy. */
const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379 };

/** A proxy in front of the service a `postgres://` or `redis://` URL names (its scheme's default port when none). */
export function startProxyFor(serviceUrl: string): Promise<TcpProxy> {
  const u = new URL(serviceUrl);
  const port = u.port === '' ? DEFAULT_PORTS[u.protocol] : Number(u.port);
  if (port === undefined) throw new Error(`startProxyFor: no default port for ${u.protocol}`);
  return startTcpProxy({ host: u.hostname, port });
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let isCut = false;
  const server = net.createServer((client) => {
    if (isCut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target);
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
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut() {
      isCut = true;
      for (const socket of open) socket.resetAndDestroy();
      open.clear();
    },
    restore() {
      isCut = false;
    },
    get connections() {
      return open.size / 2;
    },
    async close() {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** `url` (a database or Redis URL) with its host and port replaced by the proxy's on 127.0.0.1. */
export function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}
