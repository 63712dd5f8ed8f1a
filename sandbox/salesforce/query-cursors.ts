import { SalesforceApiError } from './errors';
import { KEY_PREFIX, sfId } from './ids';
import type { QueryResult } from './query-engine';
import type { FieldValue } from './schema';
import { toApiRecord, type SalesforceStore } from './store';

export const MAX_BATCH_SIZE = 2_000;
export const MIN_BATCH_SIZE = 200;
/** Salesforce closes a query cursor after 15 minutes without use. */
const CURSOR_IDLE_MS = 15 * 60_000;
const MAX_OPEN_CURSORS = 200;

export interface RecordAttributes {
  type: string;
  url: string;
}

/** A record in a query answer: `attributes` first, then the selected fields. */
export interface QueryRecord {
  attributes: RecordAttributes;
  [field: string]: FieldValue | RecordAttributes;
}

export interface QueryPage {
  totalSize: number;
  done: boolean;
  nextRecordsUrl?: string;
  records: QueryRecord[];
}

interface Cursor {
  result: QueryResult;
  batchSize: number;
  /** `query` or `queryAll`: the path of the nextRecordsUrl. */
  resource: string;
  lastUsed: number;
}

/**
 * Server-side query cursors: the result is snapshotted when the query runs and served in pages of
 * at most 2,000 records, each pointing to the next by `nextRecordsUrl`
 * (`/services/data/vXX.X/query/01g…-2000`). A page can be fetched again (a retried request) as
 * long as the cursor is open.
 */
export class QueryCursors {
  private readonly cursors = new Map<string, Cursor>();
  private counter = 0;

  constructor(private readonly store: SalesforceStore) {}

  /** `Sforce-Query-Options: batchSize=N`, clamped to 200..2000 as Salesforce does. */
  static batchSizeFrom(header: string | string[] | undefined): number {
    const text = Array.isArray(header) ? header.join(',') : (header ?? '');
    for (const part of text.split(',')) {
      const [key, value] = part.split('=').map((s) => s.trim());
      if (key?.toLowerCase() === 'batchsize' && /^\d+$/.test(value ?? '')) return Math.min(MAX_BATCH_SIZE, Math.max(MIN_BATCH_SIZE, Number(value)));
    }
    return MAX_BATCH_SIZE;
  }

  /** The first page; opens a cursor when there is more. */
  open(result: QueryResult, opts: { version: string; resource: 'query' | 'queryAll'; batchSize: number }): QueryPage {
    this.expire();
    const locator = sfId(KEY_PREFIX.QueryLocator, 1_000_000 + ++this.counter);
    const cursor: Cursor = { result, batchSize: opts.batchSize, resource: opts.resource, lastUsed: this.store.now() };
    if (result.rows.length > opts.batchSize) this.cursors.set(locator, cursor);
    return this.page(cursor, locator, 0, opts.version);
  }

  /** The page at `offset` of an open cursor (`01g…-2000` → locator `01g…`, offset 2000). */
  more(locatorWithOffset: string, version: string): QueryPage {
    this.expire();
    const dash = locatorWithOffset.lastIndexOf('-');
    const locator = dash === -1 ? locatorWithOffset : locatorWithOffset.slice(0, dash);
    const offset = dash === -1 ? 0 : Number(locatorWithOffset.slice(dash + 1));
    const cursor = this.cursors.get(locator);
    if (!cursor || !Number.isInteger(offset) || offset < 0 || offset >= cursor.result.rows.length) {
      throw new SalesforceApiError(400, 'INVALID_QUERY_LOCATOR', 'invalid query locator');
    }
    cursor.lastUsed = this.store.now();
    return this.page(cursor, locator, offset, version);
  }

  get openCount(): number {
    return this.cursors.size;
  }

  private page(cursor: Cursor, locator: string, offset: number, version: string): QueryPage {
    const { plan, rows, totalSize } = cursor.result;
    const end = Math.min(rows.length, offset + cursor.batchSize);
    const ctx = this.store.formulaContext();
    const type = plan.object.name;
    const records = rows.slice(offset, end).map((row): QueryRecord => ({
      attributes: { type, url: `/services/data/v${version}/sobjects/${type}/${row.Id as string}` },
      ...toApiRecord(row, plan.fields, ctx),
    }));
    const done = end >= rows.length;
    // A fully read cursor stays open: Salesforce lets a client re-read until it times out.
    return done ? { totalSize, done, records } : { totalSize, done, nextRecordsUrl: `/services/data/v${version}/${cursor.resource}/${locator}-${end}`, records };
  }

  private expire(): void {
    const now = this.store.now();
    for (const [locator, cursor] of this.cursors) if (now - cursor.lastUsed > CURSOR_IDLE_MS) this.cursors.delete(locator);
    // Oldest first (Map keeps insertion order): the real limit is per user and as blunt.
    while (this.cursors.size >= MAX_OPEN_CURSORS) this.cursors.delete(this.cursors.keys().next().value as string);
  }
}
