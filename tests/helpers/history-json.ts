import type * as proto from '@temporalio/proto';

/**
 * Workflow history <-> the JSON of Temporal's tools (Web UI download, `temporal workflow show -o json`).
 *
 * The SDK's own historyToJSON / historyFromJSON (@temporalio/common/lib/proto-utils, also used by
 * Worker.runReplayHistories for JSON input) throw "type must be a Type" in this install: npm gave
 * @temporalio/common and @temporalio/proto each their own copy of protobufjs 8 (the root holds 7 for
 * other packages), and protojson's `instanceof Type` fails across copies. The same conversion with the
 * protojson of the copy @temporalio/proto's types come from works.
 */

type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

// Resolved from @temporalio/proto's directory on purpose: the protobufjs copy its types belong to (see above).
const protojson = require(require.resolve('protobufjs/ext/protojson', { paths: [require.resolve('@temporalio/proto')] })) as ProtoJson;
// The module itself (not an import's namespace wrapper, which vitest builds differently) is the protobufjs Root.
const protoRoot = require('@temporalio/proto') as typeof proto & { lookupType(name: string): unknown };
const historyType = protoRoot.lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, protoRoot.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** Fields a newer server or SDK added are ignored, as the SDK does. */
export function historyFromJson(json: unknown): History {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { events?: unknown }).events)) throw new TypeError('not a workflow history: expected an object with an array of events');
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}
