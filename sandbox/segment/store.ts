import type { CallType, ReceivedCall, RejectedCall } from './types';

/**
 * What the emulator received, for tests: the calls Segment would deliver (one per messageId), the
 * replays it recognised as duplicates, the calls it answered 200 for but refused or lost, and the
 * requests it answered.
 */
export interface MessageFilter {
  type?: CallType;
  userId?: string;
  anonymousId?: string;
  event?: string;
  writeKey?: string;
  /** Only calls received at or after this epoch ms. */
  since?: number;
}

export interface RequestRecord {
  at: number;
  route: string;
  status: number;
  /** Calls in the request (0 when it was refused whole). */
  calls: number;
  message?: string;
}

export interface DuplicateRecord {
  at: number;
  messageId: string;
  type: CallType;
}

export interface DroppedCall {
  at: number;
  reason: string;
  call: ReceivedCall;
}

const MAX_LOG = 5_000;

const push = <T>(list: T[], item: T) => {
  list.push(item);
  if (list.length > MAX_LOG) list.shift();
};

export class SegmentStore {
  private readonly calls: ReceivedCall[] = [];
  private readonly byId = new Map<string, { call: ReceivedCall; firstAt: number; times: number }>();
  private readonly duplicateLog: DuplicateRecord[] = [];
  private readonly rejectedLog: RejectedCall[] = [];
  private readonly droppedLog: DroppedCall[] = [];
  private readonly requestLog: RequestRecord[] = [];

  /** True when this messageId was kept less than `windowMs` ago: the call is then recorded as a duplicate, not kept. */
  isDuplicate(messageId: string, type: CallType, at: number, windowMs: number): boolean {
    const seen = this.byId.get(messageId);
    if (!seen || at - seen.firstAt >= windowMs) return false;
    seen.times += 1;
    push(this.duplicateLog, { at, messageId, type });
    return true;
  }

  add(call: ReceivedCall, at: number): void {
    this.calls.push(call);
    const seen = this.byId.get(call.messageId);
    this.byId.set(call.messageId, { call, firstAt: at, times: (seen?.times ?? 0) + 1 });
  }

  list(filter: MessageFilter = {}): ReceivedCall[] {
    return this.calls.filter(
      (c) =>
        (filter.type === undefined || c.type === filter.type) &&
        (filter.userId === undefined || c.message.userId === filter.userId) &&
        (filter.anonymousId === undefined || c.message.anonymousId === filter.anonymousId) &&
        (filter.event === undefined || c.message.event === filter.event) &&
        (filter.writeKey === undefined || c.writeKey === filter.writeKey) &&
        (filter.since === undefined || Date.parse(c.receivedAt) >= filter.since),
    );
  }

  count(filter?: MessageFilter): number {
    return filter ? this.list(filter).length : this.calls.length;
  }

  /** The kept call with this messageId, and how many times it arrived (duplicates included). */
  byMessageId(messageId: string): { call: ReceivedCall; times: number } | undefined {
    const seen = this.byId.get(messageId);
    return seen && { call: seen.call, times: seen.times };
  }

  recordRejected(r: RejectedCall): void {
    push(this.rejectedLog, r);
  }

  recordDropped(d: DroppedCall): void {
    push(this.droppedLog, d);
  }

  recordRequest(r: RequestRecord): void {
    push(this.requestLog, r);
  }

  duplicates(): DuplicateRecord[] {
    return [...this.duplicateLog];
  }

  rejected(): RejectedCall[] {
    return [...this.rejectedLog];
  }

  dropped(): DroppedCall[] {
    return [...this.droppedLog];
  }

  requests(): RequestRecord[] {
    return [...this.requestLog];
  }

  clear(): void {
    this.calls.length = 0;
    this.byId.clear();
    this.duplicateLog.length = 0;
    this.rejectedLog.length = 0;
    this.droppedLog.length = 0;
    this.requestLog.length = 0;
  }
}
