/**
 * One account channel as the client holds it (docs/PROTOCOL.md, "Account channels"): a snapshot replaces the
 * state, each change applies by `seq` (a JSON Merge Patch for the object channels, keyed upserts and removals
 * for the lists). A change whose `seq` is not the last + 1 means one was missed: the state is not touched and
 * the caller asks the gateway for a fresh snapshot (`resync`), ignoring further changes until it arrives.
 */
import type { AccountChannel } from '../protocol/account-messages.ts';
import { applyMergePatch, type JsonValue } from './merge-patch.ts';

/** What applying one message did. */
export type DeltaOutcome = 'applied' | 'gap' | 'ignored';

interface Keyed {
  readonly key: string;
}

const OBJECT_CHANNELS: ReadonlySet<AccountChannel> = new Set(['dashboard', 'account', 'performance']);

export function isObjectChannel(channel: AccountChannel): boolean {
  return OBJECT_CHANNELS.has(channel);
}

export interface AccountChannelMessage {
  readonly channel: AccountChannel;
  readonly seq: number;
  readonly snapshot: boolean;
  readonly data: unknown;
}

/** The state of one channel: an object, or a keyed list (insertion order kept: fills stay oldest first). */
export class AccountChannelState {
  object: JsonValue | undefined;
  readonly items = new Map<string, Keyed>();
  /** The `seq` of the last message applied; undefined before the first snapshot and while a resync is awaited. */
  private lastSeq: number | undefined;

  constructor(readonly channel: AccountChannel) {}

  /** Whether a snapshot is awaited (none yet, or a gap was seen). */
  get awaitingSnapshot(): boolean {
    return this.lastSeq === undefined;
  }

  /** Forget the sequence (after a reconnect the next message is a snapshot); the data stays until it comes. */
  expectSnapshot(): void {
    this.lastSeq = undefined;
  }

  apply(message: AccountChannelMessage): DeltaOutcome {
    if (message.snapshot) {
      this.lastSeq = message.seq;
      if (isObjectChannel(this.channel)) this.object = message.data as JsonValue;
      else {
        // Fills only grow and a snapshot holds the newest 100: the older ones held stay (PROTOCOL.md allows it).
        if (this.channel !== 'trades') this.items.clear();
        this.applyList(message.data);
      }
      return 'applied';
    }
    if (this.lastSeq === undefined) return 'ignored';
    if (message.seq <= this.lastSeq) return 'ignored';
    if (message.seq !== this.lastSeq + 1) {
      this.lastSeq = undefined;
      return 'gap';
    }
    this.lastSeq = message.seq;
    if (isObjectChannel(this.channel)) this.object = applyMergePatch(this.object, message.data);
    else this.applyList(message.data);
    return 'applied';
  }

  private applyList(data: unknown): void {
    const delta = data as { upsert?: readonly Keyed[]; remove?: readonly string[] };
    for (const item of delta.upsert ?? []) {
      if (typeof item?.key === 'string') this.items.set(item.key, item);
    }
    for (const key of delta.remove ?? []) this.items.delete(key);
  }
}
