import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseDecimal, toPlainString } from '../../domain/decimal.ts';
import { startSimulator, type Simulator } from '../../sim/simulator.ts';
import type { Logger } from '../../telemetry/logger.ts';
import { ManualClock } from '../../util/clock.ts';
import { BitgetAccountRest } from './account-rest.ts';
import { BitgetAccountSource } from './account-source.ts';
import { capturingLogger, SourceRecorder, waitFor } from '../../account/source-recorder.test-support.ts';

/*
 * The source against `tickwire sim`'s Bitget private side (src/sim/bitget/account-*.ts): the simulator checks the
 * login and every REST signature as Bitget does and answers in Bitget's formats. One ManualClock is the time of
 * both: the simulator reads it (`now`) and the source's timers (backoff, login backoff, heartbeat, polling) fire
 * only when a test moves it. Fills are made by placing market orders on the simulated account.
 */

const START = Date.UTC(2026, 2, 2, 8, 0, 0);
const CREDS = { apiKey: 'bg_sim_key', secret: 'bg-sim-secret-0123', passphrase: 'bg-sim-pass' };

describe('BitgetAccountSource against the Bitget simulator', () => {
  const clock = new ManualClock(START);
  let sim: Simulator;
  let source: BitgetAccountSource | undefined;

  before(async () => {
    sim = await startSimulator({
      symbols: ['BTC/USDT'],
      historyDays: 0,
      tradesPerSecond: 5,
      now: () => clock.now(),
      bitget: { accounts: [{ ...CREDS, trader: false }], accountPushMs: 60_000 },
    });
  });
  after(async () => {
    await source?.close();
    await sim.close();
  });
  afterEach(async () => {
    await source?.close();
    source = undefined;
    sim.accounts.of('bitget').faults.acceptConnections();
  });

  function open(
    options: { creds?: typeof CREDS; log?: Logger; sourceClock?: ManualClock; fillsCheckMs?: number } = {},
  ): {
    source: BitgetAccountSource;
    rec: SourceRecorder;
  } {
    const rec = new SourceRecorder();
    source = new BitgetAccountSource({
      account: { id: 'demo-bitget', venue: 'bitget' },
      credentials: options.creds ?? CREDS,
      wsUrl: sim.urls.bitget.privateWsUrl,
      restUrl: sim.urls.bitget.restUrl,
      logger: options.log ?? pino({ level: 'silent' }),
      clock: options.sourceClock ?? clock,
      random: () => 0.5,
      spot: true,
      ...(options.fillsCheckMs !== undefined ? { fillsCheckMs: options.fillsCheckMs } : {}),
      rest: { requestsPerSecond: 1000, maxRetries: 0 },
      connection: {
        backoff: { initialMs: 100, maxMs: 400 },
        loginBackoff: { initialMs: 1_000, maxMs: 8_000 },
        connectTimeoutMs: 2_000,
        closeTimeoutMs: 200,
      },
    });
    source.start(rec.handlers);
    return { source, rec };
  }

  /** A market order on the simulated account: fills at once at the mark. */
  function trade(side: 'buy' | 'sell', size: string): void {
    const account = sim.accounts.of('bitget').accounts[0];
    assert.ok(account);
    account.placeOrder({ symbol: 'BTC/USDT', side, type: 'market', size: parseDecimal(size) });
  }

  /** Moves the shared clock in steps, letting sockets and requests run between them. */
  async function run(ms: number, until: () => boolean = () => false, step = 50): Promise<void> {
    for (let t = 0; t < ms && !until(); t += step) {
      clock.advance(step);
      sim.advance();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  it('logs in, reconciles the simulated account and streams a fill with its fee as paid', async () => {
    const { source: s, rec } = open();
    await waitFor('healthy', () => s.status().healthy);
    await waitFor('rest snapshot', () => rec.of('snapshot').length === 1);
    const snap = rec.of('snapshot')[0]?.snapshot;
    assert.equal(toPlainString(snap?.summary.equity ?? parseDecimal('0')), '10000');
    assert.deepEqual(
      snap?.balances.map((b) => b.currency),
      ['USDT', 'BTC'],
    );
    assert.deepEqual(s.status().subscriptions, [
      'account:SPOT',
      'orders:SPOT',
      'fill:SPOT',
      'account:USDT-FUTURES',
      'positions:USDT-FUTURES',
      'orders:USDT-FUTURES',
      'fill:USDT-FUTURES',
    ]);
    trade('buy', '0.01');
    await waitFor('stream fill', () => rec.fillIds().length === 1);
    const fill = rec.of('fills')[0]?.fills[0];
    assert.equal(rec.of('fills')[0]?.source, 'stream');
    assert.equal(fill?.market, 'perpetual');
    assert.equal(fill?.symbol, 'BTC/USDT');
    assert.ok((fill?.fee.coef ?? 0n) > 0n, 'a paid fee is positive');
    await waitFor('position', () => rec.of('positions').some((p) => p.positions.length === 1));
    const position = rec.of('positions').findLast((p) => p.positions.length === 1)?.positions[0];
    assert.equal(position?.side, 'long');
    assert.equal(toPlainString(position?.size ?? parseDecimal('0')), '0.01');
    assert.deepEqual(rec.alerts, []);
  });

  for (const [code, creds] of [
    ['30011', { ...CREDS, apiKey: 'bg_nobody' }],
    ['30012', { ...CREDS, passphrase: 'wrong-pass' }],
    ['30015', { ...CREDS, secret: 'bg-wrong-secret' }],
  ] as const) {
    it(`a refused login (${code}): one alert, lastError, login backoff, no secret reported`, async () => {
      const log = capturingLogger();
      const { source: s, rec } = open({ creds, log: log.logger });
      await waitFor('refused', () => s.status().lastError?.code === 'ACCOUNT_LOGIN_FAILED');
      assert.match(s.status().lastError?.message ?? '', new RegExp(`: ${code} `));
      // Two more refusals under the login backoff (random 0.5: 0.5 s, then 1 s).
      await run(
        1_600,
        () => rec.statuses.filter((x) => x.lastError?.code === 'ACCOUNT_LOGIN_FAILED').length >= 6,
      );
      const alerts = rec.alerts.filter((a) => a.kind === 'account_login_failed');
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]?.details?.['code'], code);
      assert.equal(s.status().mode, 'stream');
      const reported = JSON.stringify([rec.alerts, rec.statuses, s.status()]) + log.text();
      for (const secret of [CREDS.secret, CREDS.passphrase, creds.secret, creds.passphrase])
        assert.ok(!reported.includes(secret), 'no secret or passphrase reported');
    });
  }

  it('a refused login (30014, our clock 60 s behind) and a rejected one (30005), then recovery', async () => {
    const behind = new ManualClock(START - 60_000 + (clock.now() - START));
    const first = open({ sourceClock: behind });
    await waitFor('30014', () => first.source.status().lastError?.message.includes('30014') === true);
    await first.source.close();
    sim.accounts.of('bitget').faults.rejectLogins(1);
    const { source: s, rec } = open();
    await waitFor('30005', () => s.status().lastError?.message.includes('30005') === true);
    await run(2_000, () => s.status().healthy);
    await waitFor('healthy', () => s.status().healthy);
    assert.deepEqual(
      rec.alerts.map((a) => a.kind),
      ['account_login_failed', 'account_stream_recovered'],
    );
    assert.equal(s.status().lastError, undefined);
  });

  it('socket → polling → socket: no fill missed or doubled', async () => {
    const { source: s, rec } = open();
    const from = clock.now();
    await waitFor('healthy', () => s.status().healthy);
    trade('buy', '0.01');
    await waitFor('first fill', () => rec.fillIds().length === 1);
    // The venue's private socket goes away and refuses new connections for a while.
    const faults = sim.accounts.of('bitget').faults;
    faults.refuseConnections(3_600_000);
    faults.dropConnections();
    await run(10_000, () => s.status().mode === 'polling');
    assert.equal(s.status().mode, 'polling');
    assert.ok(rec.alerts.some((a) => a.kind === 'account_polling'));
    trade('sell', '0.004');
    await run(6_000, () => rec.fillIds().length === 2);
    assert.equal(rec.fillIds().length, 2, 'the orders poll brought the fill made while polling');
    trade('sell', '0.002');
    faults.acceptConnections();
    await run(5_000, () => s.status().mode === 'stream' && s.status().healthy);
    await waitFor('stream again', () => s.status().mode === 'stream' && s.status().healthy);
    await waitFor('all three fills', () => rec.fillIds().length === 3);
    assert.ok(rec.alerts.some((a) => a.kind === 'account_stream_recovered'));
    trade('sell', '0.004');
    await waitFor('fourth fill on the stream', () => rec.fillIds().length === 4);
    // The venue's own list is the truth: every fill it has since the start, each seen, none extra.
    const rest = new BitgetAccountRest({ restUrl: sim.urls.bitget.restUrl, credentials: CREDS, clock });
    const venueFills = (await rest.fillsSince(from)).map((f) => f.fillId).sort();
    assert.equal(venueFills.length, 4);
    assert.deepEqual(rec.fillIds(), venueFills);
    const sizes = new Map<string, string>();
    for (const e of rec.of('fills'))
      for (const f of e.fills) {
        const seen = sizes.get(f.fillId);
        if (seen !== undefined) assert.equal(seen, toPlainString(f.size), 'a repeated fill is the same fill');
        sizes.set(f.fillId, toPlainString(f.size));
      }
    assert.deepEqual([...sizes.values()].sort(), ['0.002', '0.004', '0.004', '0.01']);
    // The last complete positions list matches the venue's (the first test left 0.01 long open).
    const venueSizes = (await rest.positions()).map((p) => `${p.side} ${toPlainString(p.size)}`);
    assert.deepEqual(venueSizes, ['long 0.01']);
    await waitFor('positions as the venue has them', () => {
      const last = rec.of('positions').at(-1)?.positions ?? [];
      return (
        JSON.stringify(last.map((p) => `${p.side} ${toPlainString(p.size)}`)) === JSON.stringify(venueSizes)
      );
    });
  });

  it('fetches a fill the open stream lost, though the stream delivered a later one', async () => {
    // The venue's socket stays open but sends nothing for a while (no pong due yet): what it pushed meanwhile is
    // gone. Bitget's pushes carry no sequence, so only the venue's fill list shows it.
    const { source: s, rec } = open({ fillsCheckMs: 5_000 });
    const from = clock.now();
    await waitFor('healthy', () => s.status().healthy);
    await waitFor('rest snapshot', () => rec.of('snapshot').length === 1);
    sim.faults.stall('bitget');
    trade('buy', '0.003');
    await run(500);
    sim.faults.resumeStream('bitget');
    trade('sell', '0.001');
    const rest = new BitgetAccountRest({ restUrl: sim.urls.bitget.restUrl, credentials: CREDS, clock });
    const venueFills = (await rest.fillsSince(from)).map((f) => f.fillId).sort();
    const later = await rest.fillsSince(clock.now() - 400);
    await waitFor('the later fills on the stream', () =>
      later.every((f) => rec.fillIds().includes(f.fillId)),
    );
    assert.ok(rec.fillIds().length < venueFills.length, 'the stream lost the fills of the stall');
    assert.ok(rec.of('fills').every((f) => f.source === 'stream'));
    await run(6_000, () => rec.fillIds().length === venueFills.length);
    await waitFor('the lost fills', () => rec.fillIds().length === venueFills.length);
    assert.deepEqual(rec.fillIds(), venueFills);
    await waitFor('a reconcile with it', () => rec.of('snapshot').length === 2);
    assert.equal(s.status().reconnects, 0, 'the socket stayed open');
  });
});
