import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * Which client a request comes from, as every per-client limit counts it: the /api/ rate limit, the WebSocket
 * connections per address and the history budget per address.
 */

/**
 * The address a request is counted under. Without trusted proxies: the socket's peer. With n trusted proxies: the
 * address the outermost of them received the request from, i.e. the n-th address from the right of
 * `X-Forwarded-For` followed by the peer (the entries further left were written by the client and are not
 * believed). IPv4-mapped IPv6 addresses count as the IPv4 address; other IPv6 addresses count per /64 network,
 * the block one host usually has, so that a client cannot step around the limit through its own addresses.
 */
export function clientKey(req: IncomingMessage, trustedProxies: number): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  let address = peer;
  if (trustedProxies > 0) {
    const header = req.headers['x-forwarded-for'];
    const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const chain = [...forwarded, peer];
    address = chain[Math.max(0, chain.length - 1 - trustedProxies)] as string;
  }
  return addressKey(address);
}

/** An address as a counting key: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64 network. */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, as lower-case hex without leading zeros. */
function expandIpv6(address: string): string[] {
  let text = address.toLowerCase();
  // An IPv4 tail (::1.2.3.4 forms) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => parseInt(g, 16).toString(16));
}
