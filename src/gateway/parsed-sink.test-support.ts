import type { ClientSink } from './channel.ts';

/** A client connection for room tests: records every message it is sent, parsed; never corks. */
export class ParsedSink implements ClientSink {
  readonly got: Record<string, unknown>[] = [];
  send(payload: Buffer | string): void {
    this.got.push(JSON.parse(payload.toString()) as Record<string, unknown>);
  }
  cork(): boolean {
    return false;
  }
  uncork(): void {}
  /** The messages of one `type`, in order. */
  ofType(type: string): Record<string, unknown>[] {
    return this.got.filter((m) => m['type'] === type);
  }
}
