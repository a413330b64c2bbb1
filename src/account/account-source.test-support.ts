/** An AccountSource driven by the test: what a venue adapter would emit, pushed by hand. */
import type { AccountRef } from '../domain/account.ts';
import type { AlertInput } from '../domain/alert.ts';
import type {
  AccountEvent,
  AccountResume,
  AccountSource,
  AccountSourceHandlers,
  AccountStreamStatus,
} from './contract.ts';

export class ScriptedAccountSource implements AccountSource {
  private handlers: AccountSourceHandlers | undefined;
  private current: AccountStreamStatus;
  closed = false;
  /** Where the hub told it to take up the fills. */
  resume: AccountResume | undefined;

  constructor(readonly account: AccountRef) {
    this.current = {
      connected: false,
      mode: 'stream',
      healthy: false,
      url: `wss://${account.venue}.example/private`,
      subscriptions: [],
      reconnects: 0,
    };
  }

  start(handlers: AccountSourceHandlers, resume: AccountResume = {}): void {
    this.handlers = handlers;
    this.resume = resume;
  }

  status(): AccountStreamStatus {
    return this.current;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  emit(event: AccountEvent): void {
    if (!this.handlers) throw new Error('source not started');
    this.handlers.event(event);
  }

  report(status: Partial<AccountStreamStatus>): void {
    this.current = { ...this.current, ...status };
    this.handlers?.status(this.current);
  }

  alert(alert: AlertInput): void {
    this.handlers?.alert(alert);
  }
}
