/**
 * `tickwire sim --env`: the variables that point Tickwire at a simulator, as lines a shell evaluates as printed
 * (`eval "$(tickwire sim --env)"`), checked with a real bash.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
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
