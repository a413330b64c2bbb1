import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port nothing listens on: bound, then released. Connecting to it is refused (a service that is down),
 * and a server may listen on it (a port known before the server starts).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
