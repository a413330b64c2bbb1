import { ALERT_CHANNEL, decodeAlert } from '../bus/alert-message.ts';
import { severityRank, type Alert, type AlertSeverity } from '../domain/alert.ts';
import type { ErrorCode } from '../domain/errors.ts';
import type { VenueId } from '../domain/instrument.ts';
import type { AlertsSubscribeMessage, AlertsUnsubscribeMessage } from '../protocol/client-messages.ts';
import {
  encodeAlertsChannelError,
  encodeAlertJson,
  encodeAlertMessage,
  encodeAlertsMessage,
  encodeAlertsSubscribed,
} from '../protocol/server-messages.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { integerOption } from '../util/options.ts';
import type { BusIntake } from './bus-intake.ts';
import type { Channel } from './channel.ts';
import type { AlertCounters, RoomStats } from './stats.ts';

/** Where alerts go (a client connection; its slow-consumer rule bounds what may wait for it). */
export interface AlertSink {
  send(payload: Buffer | string): void;
}

/** What one subscriber wants: alerts of at least `minSeverity`, about `venue` / `symbol` or about none. */
export interface AlertFilter {
  readonly minSeverity: AlertSeverity;
  readonly venue?: VenueId | undefined;
  readonly symbol?: string | undefined;
}

export interface AlertChannelOptions {
  /** Alerts kept in memory and sent (those that pass the filters) on subscribe; 0 keeps none (default 100). */
  readonly recent?: number;
}

/** The account a subscriber is authenticated for: an account alert reaches that account's subscribers only. */
export type AccountOf = (sink: AlertSink) => string | undefined;

export const DEFAULT_RECENT_ALERTS = 100;
/** Most alerts a gateway may keep: the `alerts` snapshot must stay far below a client's send buffer limit. */
export const MAX_RECENT_ALERTS = 10_000;

interface Kept {
  readonly alert: Alert;
  /** `encodeAlertJson` text, made once. */
  readonly json: string;
}

/** Whether `alert` passes `filter`: severity at least the minimum; venue and symbol equal when both name one. */
export function alertMatches(alert: Alert, filter: AlertFilter): boolean {
  if (severityRank(alert.severity) < severityRank(filter.minSeverity)) return false;
  if (filter.venue !== undefined && alert.venue !== undefined && alert.venue !== filter.venue) return false;
  if (filter.symbol !== undefined && alert.symbol !== undefined && alert.symbol !== filter.symbol)
    return false;
  return true;
}

/** Feed alerts go to every subscriber; an account alert only to connections authenticated for its account. */
function mayReceive(alert: Alert, account: string | undefined): boolean {
  return alert.account === undefined || alert.account === account;
}

/**
 * The `alerts` channel of one gateway: the last `recent` alerts, and the subscribers with their filters. Alerts
 * are never throttled, conflated or dropped: each one is serialized once and sent at once to every subscriber it
 * passes (a client too slow to take them is closed by its connection's buffer limit, like on every channel). An
 * alert whose id was already received (a repeated delivery) is ignored.
 */
export class AlertFeed implements Channel<AlertsSubscribeMessage, AlertsUnsubscribeMessage> {
  readonly subscribeType = 'alerts-subscribe';
  readonly unsubscribeType = 'alerts-unsubscribe';
  readonly counters: AlertCounters = { alertsReceived: 0, alertsSent: 0, duplicateAlerts: 0 };
  /** Time of the last alert sent to a subscriber; null before the first. */
  lastBroadcast: number | null = null;
  private readonly limit: number;
  private readonly kept: Kept[] = [];
  private readonly keptIds = new Set<string>();
  private readonly members = new Map<AlertSink, AlertFilter>();

  constructor(
    options: AlertChannelOptions = {},
    private readonly clock: Clock = systemClock,
    private readonly accountOf: AccountOf = () => undefined,
  ) {
    this.limit = integerOption(
      'alerts',
      'recent',
      options.recent ?? DEFAULT_RECENT_ALERTS,
      0,
      MAX_RECENT_ALERTS,
    );
  }

  /** Subscribers. */
  get size(): number {
    return this.members.size;
  }

  /** The channel is one room, listed while it has subscribers. */
  get roomCount(): number {
    return this.members.size > 0 ? 1 : 0;
  }

  *roomStats(): Iterable<RoomStats> {
    if (this.members.size === 0) return;
    yield {
      key: 'alerts',
      clientCount: this.members.size,
      hasCandle: this.lastBroadcast !== null,
      lastBroadcast: this.lastBroadcast,
    };
  }

  listen(intake: BusIntake): () => void {
    return intake.take(ALERT_CHANNEL, 'alert', (m) => this.onAlert(decodeAlert(m), this.clock.now()));
  }

  holds(sink: AlertSink): boolean {
    return this.members.has(sink);
  }

  subscriptionCount(sink: AlertSink): number {
    return this.members.has(sink) ? 1 : 0;
  }

  encodeError(code: ErrorCode, message: string): string {
    return encodeAlertsChannelError(code, message);
  }

  /** A repeated subscribe replaces the filter. */
  subscribe(sink: AlertSink, msg: AlertsSubscribeMessage): void {
    this.join(sink, msg);
  }

  unsubscribe(sink: AlertSink): void {
    this.leave(sink);
  }

  leaveAll(sink: AlertSink): void {
    this.leave(sink);
  }

  /** Nothing to stop: alerts are sent at once, never on a timer. */
  stop(): void {}

  /**
   * Subscribes `sink` (or replaces its filter) and sends it `subscribed`, then `alerts` with the kept alerts that
   * pass the filter, oldest first. Every later alert that passes follows as `alert`: none is missed or repeated
   * between the two, because both happen in the same turn of the event loop as the bus delivery.
   */
  join(sink: AlertSink, filter: AlertFilter): void {
    this.members.set(sink, filter);
    sink.send(encodeAlertsSubscribed(filter));
    const texts: string[] = [];
    const account = this.accountOf(sink);
    for (const k of this.kept)
      if (mayReceive(k.alert, account) && alertMatches(k.alert, filter)) texts.push(k.json);
    sink.send(encodeAlertsMessage(texts));
  }

  /** Unsubscribes `sink`; false when it was not subscribed. */
  leave(sink: AlertSink): boolean {
    return this.members.delete(sink);
  }

  /** Takes one alert from the bus: keeps it and sends it to every subscriber whose filter it passes. */
  onAlert(alert: Alert, now: number): void {
    if (this.keptIds.has(alert.id)) {
      this.counters.duplicateAlerts++;
      return;
    }
    this.counters.alertsReceived++;
    const json = encodeAlertJson(alert);
    if (this.limit > 0) {
      this.kept.push({ alert, json });
      this.keptIds.add(alert.id);
      if (this.kept.length > this.limit) {
        const dropped = this.kept.shift() as Kept;
        this.keptIds.delete(dropped.alert.id);
      }
    }
    let payload: Buffer | undefined;
    for (const [sink, filter] of this.members) {
      if (!alertMatches(alert, filter)) continue;
      if (alert.account !== undefined && !mayReceive(alert, this.accountOf(sink))) continue;
      payload ??= Buffer.from(encodeAlertMessage(json));
      sink.send(payload);
      this.counters.alertsSent++;
    }
    if (payload !== undefined) this.lastBroadcast = now;
  }

  /** The kept alerts, oldest first. */
  recent(): Alert[] {
    return this.kept.map((k) => k.alert);
  }
}
