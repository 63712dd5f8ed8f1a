import { stringify } from 'csv-stringify/sync';
import { SalesforceApiError } from './errors';
import { KEY_PREFIX, sfId } from './ids';
import { runQuery, type QueryResult } from './query-engine';
import { isCompound, type FieldValue } from './schema';
import { INTEGRATION_USER_ID, type SalesforceStore } from './store';
import { toBulkDateTime, toSfDateTime } from './time';

export type BulkJobState = 'UploadComplete' | 'InProgress' | 'JobComplete' | 'Aborted' | 'Failed';

const DELIMITERS: Record<string, string> = { COMMA: ',', TAB: '\t', PIPE: '|', SEMICOLON: ';', CARET: '^', BACKQUOTE: '`' };

interface BulkJob {
  id: string;
  operation: 'query' | 'queryAll';
  object: string;
  createdDate: number;
  /** Wall-clock ms of creation: processing time is real time, not the emulator clock. */
  createdWallMs: number;
  apiVersion: number;
  columnDelimiter: string;
  lineEnding: 'LF' | 'CRLF';
  result: QueryResult;
  aborted: boolean;
  /** A status read has reported InProgress: every client sees each state in order, whatever the load. */
  seenInProgress: boolean;
}

export interface BulkJobInfo {
  id: string;
  operation: string;
  object: string;
  createdById: string;
  createdDate: string;
  systemModstamp: string;
  state: BulkJobState;
  concurrencyMode: 'Parallel';
  contentType: 'CSV';
  apiVersion: number;
  lineEnding: string;
  columnDelimiter: string;
  jobType?: 'V2Query';
  numberRecordsProcessed?: number;
  retries?: number;
  totalProcessingTime?: number;
}

export interface BulkResultsPage {
  csv: string;
  numberOfRecords: number;
  /** Opaque locator of the next page, or the string 'null' after the last one (as Salesforce sends it). */
  locator: string;
}

/**
 * Bulk API 2.0 query jobs. The query runs (and is snapshotted) when the job is created; the job
 * reports UploadComplete on creation, InProgress on the first status poll, then JobComplete on a
 * later poll once `processingMs` of real time has passed (so results need a client that polls). Results are CSV pages: a header row on every page, every value quoted, null as an empty
 * field, datetimes as `…T…Z`; the `Sforce-Locator` header chains the pages.
 */
export class BulkQueryJobs {
  private readonly jobs = new Map<string, BulkJob>();
  private counter = 0;

  constructor(
    private readonly store: SalesforceStore,
    public processingMs: number,
    public defaultPageSize: number,
  ) {}

  create(body: unknown, version: string): BulkJobInfo {
    const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const operation = input.operation;
    if (operation !== 'query' && operation !== 'queryAll') throw new SalesforceApiError(400, 'INVALIDJOB', `Invalid operation: ${String(operation)}; use query or queryAll`);
    if (typeof input.query !== 'string' || input.query.trim() === '') throw new SalesforceApiError(400, 'INVALIDJOB', 'The query is required');
    const delimiterName = input.columnDelimiter === undefined ? 'COMMA' : String(input.columnDelimiter);
    if (!DELIMITERS[delimiterName]) throw new SalesforceApiError(400, 'INVALIDJOB', `Invalid columnDelimiter: ${delimiterName}`);
    const lineEnding = input.lineEnding === undefined ? 'LF' : input.lineEnding;
    if (lineEnding !== 'LF' && lineEnding !== 'CRLF') throw new SalesforceApiError(400, 'INVALIDJOB', `Invalid lineEnding: ${String(lineEnding)}`);
    const result = runQuery(this.store, input.query, { includeDeleted: operation === 'queryAll' });
    if (result.plan.countOnly) throw new SalesforceApiError(400, 'INVALIDJOB', 'Aggregate queries, including COUNT(), are not supported by Bulk API 2.0');
    const compound = result.plan.fields.find(isCompound);
    // Bulk answers CSV: a structured value has no column; components are selected one by one.
    if (compound) throw new SalesforceApiError(400, 'INVALIDJOB', `Selecting compound data not supported in Bulk Query: ${compound.name}; select its components instead`);
    const job: BulkJob = {
      id: sfId(KEY_PREFIX.BulkJob, 1_000_000 + ++this.counter),
      operation,
      object: result.plan.object.name,
      createdDate: this.store.now(),
      createdWallMs: Date.now(),
      apiVersion: Number(version),
      columnDelimiter: delimiterName,
      lineEnding,
      result,
      aborted: false,
      seenInProgress: false,
    };
    this.jobs.set(job.id, job);
    return this.info(job, false);
  }

