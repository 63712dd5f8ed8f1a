import type { z } from 'zod';
import type { BronzeTableDef, Row, SilverTableDef } from '../connectors/warehouse/types';
import type { MappedEvents, MappingContext, RelatedRows } from '../mappings/types';
import type { SourceStream } from '../ports/source-reader';

/**
 * A stream is data, in the spirit of declarative connectors: what to read, how it is keyed and
 * ordered, and how a record becomes a warehouse row and Amplitude calls. One generic sync workflow
 * runs any declared stream (workflows/sync-stream.ts); a new stream costs a declaration, a mapping
 * and a test.
 */
export interface StreamDeclaration<R = Record<string, unknown>> extends SourceStream {
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
  /**
   * Resolves what the declaration needs from the source before its first use (a Salesforce object's
   * field types from describe). Idempotent and cheap once done; a failure is tried again next time.
   * Call it before reading `fields`, `schema`, `silver` or mapping a record.
   */
  prepare?(): Promise<void>;
}

export interface Lookup<R> {
  /** What the mapping asks `related` for, e.g. `contact`. */
  name: string;
  table: SilverTableDef;
  /** Primary key value of the related row, or null when the record names none. */
  key(record: R): string | null;
}



