/**
 * What a developer does with the package: `npm pack`, `npm install` of the tarball in an empty folder, then a
 * Node 20 script there imports `tickwire/client`, hands it the `ws` package's WebSocket (Node 20 has no global
 * one) and reads a candle series from a running gateway. The install takes the dependencies from npm's cache and
 * asks the registry only for what the cache lacks.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { M, T0, iso, makeBar, makeUpdate, startTestGateway, type TestGateway } from '../gateway/helpers.ts';
import { packTickwire, run } from './pack.ts';

/** The script a user would write: prints the series once the first `initial` has been applied. */
const USER_SCRIPT = `
import { WebSocket } from 'ws';
import { TickwireClient } from 'tickwire/client';

const client = new TickwireClient({ url: process.argv[2], WebSocket });
const series = client.candles({ symbol: 'BTC/USDT', interval: '1m', initialBars: 10 });
const loaded = new Promise((resolve) => {
  const check = (state) => state.loaded && resolve(state);
  series.subscribe(check);
  check(series.get());
});
await client.connect();
const state = await loaded;
console.log(JSON.stringify({ connection: client.status.state, bars: state.bars }));
client.close();
`;

describe('the packed client library, installed with npm', () => {
  let work = '';
  let project = '';
  let gateway: TestGateway | undefined;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'tickwire-packed-client-'));
    const { tarball } = await packTickwire();
    project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'bot', private: true, type: 'module' }),
    );
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, 'ws'],
      { cwd: project },
    );
    writeFileSync(join(project, 'bot.js'), USER_SCRIPT);

    gateway = await startTestGateway({}, { symbols: ['BTC/USDT'] });
    for (let minute = 0; minute < 3; minute++) {
      gateway.publish(makeUpdate(makeBar(T0 + minute * M, `${100 + minute}.5`), 'closed'));
    }
  });

  after(async () => {
    await gateway?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('installs in an empty folder with its dependencies', () => {
    const installed = readdirSync(join(project, 'node_modules'));
    for (const name of ['tickwire', 'ws', 'zod']) assert.ok(installed.includes(name), `${name} is installed`);
  });

  it('imports `tickwire/client` by name and receives the initial bars of a candle subscription', async () => {
    assert.ok(gateway);
    const initialsBefore = gateway.gateway.stats().gateway.initialsSent;
    const { stdout } = await run(process.execPath, ['bot.js', `${gateway.gateway.url}/ws`], {
      cwd: project,
      timeout: 60_000,
    });
    const seen = JSON.parse(stdout) as { connection: string; bars: { time: string; close: number }[] };
    assert.equal(seen.connection, 'connected');
    assert.deepEqual(
      seen.bars.map((bar) => [bar.time, bar.close]),
      [
        [iso(0), 100.5],
        [iso(1), 101.5],
        [iso(2), 102.5],
      ],
    );
    assert.equal(
      gateway.gateway.stats().gateway.initialsSent,
      initialsBefore + 1,
      'the gateway sent one initial',
    );
  });
});
