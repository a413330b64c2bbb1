/**
 * The alerts feed (docs/PROTOCOL.md, "Alerts"). A connection has one alerts subscription, so the views share it:
 * the client subscribes with the loosest filters of its views (the lowest severity; a venue or symbol only when
 * every view asks for the same one) and each view filters for itself. Alerts are kept by id (the snapshot after
 * a reconnect repeats the recent ones: each is kept once), oldest first, the newest `keep`. Kinds this client
 * does not know are ignored, as docs/PROTOCOL.md asks: the list grows, and a view only gets kinds it can type.
 */
import { isAlertKind } from '../domain/alert.ts';
import type { AlertJson } from '../protocol/server-messages.ts';
import type { Room, RoomContext, WireMessage } from './room.ts';
import { Store } from './view-store.ts';

export type Severity = 'info' | 'warning' | 'critical';
const RANK: Readonly<Record<Severity, number>> = { info: 0, warning: 1, critical: 2 };

export interface AlertFilter {
  readonly minSeverity: Severity;
  readonly venue?: string;
  readonly symbol?: string;
  readonly keep: number;
}

export interface AlertsRoomState {
  readonly alerts: readonly AlertJson[];
  readonly live: boolean;
}

/** Whether `alert` passes `filter` as the gateway's own filter would (an alert about no venue passes a venue filter). */
export function passes(alert: AlertJson, filter: AlertFilter): boolean {
  const rank = RANK[alert.severity as Severity];
  if (rank !== undefined && rank < RANK[filter.minSeverity]) return false;
  if (filter.venue !== undefined && alert.venue !== undefined && alert.venue !== filter.venue) return false;
  if (filter.symbol !== undefined && alert.symbol !== undefined && alert.symbol !== filter.symbol)
    return false;
  return true;
}

function isAlert(value: unknown): value is AlertJson {
  const a = value as Partial<AlertJson> | null;
  return typeof a?.id === 'string' && typeof a.time === 'number' && isAlertKind(a.kind);
}

export class AlertsRoom implements Room {
  readonly key = 'alerts';
  readonly store = new Store<AlertsRoomState>({ alerts: [], live: false });
  readonly pollable = true;
  readonly filters = new Set<AlertFilter>();
  private readonly ids = new Set<string>();

  constructor(private readonly context: RoomContext) {}

  /** The subscription's filter: what every view's filter lets through. */
  combined(): Omit<AlertFilter, 'keep'> {
    const filters = [...this.filters];
    const minSeverity =
      filters.length === 0
        ? 'info'
        : filters.reduce<Severity>(
            (low, f) => (RANK[f.minSeverity] < RANK[low] ? f.minSeverity : low),
            'critical',
          );
    const same = (pick: (f: AlertFilter) => string | undefined): string | undefined => {
      const values = new Set(filters.map(pick));
      return values.size === 1 ? [...values][0] : undefined;
    };
    const venue = same((f) => f.venue);
    const symbol = same((f) => f.symbol);
    return { minSeverity, ...(venue ? { venue } : {}), ...(symbol ? { symbol } : {}) };
  }

  get keep(): number {
    return Math.max(0, ...[...this.filters].map((f) => f.keep));
  }

  subscribeMessages(): readonly object[] {
    return [{ type: 'subscribe', channel: 'alerts', ...this.combined() }];
  }

  unsubscribeMessages(): readonly object[] {
    return [{ type: 'unsubscribe', channel: 'alerts' }];
  }

  receive(message: WireMessage): void {
    if (message.type === 'alerts') this.add(Array.isArray(message.alerts) ? message.alerts : [], true);
    else if (message.type === 'alert') {
      const { type: _type, ...alert } = message;
      this.add([alert], true);
    }
  }

  receiveError(): void {}

  disconnected(): void {
    const state = this.store.get();
    if (state.live) this.store.set({ ...state, live: false });
  }

  async poll(): Promise<void> {
    const answer = await this.context.http.get<{ alerts?: unknown[] }>('/api/alerts', { ...this.combined() });
    if (this.context.polling()) this.add(answer.alerts ?? [], false);
  }

  private add(items: readonly unknown[], live: boolean): void {
    const fresh = items.filter(isAlert).filter((alert) => !this.ids.has(alert.id));
    const state = this.store.get();
    if (fresh.length === 0) {
      if (state.live !== live) this.store.set({ ...state, live });
      return;
    }
    const all = [...state.alerts, ...fresh].sort((a, b) => a.time - b.time);
    const kept = all.slice(Math.max(0, all.length - this.keep));
    this.ids.clear();
    for (const alert of kept) this.ids.add(alert.id);
    this.store.set({ alerts: kept, live });
  }
}
