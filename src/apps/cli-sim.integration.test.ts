/**
 * `tickwire sim --env`: the variables that point Tickwire at a simulator, as lines a shell evaluates as printed
 * (`eval "$(tickwire sim --env)"`), checked with a real bash.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { SIM_HISTORY_READY } from '../sim/simulator.ts';
import { tickwireArgs } from '../../test/support/tickwire-command.ts';

/** `tickwire <args>` as a shell command line. */
function shellCommand(...args: string[]): string {
  return [process.execPath, ...tickwireArgs(...args)].map((a) => `'${a}'`).join(' ');
}

describe('tickwire sim --env', () => {
  it('prints only export lines that a shell can eval', () => {
    const script = `eval "$(${shellCommand('sim', '--env', '--port', '7321')})" && printf '%s\\n' "$BINANCE_WS_URL" "$OKX_REST_URL" "$BITGET_WS_URL" "$DYDX_WS_URL" "$VENUES" "$SYMBOLS"`;
    const out = execFileSync('bash', ['-c', script], {
      encoding: 'utf8',
      env: { ...process.env, SYMBOLS: 'BTC/USDT,ETH/USDT' },
    });
    assert.deepEqual(out.trim().split('\n'), [
      'ws://127.0.0.1:7321/binance',
      'http://127.0.0.1:7321/okx',
      'ws://127.0.0.1:7321/bitget/v2/ws/public',
      'ws://127.0.0.1:7321/dydx/v4/ws',
      'binance,bitget,okx,dydx',
      'BTC/USDT,ETH/USDT',
    ]);
    const printed = execFileSync(process.execPath, tickwireArgs('sim', '--env', '--port', '7321'), {
      encoding: 'utf8',
    });
    for (const line of printed.trim().split('\n')) assert.match(line, /^export [A-Z_]+=\S+$/);
  });

  it('refuses --env without a fixed port, saying why', () => {
    const run = spawnSync(process.execPath, tickwireArgs('sim', '--env', '--port', '0'), {
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /--env needs a fixed port/);
  });
});

describe('tickwire sim', () => {
  it("prints its banner, then a line once every market's history is generated", async () => {
    const child = spawn(process.execPath, tickwireArgs('sim', '--port', '0'), {
      env: { ...process.env, SYMBOLS: 'BTC/USDT', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const lines: string[] = [];
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(line);
        if (line.startsWith(SIM_HISTORY_READY)) break;
      }
      const symbolsAt = lines.findIndex((l) => l.startsWith('export SYMBOLS='));
      assert.ok(symbolsAt >= 0, 'the banner came first');
      assert.equal(lines.length, symbolsAt + 2, 'the history line follows the banner');
      assert.match(lines.at(-1) ?? '', /^# history ready \((\d+) markets in \d+\.\d s\)$/);
      assert.ok(Number(/\((\d+) markets/.exec(lines.at(-1) ?? '')?.[1]) >= 4, 'a market per venue at least');
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGTERM');
        await exited;
      }
    }
  });
});
