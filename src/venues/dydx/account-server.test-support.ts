/**
 * A small dYdX v4 indexer for the account source's tests: one subaccount, served over a real WebSocket
 * (`/v4/ws`: connected, subscribe → subscribed, channel_data version 3.0.0, a per-connection message_id, protocol
 * pings) and real HTTP (`/v4/addresses/{a}/subaccountNumber/{n}`, `/v4/orders`, `/v4/fills` newest first with
 * `createdBeforeOrAtHeight` paging, `/v4/perpetualPositions`, `/v4/historical-pnl`), in the indexer's formats
 * (EXCHANGES.md §6 and the captures in test/fixtures/dydx/). Trading is deliberately simple: one oracle price per
 * market, a fill moves the position (average entry) and USDC by its notional and fee. Test controls drop
 * sockets, refuse connections, lose a message or block the address.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { add, mul, parseDecimal, sub, toPlainString, ZERO, type Decimal } from '../../domain/decimal.ts';

const BLOCKED =
  'Because this address appears to be a resident of, or trading from, a jurisdiction that violates our terms of ' +
  'use, or has engaged in activity that violates our terms of use, this address has been blocked.';

interface Conn {
  readonly socket: WebSocket;
  readonly id: string;
  messageId: number;
  subscribed: boolean;
}

interface ServerOrder {
  id: string;
  ticker: string;
  side: 'BUY' | 'SELL';
  size: Decimal;
  price: Decimal;
  totalFilled: Decimal;
  status: string;
  clientId: string;
  updatedAt: string;
  updatedAtHeight: number;
  createdAtHeight: number;
}

interface ServerPosition {
  market: string;
  /** Signed. */
  size: Decimal;
  entryPrice: Decimal;
  maxSize: Decimal;
  realizedPnl: Decimal;
  sumOpen: Decimal;
  sumClose: Decimal;
  status: 'OPEN' | 'CLOSED' | 'LIQUIDATED';
  createdAt: string;
  createdAtHeight: number;
}

export interface ServerFill {
  readonly id: string;
  readonly orderId: string;
  readonly ticker: string;
  readonly side: 'BUY' | 'SELL';
  readonly size: string;
  readonly price: string;
  readonly fee: string;
  readonly liquidity: 'MAKER' | 'TAKER';
  readonly type: string;
  readonly createdAt: string;
  readonly createdAtHeight: string;
}

export interface AccountIndexerOptions {
  readonly address: string;
  readonly subaccountNumber: number;
  /** Starting USDC. Default 10 000. */
  readonly usdc?: string;
  /** Start as a subaccount the indexer has not indexed yet (`{}`, REST 404). */
  readonly notIndexed?: boolean;
  /** Ms UTC of block times; moved by the test. */
  readonly now: () => number;
}

export class AccountIndexer {
  readonly address: string;
  readonly subaccountNumber: number;
  wsUrl = '';
  restUrl = '';
  /** Refuse WebSocket upgrades (HTTP 503): every reconnect fails. REST keeps answering. */
  refuseConnections = false;
  /** Answer subscribes and REST with the compliance refusal (error frame, HTTP 403). */
  blocked = false;
  notIndexed: boolean;
  /** Pongs received for the server's protocol pings. */
  pongs = 0;
  /** Every client frame received, parsed. */
  readonly received: unknown[] = [];
  readonly requests: string[] = [];
  /** Each request's path and the test clock's time when it arrived. */
  readonly requestTimes: { path: string; at: number }[] = [];
  readonly fills: ServerFill[] = [];
  readonly oracle = new Map<string, Decimal>([
    ['BTC-USD', parseDecimal('60000')],
    ['ETH-USD', parseDecimal('2500')],
  ]);
  private usdc: Decimal;
  private readonly orders = new Map<string, ServerOrder>();
  private readonly positions = new Map<string, ServerPosition>();
  private readonly conns = new Set<Conn>();
  private height = 1_000_000;
  private seq = 0;
  private http: Server | undefined;
  private wss: WebSocketServer | undefined;
  private readonly now: () => number;

  constructor(options: AccountIndexerOptions) {
    this.address = options.address;
    this.subaccountNumber = options.subaccountNumber;
    this.usdc = parseDecimal(options.usdc ?? '10000');
    this.notIndexed = options.notIndexed ?? false;
    this.now = options.now;
  }

