import { defaultPayloadConverter, PayloadConverterError, ValueError, type PayloadConverter } from '@temporalio/common';
import type { Env } from '../config/env';

/**
 * What a push route checks before a request joins a Temporal signal, so that a request Temporal
 * cannot take is refused alone (400 + dead letter) instead of failing the group it would travel in.
 *
 * Why both a walk and an encode: JSON.parse is iterative and accepts any nesting, but JSON.stringify
 * (which Temporal's JSON payload converter calls, and which swallows its RangeError and reports
 * "Unable to convert [object Object] to payload") recurses, and its breaking depth (about 4,000-5,000
 * levels on Node 20) shrinks with the stack already in use: a check at the handler's shallow stack can
 * pass while the client's call, or the ingest workflow measuring the event in its sandbox, fails. The
 * depth bound keeps every event far below that; the encode with the configured converter catches
 * anything else it refuses and measures the event as Temporal will carry it.
 *
 * Text with a lone surrogate (JSON allows the escape `"\ud800"`, Unicode does not) is refused too:
 * Temporal carries it, but the warehouse's JSON columns refuse it, so the flush of an acknowledged
 * event would fail on every retry.
 *
 * API (shared by /amplitude, /drift and the Segment routes):
 * - `createIngestGuard(limits, converter?)` returns `check(value, index)`: undefined when the value
 *   may travel, else a `LimitProblem` naming the event index, where, and the setting that refused it.
 *   One iterative walk (stops at the first bound crossed) plus one `toPayload`: ~20 µs for a 1 KB event.
 * - `boundedRawBody(body)`: the request as text, cut to `DEAD_LETTER_BODY_CHARS`, to store as a dead
 *   letter's payload (a string always encodes, and its size is bounded whatever the body held).
 * - `isContentRefusal(err)`: whether Temporal refused a call because of what it carried (the payload
 *   converter, or the server's INVALID_ARGUMENT such as a blob over its size limit), i.e. sending the
 *   same content again will fail again.
 */

export interface IngestLimits {
  /** Nesting levels of one event, the event object itself being level 1. */
  maxDepth: number;
  /** Bytes of one event as the payload converter encodes it (JSON, UTF-8). */
  maxEventBytes: number;
  /** Object keys plus array items, counted at every level of one event. */
  maxProperties: number;
}

/** Far above any real Amplitude export event (string values are capped at 1,024 characters there), far below what breaks Temporal. */
export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxDepth: 64, maxEventBytes: 512 * 1024, maxProperties: 10_000 };

export function ingestLimits(env: Pick<Env, 'WEBHOOK_EVENT_MAX_DEPTH' | 'WEBHOOK_EVENT_MAX_BYTES' | 'WEBHOOK_EVENT_MAX_PROPERTIES'>): IngestLimits {
  return { maxDepth: env.WEBHOOK_EVENT_MAX_DEPTH, maxEventBytes: env.WEBHOOK_EVENT_MAX_BYTES, maxProperties: env.WEBHOOK_EVENT_MAX_PROPERTIES };
}

/** The setting a user raises to let such events through. */
export type LimitName = 'WEBHOOK_EVENT_MAX_DEPTH' | 'WEBHOOK_EVENT_MAX_BYTES' | 'WEBHOOK_EVENT_MAX_PROPERTIES' | 'VALID_UNICODE' | 'TEMPORAL_PAYLOAD';

export interface LimitProblem {
  /** Index of the event in the request (0 for a single event). */
  index: number;
  /** Where in the event the bound was crossed, e.g. `event_properties.a.a` (empty: the whole event). */
  path: string;
  limit: LimitName;
  message: string;
}

export interface IngestGuard {
  readonly limits: IngestLimits;
  check(value: unknown, index: number): LimitProblem | undefined;
}

/** Raw bodies kept in a dead letter are cut here: at most ~384 KB once JSON-escaped, well within one signal. */
export const DEAD_LETTER_BODY_CHARS = 64 * 1024;

interface Node {
  value: unknown;
  depth: number;
  key: string;
  parent?: Node;
}

const PATH_SHOWN = 12;

function pathOf(node: Node): string {
  const keys: string[] = [];
  for (let n: Node | undefined = node; n?.parent; n = n.parent) keys.push(n.key);
  keys.reverse();
  // The path travels in answers and dead-letter reasons: a key's own lone surrogate must not.
  for (let i = 0; i < keys.length; i++) if (SURROGATE.test(keys[i])) keys[i] = keys[i].replace(LONE_SURROGATE_ALL, '\uFFFD');
  // A path thousands of keys long would only bloat the answer: its start and length say enough.
  return keys.length > PATH_SHOWN ? `${keys.slice(0, PATH_SHOWN).join('.')}... (${keys.length} levels)` : keys.join('.');
}