  /** A status read (what clients poll): the first one reports InProgress, later ones JobComplete once processed. */
  get(id: string): BulkJobInfo {
    const job = this.job(id);
    const info = this.info(job, true);
    if (info.state === 'UploadComplete' || info.state === 'InProgress') job.seenInProgress = true;
    return info.state === 'UploadComplete' ? { ...info, state: 'InProgress' } : info;
  }

  list(): BulkJobInfo[] {
    return [...this.jobs.values()].map((job) => this.info(job, false));
  }

  abort(id: string): BulkJobInfo {
    const job = this.job(id);
    if (this.state(job) === 'JobComplete') throw new SalesforceApiError(400, 'INVALIDJOBSTATE', 'Job is already complete and cannot be aborted');
    job.aborted = true;
    return this.info(job, false);
  }

  delete(id: string): void {
    const job = this.job(id);
    const state = this.state(job);
    if (state === 'UploadComplete' || state === 'InProgress') throw new SalesforceApiError(400, 'INVALIDJOBSTATE', 'Job is still in progress; abort it before deleting it');
    this.jobs.delete(id);
  }

  results(id: string, version: string, opts: { locator?: string; maxRecords?: string }): BulkResultsPage {
    const job = this.job(id);
    if (Number(version) !== job.apiVersion) throw new SalesforceApiError(409, 'API_VERSION_MISMATCH', `Use the API version the job was created with (${job.apiVersion.toFixed(1)}) to get its results`);
    if (this.state(job) !== 'JobComplete') throw new SalesforceApiError(400, 'INVALIDJOBSTATE', `Job ${id} is not complete: results are not available yet`);
    const offset = opts.locator ? Number(Buffer.from(opts.locator, 'base64').toString('utf8')) : 0;
    const rows = job.result.rows;
    if (!Number.isInteger(offset) || offset < 0 || offset > rows.length) throw new SalesforceApiError(400, 'INVALIDLOCATOR', `Invalid locator: ${opts.locator}`);
    const pageSize = opts.maxRecords !== undefined ? Number(opts.maxRecords) : this.defaultPageSize;
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new SalesforceApiError(400, 'INVALIDMAXRECORDS', `Invalid maxRecords: ${opts.maxRecords}`);
    const end = Math.min(rows.length, offset + pageSize);
    const fields = job.result.plan.fields;
    const ctx = this.store.formulaContext();
    const table: string[][] = [fields.map((f) => f.name)];
    for (let i = offset; i < end; i++) {
      const row = rows[i];
      table.push(fields.map((f) => csvValue(f.type, f.formula ? f.formula(row, ctx) : (row[f.name] ?? null))));
    }
    const csv = stringify(table, {
      quoted: true,
      delimiter: DELIMITERS[job.columnDelimiter],
      record_delimiter: job.lineEnding === 'CRLF' ? 'windows' : 'unix',
    });
    const locator = end < rows.length ? Buffer.from(String(end)).toString('base64').replace(/=+$/, '') : 'null';
    return { csv, numberOfRecords: end - offset, locator };
  }

  private job(id: string): BulkJob {
    const job = this.jobs.get(id);
    if (!job) throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    return job;
  }

  private state(job: BulkJob): BulkJobState {
    if (job.aborted) return 'Aborted';
    const elapsed = Date.now() - job.createdWallMs;
    if (elapsed >= this.processingMs && job.seenInProgress) return 'JobComplete';
    return job.seenInProgress ? 'InProgress' : 'UploadComplete';
  }

  private info(job: BulkJob, detailed: boolean): BulkJobInfo {
    const state = this.state(job);
    const base: BulkJobInfo = {
      id: job.id,
      operation: job.operation,
      object: job.object,
      createdById: INTEGRATION_USER_ID,
      createdDate: toSfDateTime(job.createdDate),
      systemModstamp: toSfDateTime(job.createdDate),
      state,
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: job.apiVersion,
      lineEnding: job.lineEnding,
      columnDelimiter: job.columnDelimiter,
    };
    if (!detailed) return base;
    return {
      ...base,
      jobType: 'V2Query',
      numberRecordsProcessed: state === 'JobComplete' ? job.result.rows.length : 0,
      retries: 0,
      totalProcessingTime: state === 'JobComplete' ? this.processingMs : 0,
    };
  }
}

function csvValue(type: string, value: FieldValue): string {
  if (value === null) return '';
  if (type === 'datetime' && typeof value === 'number') return toBulkDateTime(value);
  return String(value);
}
