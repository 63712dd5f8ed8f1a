import type { z } from 'zod';
import type { BronzeTableDef, Row, SilverTableDef } from '../connectors/warehouse/types';
import type { MappedEvents, MappingContext, RelatedRows } from '../mappings/types';
import type { SourceStream } from '../ports/source-reader';
import type { ObjectFieldsConfig } from '../mappings/salesforce-describe';
import type { SfFieldSpec } from '../mappings/salesforce-fields';

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
   * Fields that come from the source's describe (config/streams.yaml `fields: all | [...] |
   * { all_except }`): each run resolves them against the live describe first and evolves silver
   * (streams/schema-sync.ts); `build` gives the declaration for the resolved field list.
   */
  fromDescribe?: DescribedFields<R>;
  /**
   * Fields all of the built-in list (no describe to start): kept so that a field that becomes
   * unreadable can be left out at run time (streams/listed-schema-sync.ts).
   */
  listedFields?: ListedFields<R>;
  /**
   * Part of the bronze batch ids of a cursor-paged stream: set after a schema change, so the
   * re-read's pages are new batches rather than repeats of the first read's (activities/sync.ts).
   */
  batchSalt?: string;
  /**
   * config/streams.yaml `full_reread`: how often the whole object is read again (streams/full-reread.ts).
   * Set, a record read again at the version silver holds refreshes the row's values (formula fields
   * change without the version moving), with no events.
   */
  fullRereadMs?: number;
}

export interface DescribedFields<R> {
  config: ObjectFieldsConfig;
  build(specs: readonly SfFieldSpec[]): StreamDeclaration<R>;
}

export interface Lookup<R> {
  /** What the mapping asks `related` for, e.g. `contact`. */
  name: string;
  table: SilverTableDef;
  /** Primary key value of the related row, or null when the record names none. */
  key(record: R): string | null;
}

export interface ListedFields<R> {
  object: string;
  cursor: string;
  /** Every field the stream reads when all are readable, with its built-in kind. */
  specs: readonly SfFieldSpec[];
  build(specs: readonly SfFieldSpec[]): StreamDeclaration<R>;
}
