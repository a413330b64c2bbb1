import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { addressKey, clientKey } from './client-address.ts';

/** The parts of a request the address is read from. */
function request(remoteAddress: string, forwardedFor?: string): IncomingMessage {
  return {
    socket: { remoteAddress },
    headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
  } as unknown as IncomingMessage;
}

describe('clientKey', () => {
  it('ignores X-Forwarded-For unless proxies are trusted', () => {
    assert.equal(clientKey(request('198.51.100.7', '203.0.113.9'), 0), '198.51.100.7');
  });

  it('believes only the entries the trusted proxies wrote', () => {
    // client → proxy A → proxy B → gateway: B is the peer, and B wrote A's peer (the client) last.
    const req = request('10.0.0.2', 'spoofed-by-client, 203.0.113.9, 10.0.0.1');
    assert.equal(clientKey(req, 1), '10.0.0.1');
    assert.equal(clientKey(req, 2), '203.0.113.9');
    // More trusted proxies than entries: the furthest address known.
    assert.equal(clientKey(request('10.0.0.2'), 1), '10.0.0.2');
    assert.equal(clientKey(request('10.0.0.2', '203.0.113.9'), 3), '203.0.113.9');
    // Several header lines count as one list.
    const lines = {
      socket: { remoteAddress: '10.0.0.2' },
      headers: { 'x-forwarded-for': ['203.0.113.9', '10.0.0.1'] },
    } as unknown as IncomingMessage;
    assert.equal(clientKey(lines, 2), '203.0.113.9');
  });

  it('counts an IPv4-mapped address as IPv4 and an IPv6 address by its /64 network', () => {
    assert.equal(addressKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(addressKey('127.0.0.1'), '127.0.0.1');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:0DB8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
    assert.equal(clientKey(request('2001:db8:1:2::7'), 0), clientKey(request('2001:db8:1:2::8'), 0));
  });
});
