/** JSON as Segment receives it. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export const CALL_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type CallType = (typeof CALL_TYPES)[number];

/** The routes of the Tracking API: long names, and the one-letter forms analytics.js posts to. */
export const ROUTES = ['track', 'identify', 'page', 'screen', 'group', 'alias', 'batch', 't', 'i', 'p', 's', 'g', 'a', 'b'] as const;
export type Route = (typeof ROUTES)[number];

export const isJsonObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One call as Segment keeps it after intake: its messageId, type and the enriched payload. */
export interface ReceivedCall {
  messageId: string;
  type: CallType;
  /** The write key the call came with (the source it belongs to). */
  writeKey: string;
  /** ISO-8601, server time at intake. */
  receivedAt: string;
  /** ISO-8601, skew-corrected: receivedAt - (sentAt - originalTimestamp). */
  timestamp: string;
  /** The call as Segment passes it on: writeKey removed, receivedAt/timestamp/originalTimestamp set, batch context merged. */
  message: JsonObject;
}

/** A call refused inside a request that was still answered 200, as Segment does. */
export interface RejectedCall {
  at: number;
  /** Position in the batch (0 for a single call). */
  index: number;
  messageId?: string;
  type?: string;
  reason: string;
}