export function createIngestGuard(limits: IngestLimits = DEFAULT_INGEST_LIMITS, converter: PayloadConverter = defaultPayloadConverter): IngestGuard {
  const problem = (index: number, path: string, limit: LimitName, message: string): LimitProblem => ({ index, path, limit, message });
  const unicodeProblem = (index: number, node: Node) =>
    problem(index, pathOf(node), 'VALID_UNICODE', 'the event contains text that is not valid Unicode (an unpaired surrogate escape such as "\\ud800"): send UTF-8 text');
  return {
    limits,
    check(value, index) {
      // Iterative: the walk itself must not recurse on the input it protects against.
      const stack: Node[] = [{ value, depth: 1, key: '' }];
      let properties = 0;
      while (stack.length > 0) {
        const node = stack.pop()!;
        const v = node.value;
        if (typeof v === 'string' && SURROGATE.test(v) && hasLoneSurrogate(v)) return unicodeProblem(index, node);
        if (typeof v !== 'object' || v === null) continue;
        if (node.depth > limits.maxDepth)
          return problem(index, pathOf(node), 'WEBHOOK_EVENT_MAX_DEPTH', `the event is nested more than ${limits.maxDepth} levels deep (limit WEBHOOK_EVENT_MAX_DEPTH=${limits.maxDepth}): flatten its properties`);
        const keys = Array.isArray(v) ? null : Object.keys(v);
        properties += keys ? keys.length : (v as unknown[]).length;
        if (properties > limits.maxProperties)
          return problem(index, pathOf(node), 'WEBHOOK_EVENT_MAX_PROPERTIES', `the event holds more than ${limits.maxProperties} properties and array items in all (limit WEBHOOK_EVENT_MAX_PROPERTIES=${limits.maxProperties}): send fewer properties`);
        if (keys)
          for (const k of keys) {
            if (SURROGATE.test(k) && hasLoneSurrogate(k)) return unicodeProblem(index, { value: k, depth: node.depth + 1, key: k, parent: node });
            stack.push({ value: (v as Record<string, unknown>)[k], depth: node.depth + 1, key: k, parent: node });
          }
        else (v as unknown[]).forEach((item, i) => stack.push({ value: item, depth: node.depth + 1, key: String(i), parent: node }));
      }
      let bytes: number;
      try {
        bytes = converter.toPayload(value).data?.length ?? 0;
      } catch (err) {
        return problem(index, '', 'TEMPORAL_PAYLOAD', `the event cannot be encoded as a Temporal payload (${err instanceof Error ? err.message : String(err)})`);
      }
      if (bytes > limits.maxEventBytes)
        return problem(index, '', 'WEBHOOK_EVENT_MAX_BYTES', `the event is ${bytes} bytes as JSON, over the limit of ${limits.maxEventBytes} (WEBHOOK_EVENT_MAX_BYTES): send smaller properties`);
      return undefined;
    },
  };
}

/** The body as text for a dead letter: cut to `maxChars`, never in the middle of a surrogate pair. */
export function boundedRawBody(body: Buffer | string, maxChars = DEAD_LETTER_BODY_CHARS): string {
  const text = typeof body === 'string' ? body : body.toString('utf8', 0, Math.min(body.length, maxChars * 4));
  if (text.length <= maxChars) return text;
  const end = /[\uD800-\uDBFF]/.test(text[maxChars - 1]) ? maxChars - 1 : maxChars;
  return text.slice(0, end);
}

/** Cheap first test: most text has no surrogate at all. */
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATE_ALL = new RegExp(LONE_SURROGATE.source, 'g');

/** Whether text cannot be encoded as UTF-8 (what a protobuf string field, e.g. a workflow id, needs). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** gRPC status INVALID_ARGUMENT: the server refuses the request itself (e.g. a payload over its blob size limit). */
const INVALID_ARGUMENT = 3;

export function isContentRefusal(err: unknown): boolean {
  for (let e: unknown = err, hops = 0; e !== null && typeof e === 'object' && hops < 5; e = (e as { cause?: unknown }).cause, hops++) {
    if (e instanceof ValueError || e instanceof PayloadConverterError || e instanceof RangeError) return true;
    if ((e as { code?: unknown }).code === INVALID_ARGUMENT) return true;
  }
  return false;
}
