/**
 * The behaviour every AccountStore owes its users, as one node:test suite that each implementation's test file
 * runs (`runAccountStoreContract('SqlAccountStore on PGlite', open)`). Each test uses an account id of its own,
 * so implementations whose stores share one database run the suite without seeing each other's rows.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Fill } from '../domain/account.ts';
import { parseDecimal, toPlainString } from '../domain/decimal.ts';
import type { AccountStore, StoredEquityPoint } from './account-store.ts';

const T0 = Date.UTC(2024, 0, 2, 3, 0);

export function uniqueAccount(): string {
  return `acct-${randomBytes(5).toString('hex')}`;
}

export interface FillFields {
  readonly time?: number;
  readonly price?: string;
  readonly size?: string;
  readonly fee?: string;
  readonly realizedPnl?: string;
  readonly side?: Fill['side'];
  readonly symbol?: string;
  readonly liquidation?: boolean;
}

export function makeFill(fillId: string, fields: FillFields = {}): Fill {
  return {
    fillId,
    orderId: `order-${fillId}`,
    symbol: fields.symbol ?? 'BTC/USDT',
    market: 'perpetual',
    side: fields.side ?? 'buy',
    price: parseDecimal(fields.price ?? '65000.5'),
    size: parseDecimal(fields.size ?? '0.01'),
    fee: parseDecimal(fields.fee ?? '0.390003'),
    feeCurrency: 'USDT',
    liquidity: 'taker',
    ...(fields.realizedPnl === undefined ? {} : { realizedPnl: parseDecimal(fields.realizedPnl) }),
    ...(fields.liquidation === undefined ? {} : { liquidation: fields.liquidation }),
    time: fields.time ?? T0,
  };
}

/** A fill as plain data (decimals as their exact value), comparable with deepEqual across implementations. */
export function plainFill(f: Fill): Record<string, unknown> {
  return {
    ...f,
    price: toPlainString(f.price),
    size: toPlainString(f.size),
    fee: toPlainString(f.fee),
    ...(f.realizedPnl === undefined ? {} : { realizedPnl: toPlainString(f.realizedPnl) }),
  };
}

export function plainPoint(p: StoredEquityPoint): Record<string, unknown> {
  return {
    time: p.time,
    equity: toPlainString(p.equity),
    ...(p.unrealizedPnl === undefined ? {} : { unrealizedPnl: toPlainString(p.unrealizedPnl) }),
  };
}

export function runAccountStoreContract(name: string, open: () => Promise<AccountStore>): void {
  describe(`${name} meets the AccountStore contract`, () => {
    async function withStore(fn: (store: AccountStore) => Promise<void>): Promise<void> {
      const store = await open();
      try {
        await fn(store);
      } finally {
        await store.close();
      }
    }

    it('returns the fills appended, oldest first, with exact decimals and optional fields kept', () =>
      withStore(async (store) => {
        const account = uniqueAccount();
        const fills = [
          makeFill('b', { time: T0 + 2, price: '0.000000012345678901', realizedPnl: '-12.3400' }),
          makeFill('a', { time: T0 + 1, fee: '-0.05', liquidation: true, side: 'sell' }),
          makeFill('c', { time: T0 + 2, size: '123456789.123456789' }),
        ];
        assert.equal(await store.appendFills(account, fills), 3);
        const read = await store.fills(account, {});
        assert.deepEqual(
          read.map(plainFill),
          [fills[1], fills[0], fills[2]].map((f) => plainFill(f!)),
        );
      }));

    it('keeps each fill once per account: a repeated fill changes nothing and is not counted', () =>
      withStore(async (store) => {
        const account = uniqueAccount();
        const other = uniqueAccount();
        assert.equal(await store.appendFills(account, [makeFill('1'), makeFill('2'), makeFill('1')]), 2);
        assert.equal(await store.appendFills(account, [makeFill('2', { price: '1' }), makeFill('3')]), 1);
        assert.equal(await store.appendFills(other, [makeFill('1')]), 1, 'another account has its own ids');
        const read = await store.fills(account, {});
        assert.deepEqual(
          read.map((f) => [f.fillId, toPlainString(f.price)]),
          [
            ['1', '65000.5'],
            ['2', '65000.5'],
            ['3', '65000.5'],
          ],
        );
        assert.equal((await store.fills(other, {})).length, 1);
      }));

    it('answers a range, from inclusive and to exclusive, with the newest `limit` fills', () =>
      withStore(async (store) => {
        const account = uniqueAccount();
        await store.appendFills(
          account,
          Array.from({ length: 10 }, (_, i) => makeFill(`f${i}`, { time: T0 + i * 1000 })),
        );
        const ids = async (q: Parameters<AccountStore['fills']>[1]): Promise<string[]> =>
          (await store.fills(account, q)).map((f) => f.fillId);
        assert.deepEqual(await ids({ from: T0 + 2000, to: T0 + 5000 }), ['f2', 'f3', 'f4']);
        assert.deepEqual(await ids({ limit: 3 }), ['f7', 'f8', 'f9']);
        assert.deepEqual(await ids({ to: T0 + 5000, limit: 2 }), ['f3', 'f4']);
        assert.deepEqual(await ids({ limit: 0 }), []);
        assert.deepEqual(await ids({ from: T0 + 20_000 }), []);
        await assert.rejects(store.fills(account, { limit: -1 }), RangeError);
        await assert.rejects(store.fills(account, { from: 1.5 }), RangeError);
      }));

    it('refuses a fill without an id', () =>
      withStore(async (store) => {
        await assert.rejects(store.appendFills(uniqueAccount(), [makeFill('')]), RangeError);
      }));

    it('keeps equity points by time: a point at a stored time replaces it; ranges as for fills', () =>
      withStore(async (store) => {
        const account = uniqueAccount();
        const points: StoredEquityPoint[] = [
          { time: T0, equity: parseDecimal('10000.00'), unrealizedPnl: parseDecimal('0') },
          { time: T0 + 60_000, equity: parseDecimal('10250.123456789012') },
          { time: T0 + 120_000, equity: parseDecimal('9800'), unrealizedPnl: parseDecimal('-200.5') },
        ];
        await store.appendEquity(account, points);
        await store.appendEquity(account, [{ time: T0 + 60_000, equity: parseDecimal('10300') }]);
        assert.deepEqual((await store.equity(account, {})).map(plainPoint), [
          plainPoint(points[0]!),
          { time: T0 + 60_000, equity: '10300' },
          plainPoint(points[2]!),
        ]);
        assert.deepEqual(
          (await store.equity(account, { from: T0 + 1, limit: 1 })).map((p) => p.time),
          [T0 + 120_000],
        );
        assert.deepEqual(await store.equity(uniqueAccount(), {}), []);
      }));

    it('stores thousands of fills in one call', () =>
      withStore(async (store) => {
        const account = uniqueAccount();
        const many = Array.from({ length: 2500 }, (_, i) => makeFill(`m${i}`, { time: T0 + i }));
        assert.equal(await store.appendFills(account, many), 2500);
        assert.equal(await store.appendFills(account, many), 0);
        assert.equal((await store.fills(account, {})).length, 2500);
      }));
  });
}