  async start(): Promise<void> {
    const wss = new WebSocketServer({ noServer: true });
    this.wss = wss;
    const http = createServer((req, res) => this.onRequest(req, res));
    http.on('upgrade', (req, socket, head) => {
      if (this.refuseConnections || !req.url?.startsWith('/v4/ws')) {
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    this.http = http;
    const port = (http.address() as AddressInfo).port;
    this.wsUrl = `ws://127.0.0.1:${port}/v4/ws`;
    this.restUrl = `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    this.dropAll();
    this.wss?.close();
    await new Promise<void>((resolve) => {
      if (this.http === undefined) resolve();
      else {
        this.http.closeAllConnections();
        this.http.close(() => resolve());
      }
    });
  }

  /** Connections with the subaccount subscribed. */
  subscribers(): number {
    return [...this.conns].filter((c) => c.subscribed).length;
  }

  /** Ends every socket at once, as a network cut does (no close frame). */
  dropAll(): void {
    for (const c of this.conns) c.socket.terminate();
    this.conns.clear();
  }

  /** Sends a protocol ping on every connection, as the indexer does every 30 s. */
  pingAll(): void {
    for (const c of this.conns) c.socket.ping();
  }

  /** Counts one message on every connection without sending it: the client sees a message_id jump. */
  loseMessage(): void {
    for (const c of this.conns) c.messageId++;
  }

  // ---- trading ----

  /** A new resting order; pushed as OPEN. */
  placeOrder(ticker: string, side: 'BUY' | 'SELL', size: string, price: string): string {
    const id = `00000000-0000-4000-8000-${String(++this.seq).padStart(12, '0')}`;
    const h = ++this.height;
    const order: ServerOrder = {
      id,
      ticker,
      side,
      size: parseDecimal(size),
      price: parseDecimal(price),
      totalFilled: ZERO,
      status: 'OPEN',
      clientId: String(1000 + this.seq),
      updatedAt: new Date(this.now()).toISOString(),
      updatedAtHeight: h,
      createdAtHeight: h,
    };
    this.orders.set(id, order);
    this.push({ orders: [this.orderJson(order)], blockHeight: String(h) });
    return id;
  }

  /** Fills `size` of an order at its price: fill, order, position and USDC pushed in one channel_data. */
  fill(orderId: string, size: string, liquidity: 'MAKER' | 'TAKER' = 'MAKER', type = 'LIMIT'): ServerFill {
    const order = this.orders.get(orderId);
    if (order === undefined) throw new Error(`no order ${orderId}`);
    const h = ++this.height;
    const at = new Date(this.now()).toISOString();
    const qty = parseDecimal(size);
    order.totalFilled = add(order.totalFilled, qty);
    order.status = toPlainString(order.totalFilled) === toPlainString(order.size) ? 'FILLED' : 'OPEN';
    order.updatedAt = at;
    order.updatedAtHeight = h;
    const notional = mul(qty, order.price);
    // One fee rate for every fill: 0.05% of the notional, paid.
    const fee = mul(notional, parseDecimal('0.0005'));
    const fill: ServerFill = {
      id: `f${String(++this.seq).padStart(8, '0')}-0000-4000-8000-000000000000`,
      orderId,
      ticker: order.ticker,
      side: order.side,
      size,
      price: toPlainString(order.price),
      fee: toPlainString(fee),
      liquidity,
      type,
      createdAt: at,
      createdAtHeight: String(h),
    };
    this.fills.push(fill);
    const signedQty = order.side === 'BUY' ? qty : sub(ZERO, qty);
    this.usdc = sub(sub(this.usdc, mul(signedQty, order.price)), fee);
    const position = this.movePosition(order.ticker, signedQty, order.price, at, h);
    this.notIndexed = false;
    this.push({
      fills: [this.fillJson(fill)],
      orders: [this.orderJson(order)],
      perpetualPositions: [this.positionJson(position)],
      assetPositions: [this.assetJson()],
      blockHeight: String(h),
    });
    if (position.status !== 'OPEN') this.positions.delete(position.market);
    return fill;
  }

  /** Cancels an order (pushed as CANCELED with the user-cancel removal reason). */
  cancel(orderId: string): void {
    const order = this.orders.get(orderId);
    if (order === undefined) throw new Error(`no order ${orderId}`);
    order.status = 'CANCELED';
    order.updatedAt = new Date(this.now()).toISOString();
    order.updatedAtHeight = ++this.height;
    this.push({
      orders: [{ ...this.orderJson(order), removalReason: 'ORDER_REMOVAL_REASON_USER_CANCELED' }],
      blockHeight: String(order.updatedAtHeight),
    });
  }

  /** The indexer's equity: USDC + Σ signed size × oracle price. */
  equity(): Decimal {
    let e = this.usdc;
    for (const p of this.positions.values()) e = add(e, mul(p.size, this.oraclePrice(p.market)));
    return e;
  }

  private oraclePrice(market: string): Decimal {
    return this.oracle.get(market) ?? ZERO;
  }

  private movePosition(market: string, qty: Decimal, price: Decimal, at: string, h: number): ServerPosition {
    let p = this.positions.get(market);
    if (p === undefined) {
      p = {
        market,
        size: ZERO,
        entryPrice: price,
        maxSize: ZERO,
        realizedPnl: ZERO,
        sumOpen: ZERO,
        sumClose: ZERO,
        status: 'OPEN',
        createdAt: at,
        createdAtHeight: h,
      };
      this.positions.set(market, p);
    }
    const before = p.size;
    const after = add(before, qty);
    const sameWay = before.coef === 0n || before.coef > 0n === qty.coef > 0n;
    if (sameWay) {
      // Entry price stays exact only for equal prices; tests trade one price per market.
      p.entryPrice = price;
      p.sumOpen = add(p.sumOpen, abs(qty));
    } else {
      p.sumClose = add(p.sumClose, abs(qty));
      p.realizedPnl = add(
        p.realizedPnl,
        mul(sub(price, p.entryPrice), before.coef > 0n ? abs(qty) : sub(ZERO, abs(qty))),
      );
    }
    p.size = after;
    if (after.coef === 0n) p.status = 'CLOSED';
    return p;
  }

  // ---- JSON in the indexer's shapes ----

  private orderJson(o: ServerOrder): Record<string, unknown> {
    return {
      id: o.id,
      subaccountId: 'a0000000-0000-4000-8000-000000000000',
      clientId: o.clientId,
      clobPairId: o.ticker === 'BTC-USD' ? '0' : '1',
      side: o.side,
      size: toPlainString(o.size),
      totalFilled: toPlainString(o.totalFilled),
      price: toPlainString(o.price),
      type: 'LIMIT',
      status: o.status,
      timeInForce: 'GTT',
      reduceOnly: false,
      orderFlags: '64',
      goodTilBlockTime: '2099-01-01T00:00:00.000Z',
      createdAtHeight: String(o.createdAtHeight),
      clientMetadata: '0',
      updatedAt: o.updatedAt,
      updatedAtHeight: String(o.updatedAtHeight),
      postOnly: false,
      ticker: o.ticker,
      subaccountNumber: this.subaccountNumber,
    };
  }

  private fillJson(f: ServerFill, rest = false): Record<string, unknown> {
    const { ticker, ...rest_ } = f;
    return {
      ...rest_,
      ...(rest
        ? { market: ticker, marketType: 'PERPETUAL', subaccountNumber: this.subaccountNumber }
        : { ticker }),
      quoteAmount: toPlainString(mul(parseDecimal(f.size), parseDecimal(f.price))),
      clobPairId: ticker === 'BTC-USD' ? '0' : '1',
      clientMetadata: '0',
    };
  }

  private positionJson(p: ServerPosition): Record<string, unknown> {
    const unrealized = mul(p.size, sub(this.oraclePrice(p.market), p.entryPrice));
    return {
      address: this.address,
      subaccountNumber: this.subaccountNumber,
      positionId: `p-${p.market}`,
      market: p.market,
      side: p.size.coef < 0n ? 'SHORT' : 'LONG',
      status: p.status,
      size: toPlainString(p.size),
      maxSize: toPlainString(p.size),
      entryPrice: toPlainString(p.entryPrice),
      exitPrice: null,
      realizedPnl: toPlainString(p.realizedPnl),
      unrealizedPnl: toPlainString(unrealized),
      netFunding: '0',
      sumOpen: toPlainString(p.sumOpen),
      sumClose: toPlainString(p.sumClose),
      createdAt: p.createdAt,
      createdAtHeight: String(p.createdAtHeight),
      closedAt: null,
    };
  }

  private assetJson(): Record<string, unknown> {
    return {
      address: this.address,
      subaccountNumber: this.subaccountNumber,
      symbol: 'USDC',
      side: this.usdc.coef < 0n ? 'SHORT' : 'LONG',
      size: toPlainString(abs(this.usdc)),
      assetId: '0',
    };
  }

  private subaccountJson(): Record<string, unknown> {
    const open: Record<string, unknown> = {};
    for (const p of this.positions.values()) open[p.market] = this.positionJson(p);
    const equity = this.equity();
    return {
      address: this.address,
      subaccountNumber: this.subaccountNumber,
      equity: toPlainString(equity),
      // 10% initial margin on every position.
      freeCollateral: toPlainString(sub(equity, this.initialMargin())),
      openPerpetualPositions: open,
      assetPositions: { USDC: this.assetJson() },
      marginEnabled: true,
      updatedAtHeight: String(this.height),
      latestProcessedBlockHeight: String(this.height),
    };
  }

  private initialMargin(): Decimal {
    let m = ZERO;
    for (const p of this.positions.values())
      m = add(m, mul(abs(mul(p.size, this.oraclePrice(p.market))), parseDecimal('0.1')));
    return m;
  }

  private workingOrders(statuses: readonly string[]): Record<string, unknown>[] {
    return [...this.orders.values()]
      .filter((o) => statuses.includes(o.status))
      .reverse()
      .map((o) => this.orderJson(o));
  }

  // ---- socket ----

  private onConnection(socket: WebSocket): void {
    const conn: Conn = { socket, id: `c${++this.seq}`, messageId: 0, subscribed: false };
    this.conns.add(conn);
    socket.on('pong', () => this.pongs++);
    socket.on('close', () => this.conns.delete(conn));
    socket.on('message', (data) => this.onMessage(conn, String(data)));
    this.send(conn, { type: 'connected', connection_id: conn.id, message_id: 0 }, false);
  }

  private onMessage(conn: Conn, text: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    this.received.push(msg);
    if (msg['type'] === 'ping') {
      this.send(conn, { type: 'pong', id: msg['id'] });
      return;
    }
    if (msg['type'] !== 'subscribe' || msg['channel'] !== 'v4_subaccounts') return;
    const id = `${this.address}/${this.subaccountNumber}`;
    if (msg['id'] !== id) {
      this.send(conn, {
        type: 'error',
        message: `Invalid subscription id for channel: (v4_subaccounts-${String(msg['id'])})`,
      });
      return;
    }
    if (this.blocked) {
      this.send(conn, { type: 'error', message: BLOCKED });
      return;
    }
    const contents = this.notIndexed
      ? {}
      : {
          subaccount: this.subaccountJson(),
          orders: this.workingOrders(['OPEN', 'UNTRIGGERED', 'BEST_EFFORT_OPENED', 'BEST_EFFORT_CANCELED']),
          blockHeight: String(this.height),
        };
    this.send(conn, { type: 'subscribed', channel: 'v4_subaccounts', id, contents });
    conn.subscribed = true;
  }

  private push(contents: Record<string, unknown>): void {
    const id = `${this.address}/${this.subaccountNumber}`;
    for (const c of this.conns) {
      if (c.subscribed)
        this.send(c, { type: 'channel_data', channel: 'v4_subaccounts', id, version: '3.0.0', contents });
    }
  }

  private send(conn: Conn, body: Record<string, unknown>, count = true): void {
    if (count) conn.messageId++;
    conn.socket.send(JSON.stringify({ ...body, connection_id: conn.id, message_id: conn.messageId }));
  }

  // ---- REST ----

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(url.pathname + url.search);
    this.requestTimes.push({ path: url.pathname, at: this.now() });
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.blocked) return reply(403, { errors: [{ msg: BLOCKED, code: 'BLOCKED' }] });
    const q = url.searchParams;
    const mine =
      q.get('address') === this.address && q.get('subaccountNumber') === String(this.subaccountNumber);
    const path = url.pathname;
    if (path === `/v4/addresses/${this.address}/subaccountNumber/${this.subaccountNumber}`) {
      if (this.notIndexed)
        return reply(404, {
          errors: [{ msg: `No subaccount found with address ${this.address} and subaccountNumber 0` }],
        });
      return reply(200, { subaccount: this.subaccountJson() });
    }
    if (path === '/v4/orders' && mine) {
      const statuses = (
        q.get('status') ?? 'OPEN,FILLED,CANCELED,UNTRIGGERED,BEST_EFFORT_OPENED,BEST_EFFORT_CANCELED'
      ).split(',');
      return reply(200, this.workingOrders(statuses).slice(0, Number(q.get('limit') ?? 100)));
    }
    if (path === '/v4/fills' && mine) {
      const limit = Number(q.get('limit') ?? 100);
      const before = q.get('createdBeforeOrAtHeight');
      const fills = [...this.fills]
        .reverse()
        .filter((f) => before === null || Number(f.createdAtHeight) <= Number(before))
        .slice(0, limit)
        .map((f) => this.fillJson(f, true));
      return reply(200, { fills, pageSize: limit, totalResults: this.fills.length, offset: 0 });
    }
    if (path === '/v4/perpetualPositions' && mine) {
      return reply(200, { positions: [...this.positions.values()].map((p) => this.positionJson(p)) });
    }
    if (path === '/v4/historical-pnl' && mine) {
      return reply(200, {
        historicalPnl: [
          {
            equity: toPlainString(this.equity()),
            totalPnl: '0',
            netTransfers: '0',
            createdAt: new Date(this.now()).toISOString(),
            blockHeight: String(this.height),
            blockTime: new Date(this.now()).toISOString(),
          },
        ],
      });
    }
    return reply(400, { errors: [{ msg: `unknown request ${path}` }] });
  }
}

function abs(d: Decimal): Decimal {
  return d.coef < 0n ? sub(ZERO, d) : d;
}
