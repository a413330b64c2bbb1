import type { Bus } from '../bus/bus.ts';
import type { Logger } from '../telemetry/logger.ts';

/**
 * Where the gateway's channels take their bus messages. A message that cannot be decoded (or that its handler
 * throws on) is logged, counted and skipped: one bad message from a publisher must not stop a stream.
 */
export class BusIntake {
  /** Bus messages skipped since start (`badBusMessages` of /health/ws-stats). */
  skipped = 0;

  constructor(
    private readonly bus: Bus,
    private readonly logger: Logger,
  ) {}

  /** Gives every message of `channel` to `take`; `kind` names the message in the log. Returns the unsubscribe. */
  take(channel: string, kind: string, take: (message: string) => void): () => void {
    return this.bus.subscribe(channel, (message) => {
      try {
        take(message);
      } catch (err) {
        this.skipped++;
        this.logger.warn(
          { err, sample: message.slice(0, 200) },
          `gateway: undecodable ${kind} message skipped`,
        );
      }
    });
  }
}
