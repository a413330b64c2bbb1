import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { ConnectionAdmission, originAllowed, type AdmissionLimits } from './connection-admission.ts';

describe('originAllowed', () => {
  it('by default: clients without an Origin, the gateway own origin and loopback pages; no other site', () => {
    const host = 'md.example.com:7000';
    assert.ok(originAllowed(undefined, host, []), 'no Origin: not a browser');
    assert.ok(originAllowed('http://md.example.com:7000', host, []), 'own origin');
    assert.ok(originAllowed('https://md.example.com', 'md.example.com', []), 'own origin, default port');
    for (const local of [
      'http://localhost:3000',
      'http://127.0.0.1:8080',
      'http://[::1]:5173',
      'http://app.localhost',
    ])
      assert.ok(originAllowed(local, host, []), local);
    for (const other of [
      'https://evil.example',
      'http://md.example.com:8000',
      'http://localhost.evil.example',
      'null',
      'garbage',
    ])
      assert.equal(originAllowed(other, host, []), false, other);
  });

  it('with a list: the listed origins and the own origin only; * allows any', () => {
    const list = ['https://charts.example.com'];
    assert.ok(originAllowed('https://charts.example.com', 'md.example.com', list));
    assert.ok(originAllowed('https://md.example.com', 'md.example.com', list));
    assert.equal(originAllowed('http://charts.example.com', 'md.example.com', list), false, 'scheme counts');
    assert.equal(originAllowed('http://localhost:3000', 'md.example.com', list), false);
    assert.ok(originAllowed('https://anything.example', 'md.example.com', ['*']));
    assert.ok(originAllowed('null', 'md.example.com', ['*']));
  });
});

function request(peer: string, headers: Record<string, string> = {}): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers } as unknown as IncomingMessage;
}

const LIMITS: AdmissionLimits = {
  maxConnections: 3,
  maxConnectionsPerIp: 2,
  allowedOrigins: [],
  trustedProxies: 0,
};

describe('ConnectionAdmission', () => {
  it('holds connections per address and in total until released, and counts what it refuses', () => {
    const admission = new ConnectionAdmission(LIMITS);
    const a1 = admission.admit(request('198.51.100.7'));
    const a2 = admission.admit(request('::ffff:198.51.100.7'));
    assert.ok(a1.ok && a2.ok);
    assert.equal(a1.address, '198.51.100.7');
    const a3 = admission.admit(request('198.51.100.7'));
    assert.deepEqual(a3, {
      ok: false,
      status: 429,
      code: 'TOO_MANY_CONNECTIONS',
      message: 'Too many connections from this address: at most 2. Close one first.',
    });
    const b1 = admission.admit(request('203.0.113.9'));
    assert.ok(b1.ok);
    const c1 = admission.admit(request('192.0.2.1'));
    assert.equal(c1.ok ? 0 : c1.status, 503);
    admission.release(a1.address);
    assert.equal(admission.open, 2);
    assert.ok(admission.admit(request('198.51.100.7')).ok);
    admission.release('192.0.2.99');
    assert.equal(admission.open, 3, 'an address holding nothing gives nothing back');
    assert.deepEqual(admission.counters, {
      refusedForOrigin: 0,
      refusedForConnectionsPerIp: 1,
      refusedForMaxConnections: 1,
    });
  });

  it('counts the address the trusted proxy saw, and refuses an origin not allowed with 403', () => {
    const admission = new ConnectionAdmission({ ...LIMITS, trustedProxies: 1 });
    const behindProxy = (client: string): IncomingMessage =>
      request('10.0.0.1', { 'x-forwarded-for': client });
    assert.ok(admission.admit(behindProxy('198.51.100.7')).ok);
    assert.ok(admission.admit(behindProxy('198.51.100.7')).ok);
    assert.equal(admission.admit(behindProxy('198.51.100.7')).ok, false);
    assert.ok(admission.admit(behindProxy('203.0.113.9')).ok, 'another client behind the same proxy');
    const refused = admission.admit(
      request('192.0.2.1', { origin: 'https://evil.example', host: 'md.example.com' }),
    );
    assert.deepEqual(refused, {
      ok: false,
      status: 403,
      code: 'ORIGIN_NOT_ALLOWED',
      message: 'Origin not allowed: https://evil.example. See gateway.allowedOrigins.',
    });
    assert.equal(admission.counters.refusedForOrigin, 1);
  });
});
