/**
 * The warm-up's clients, run in a child process of their own (src/gateway/warm-up.ts forks this file), so that the
 * gateway's process runs only the server side of the connection path.
 *
 * argv[2] = JSON WarmUpClientsJob. Messages to the parent, in order: `connected` once every client holds its seven
 * `initial`s, then `updated` once every client got one update per room; `failed` (with a reason) instead at the
 * first error. On `close` from the parent (or when the parent goes) every socket is cut off and the process ends.
 */
import WebSocket from 'ws';
import { INTERVALS } from '../domain/interval.ts';

/** What the child is asked to do. */
export interface WarmUpClientsJob {
  readonly url: string;
  readonly symbols: readonly string[];
  readonly connections: number;
  /** Connections in flight at once. */
  readonly batch: number;
}

/** What the child tells its parent. */
export type WarmUpClientsReport =
  | { readonly type: 'connected'; readonly count: number }
  | { readonly type: 'updated' }
  | { readonly type: 'failed'; readonly reason: string };

/** What the parent tells the child. */
export interface WarmUpClientsCommand {
  readonly type: 'close';
}

const sockets: WebSocket[] = [];

function report(message: WarmUpClientsReport): void {
  process.send?.(message);
}

function end(): void {
  // Cut off from the client side: the throwaway gateway has no close handshakes to wait for.
  for (const ws of sockets) ws.terminate();
  process.exit(0);
}

/** One client: resolves once it holds its seven `initial`s; its `updated` once it got one update per room. */
function connect(url: string, symbol: string): Promise<{ readonly updated: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    sockets.push(ws);
    let initials = 0;
    let updates = 0;
    let updated: () => void = () => undefined;
    const allUpdated = new Promise<void>((resolveUpdated) => {
      updated = resolveUpdated;
    });
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('warm-up connection closed')));
    ws.once('open', () => {
      for (const interval of INTERVALS)
        ws.send(JSON.stringify({ type: 'subscribe', symbol, interval, initialBars: 0 }));
    });
    ws.on('message', (data) => {
      const type = (JSON.parse(String(data)) as { type?: string }).type;
      if (type === 'initial' && ++initials === INTERVALS.length) resolve({ updated: allUpdated });
      else if (type === 'update' && ++updates === INTERVALS.length) updated();
      else if (type === 'error') reject(new Error(`warm-up subscribe refused: ${String(data)}`));
    });
  });
}

async function run(job: WarmUpClientsJob): Promise<void> {
  const updates: Promise<void>[] = [];
  for (let i = 0; i < job.connections; i += job.batch) {
    const batch = Array.from({ length: Math.min(job.batch, job.connections - i) }, (_, j) =>
      connect(job.url, job.symbols[(i + j) % job.symbols.length] as string),
    );
    for (const client of await Promise.all(batch)) updates.push(client.updated);
  }
  report({ type: 'connected', count: updates.length });
  await Promise.all(updates);
  report({ type: 'updated' });
}

process.on('message', (message: WarmUpClientsCommand) => {
  if (message.type === 'close') end();
});
process.on('disconnect', end);
run(JSON.parse(process.argv[2] ?? '{}') as WarmUpClientsJob).catch((err: unknown) => {
  report({ type: 'failed', reason: err instanceof Error ? err.message : String(err) });
});
