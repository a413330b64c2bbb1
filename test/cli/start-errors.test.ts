/**
 * A configuration that cannot work stops `tickwire` at start with exit code 2 (CONFIG_INVALID) and a message that
 * names everything that is wrong, as docs/CONFIGURATION.md says.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tickwireArgs } from '../support/tickwire-command.ts';

/** A role that does not stop on its own is killed after this long; the test then fails on its exit code. */
const GIVE_UP_MS = 60_000;

/**
 * Runs `tickwire <args>` with only `vars` (and PATH) in its environment, in a DATA_DIR of its own; its exit code,
 * stderr, and what it left in that DATA_DIR.
 */
async function runTickwire(
  args: readonly string[],
  vars: Record<string, string>,
): Promise<{ code: number | null; stderr: string; dataDirEntries: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickwire-cli-'));
  try {
    const child = spawn(process.execPath, tickwireArgs(...args), {
      env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'silent', PORT: '0', DATA_DIR: dataDir, ...vars },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(killer);
    return { code, stderr, dataDirEntries: readdirSync(dataDir) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('tickwire CLI: invalid configuration', () => {
  it('names every bad key at once, with the variable each came from, and exits with 2', async () => {
    const { code, stderr } = await runTickwire([], {
      PORT: 'abc',
      ENABLE_FAILOVER: 'maybe',
      SYMBOLS: 'FOO',
    });
    assert.equal(code, 2, stderr);
    assert.match(stderr, /^tickwire: invalid configuration:$/m);
    assert.match(stderr, /^ {2}port: must be an integer, got "abc" \(from PORT\)$/m);
    assert.match(
      stderr,
      /^ {2}failover\.enabled: must be true or false, got "maybe" \(from ENABLE_FAILOVER\)$/m,
    );
    assert.match(stderr, /^ {2}symbols\.0: must look like BTC\/USDT .*\(from SYMBOLS\)$/m);
  });

  for (const role of ['all', 'ingest', 'gateway']) {
    it(`${role}: a symbol that no configured venue lists is an error naming the venues that list it`, async () => {
      const { code, stderr } = await runTickwire([role], { SYMBOLS: 'ETH/USDT,BTC/USD', VENUES: 'dydx' });
      assert.equal(code, 2, stderr);
      assert.match(
        stderr,
        /^ {2}symbols: ETH\/USDT is listed by none of the configured venues \(dydx\); venues that list it: binance, bitget, okx$/m,
      );
      assert.doesNotMatch(stderr, /BTC\/USD is listed/, 'dYdX lists BTC/USD');
    });
  }
});

describe('tickwire CLI: a port that is taken', () => {
  for (const role of ['all', 'demo']) {
    it(`${role}: stops with exit code 1 and the reason before starting anything`, async () => {
      const taken = createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      try {
        const port = String((taken.address() as AddressInfo).port);
        const { code, stderr, dataDirEntries } = await runTickwire([role], {
          PORT: port,
          HOST: '127.0.0.1',
          // No venue is reached: the port is refused before history matters.
          BINANCE_WS_URL: 'ws://127.0.0.1:9/binance',
          BINANCE_REST_URL: 'http://127.0.0.1:9/binance',
          VENUES: 'binance',
        });
        assert.equal(code, 1, stderr);
        assert.match(
          stderr,
          new RegExp(
            `^tickwire: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(EADDRINUSE\\); ` +
              'stop what uses it or set PORT to a free port$',
            'm',
          ),
        );
        // The port is checked first: no database was opened (whose opening a stop would have to wait for), no
        // simulator or demo history started.
        assert.deepEqual(dataDirEntries, []);
      } finally {
        taken.close();
      }
    });
  }
});

describe('tickwire CLI: a simulator trade rate that cannot work', () => {
  const cases: [string[], Record<string, string>][] = [
    [['sim', '--trade-rate', 'fast'], {}],
    [['demo', '--trade-rate', '1001'], {}],
    [['sim'], { TICKWIRE_SIM_TRADE_RATE: '-1' }],
  ];
  for (const [args, vars] of cases) {
    it(`${args.join(' ')} ${JSON.stringify(vars)}: exits with 2, naming the option and its range`, async () => {
      const { code, stderr } = await runTickwire(args, vars);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /--trade-rate \(TICKWIRE_SIM_TRADE_RATE\) must be a number 0\.\.1000/);
    });
  }
});
