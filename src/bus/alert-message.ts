import {
  isAlertKind,
  isAlertSeverity,
  MAX_ALERT_DETAILS,
  MAX_ALERT_MESSAGE_LENGTH,
  type Alert,
  type AlertDetails,
} from '../domain/alert.ts';
import { isCanonicalSymbol, isVenueId, type VenueId } from '../domain/instrument.ts';
import type { Bus } from './bus.ts';

/**
 * Bus messages of system alerts, from the ingest side to the gateways. One alert per message, JSON with the
 * Alert's own field names in a fixed order (alerts are rare; readability beats size). The decoder accepts exactly
 * what the encoder writes and throws an Error on anything else, so a gateway can count and skip a bad message.
 */

/** Channel of alerts (`encodeAlert`). */
export const ALERT_CHANNEL = 'tickwire:alerts';

const MAX_ID_LENGTH = 128;
const MAX_DETAIL_KEY_LENGTH = 64;
const MAX_DETAIL_TEXT_LENGTH = 1000;

function malformed(why: string): Error {
  return new Error(`malformed alert message: ${why}`);
}

/** Why `o` is not a valid Alert, or undefined when it is one. Unknown fields are a fault too. */
function checkAlert(o: Record<string, unknown>): string | undefined {
  for (const key of Object.keys(o)) {
    if (!FIELDS.has(key)) return `unknown field ${key.slice(0, 40)}`;
  }
  if (typeof o.id !== 'string' || o.id === '' || o.id.length > MAX_ID_LENGTH) return 'bad id';
  if (!Number.isSafeInteger(o.time) || (o.time as number) < 0) return 'time is not a non-negative integer';
  if (!isAlertSeverity(o.severity)) return 'unknown severity';
  if (!isAlertKind(o.kind)) return 'unknown kind';
  if (o.venue !== undefined && !isVenueId(o.venue)) return 'unknown venue';
  if (o.symbol !== undefined && !isCanonicalSymbol(o.symbol)) return 'symbol is not canonical';
  if (o.account !== undefined && (typeof o.account !== 'string' || !ACCOUNT_ID.test(o.account))) {
    return 'bad account id';
  }
  if (typeof o.message !== 'string' || o.message === '' || o.message.length > MAX_ALERT_MESSAGE_LENGTH) {
    return 'bad message text';
  }
  if (o.details !== undefined) return checkDetails(o.details);
  return undefined;
}

function checkDetails(details: unknown): string | undefined {
  if (typeof details !== 'object' || details === null || Array.isArray(details))
    return 'details not an object';
  const entries = Object.entries(details);
  if (entries.length > MAX_ALERT_DETAILS) return 'too many details';
  for (const [key, value] of entries) {
    if (key === '' || key.length > MAX_DETAIL_KEY_LENGTH) return 'bad details key';
    if (value === null || typeof value === 'boolean') continue;
    if (typeof value === 'number' && Number.isFinite(value)) continue;
    if (typeof value === 'string' && value.length <= MAX_DETAIL_TEXT_LENGTH) continue;
    return `details.${key.slice(0, 40)} is not a JSON scalar`;
  }
  return undefined;
}

const FIELDS = new Set([
  'id',
  'time',
  'severity',
  'kind',
  'venue',
  'symbol',
  'account',
  'message',
  'details',
]);
/** An account id as the configuration allows it. */
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Bus encoding of an alert: `{"id","time","severity","kind","venue"?,"symbol"?,"account"?,"message","details"?}`. Throws
 * when the alert breaks a rule its decoder checks (a publisher bug: it would be skipped by every gateway).
 */
export function encodeAlert(alert: Alert): string {
  const ordered: Record<string, unknown> = {
    id: alert.id,
    time: alert.time,
    severity: alert.severity,
    kind: alert.kind,
  };
  if (alert.venue !== undefined) ordered.venue = alert.venue;
  if (alert.symbol !== undefined) ordered.symbol = alert.symbol;
  if (alert.account !== undefined) ordered.account = alert.account;
  ordered.message = alert.message;
  if (alert.details !== undefined) ordered.details = alert.details;
  const fault = checkAlert(ordered);
  if (fault !== undefined) throw new Error(`encodeAlert: ${fault}`);
  return JSON.stringify(ordered);
}

/** Decodes `encodeAlert` output; throws on anything else (including unknown fields, kinds and severities). */
export function decodeAlert(message: string): Alert {
  let raw: unknown;
  try {
    raw = JSON.parse(message);
  } catch {
    throw malformed('not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw malformed('not an object');
  const o = raw as Record<string, unknown>;
  const fault = checkAlert(o);
  if (fault !== undefined) throw malformed(fault);
  return {
    id: o.id as string,
    time: o.time as number,
    severity: o.severity as Alert['severity'],
    kind: o.kind as Alert['kind'],
    ...(o.venue === undefined ? {} : { venue: o.venue as VenueId }),
    ...(o.symbol === undefined ? {} : { symbol: o.symbol as string }),
    ...(o.account === undefined ? {} : { account: o.account as string }),
    message: o.message as string,
    ...(o.details === undefined ? {} : { details: o.details as AlertDetails }),
  };
}

/** Encodes and publishes one alert on ALERT_CHANNEL; throws like `encodeAlert` on an invalid alert. */
export function publishAlert(bus: Bus, alert: Alert): void {
  bus.publish(ALERT_CHANNEL, encodeAlert(alert));
}
