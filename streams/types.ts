import type { z } from 'zod';
import type { BronzeTableDef, JsonValue, Row, SilverTableDef } from '../connectors/warehouse/types';
import type { AmplitudeEvent, IdentifyCall } from '../mappings/amplitude-types';

/**
 * A stream is data, in the spirit of declarative connectors: what to read, how it is keyed and
 * ordered, and how a record becomes a warehouse row and Amplitude calls. One generic sync workflow
 * runs any declared stream (workflows/sync-stream.ts); a new stream costs a declaration, a mapping
 * and a test.
 */
export type SourceName = 'salesforce' | 'drift';

export interface MappingContext {
  /** Amplitude rejects ids shorter than this. */
  minIdLength: number;
  /** Source field whose value becomes Amplitude's user_id (Salesforce: configurable, default Email). */
  userIdField: string;
}

export interface StreamDeclaration<R = Record<string, unknown>> {
  /** `<source>_<object>`: also the bronze and silver table name. */
  name: string;
  source: SourceName;
  /** Object name at the source, e.g. `Contact`, or `conversations`. */
  object: string;
  primaryKey: string;
  cursorField: string;
  /** Fields requested from the source. */
  fields: string[];
  /** Validates a source record; a record that fails is kept in bronze and dead-lettered. */
  schema: z.ZodType<R>;
  bronze: BronzeTableDef;
  silver: SilverTableDef;
  /** Silver row of a record (keys named as in `silver.columns`). */
  toRow(record: R): Row;
  isDeleted(record: R): boolean;
  /** Events to send; `previous` is the silver row before this change (undefined when new). */
  toEvents(record: R, previous: Row | undefined, ctx: MappingContext, related?: RelatedRows): MappedEvents;
  /**
   * Current silver rows of other streams the events need (a Drift message's contact, for its user id),
   * looked up once per page. A missing row is not an error: the mapping decides what to send without it.
   */
  lookups?: Lookup<R>[];
}

export interface Lookup<R> {
  /** What the mapping asks `related` for, e.g. `contact`. */
  name: string;
  table: SilverTableDef;
  /** Primary key value of the related row, or null when the record names none. */
  key(record: R): string | null;
}

export interface RelatedRows {
  get(lookup: string, key: string | null | undefined): Row | undefined;
}

export interface MappedEvents {
  events: AmplitudeEvent[];
  identify?: IdentifyCall;
  /** Why nothing could be sent for this record (e.g. no usable user id): goes to dead letters. */
  unsendable?: string;
}

/** A position in a stream; JSON so it lives in ops.sync_state and in workflow history. */
export type Cursor = JsonValue | null;
