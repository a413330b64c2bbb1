import type { Bus } from '../bus/bus.ts';
import { publishAlert } from '../bus/alert-message.ts';
import { ALERT_LOG_LEVEL, newAlert, type AlertInput } from '../domain/alert.ts';
import type { Logger } from '../telemetry/logger.ts';

/**
 * Logs an alert at its severity's level and publishes it on the bus for the gateways' alerts channel, so that
 * operators reading logs and clients subscribed to `alerts` learn of it alike.
 */
export function raiseAlert(bus: Bus, logger: Logger, input: AlertInput, now: () => number = Date.now): void {
  const alert = newAlert(input, now);
  logger[ALERT_LOG_LEVEL[alert.severity]]({ alert }, alert.message);
  publishAlert(bus, alert);
}
