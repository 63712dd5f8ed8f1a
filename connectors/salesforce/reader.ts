import { parse as parseCsv } from 'csv-parse/sync';
import type { Connection, HttpRequest, HttpRequestOptions, HttpResponse } from 'jsforce';
import { Transport } from 'jsforce/lib/transport';
import { z } from 'zod';
import type { AppConfig } from '../../config/config';
import type { Logger } from '../../config/logger';
import { PermanentError, TransientError } from '../../lib/errors';
import type { Cursor, ReadMode, ReadOptions, SourcePage, SourceReader, SourceStream } from '../../ports/source-reader';
import { connectSalesforce, credentialsHint, type SalesforceSession } from './auth';
import { errorCodeOf, toSalesforceError } from './errors';
import { comparePositions, countQuery, fullQuery, keysetQuery, queryResource, type KeysetPosition } from './soql';

/**
 * Reads Salesforce objects page by page for the generic sync (streams/pipeline.ts).
 *
 * REST (every incremental run): keyset pages through `queryAll`, so records in the recycle bin
 * arrive with IsDeleted = true and become soft deletes; a stream that does not track deletes
 * (`deletes: false`) reads through `query`, which leaves them out (the same for Bulk jobs). `maxFetch` is set explicitly: jsforce's
 * default (10,000) would cut a result silently. Each run starts `lookbackSeconds` before the stored
 * position, to catch transactions that committed with a SystemModstamp below what was already read;
 * the pipeline skips records already merged at that version, and the cursor never moves back past
 * the stored high-water mark.
 *
 * Bulk API 2.0 (first run of an object above `bulkThreshold`): one query job, read one results page
 * (`Sforce-Locator`) per pipeline page, then REST from the job's snapshot minus the lookback for
 * whatever changed meanwhile. The job id is heartbeated as soon as it exists, so a retried activity
 * polls the same job instead of starting another; locators live in the cursor. Jobs are driven
 * through `conn.request` (create, poll, one results page at a time) rather than `conn.bulk2.query`:
 * the latter downloads every page in one call and keeps the locator private, so a big object could
 * not be paged through the workflow nor resumed after a crash; and, as jsforce 3.10's code reads,
 * it pipes every results page (header row included) into one CSV parser, which mangles multi-page
 * results. Polling backs off from 250 ms to 5 s, well past jsforce's 30 s default poll timeout.
 */

export interface RestCursor {
  ts: string | null;
  id: string | null;
  /** Stored position a lookback window started below: the cursor never ends before it. */
  hw?: { ts: string; id: string | null } | null;
}

export interface BulkCursor {
  bulk: { jobId: string | null; locator: string | null; snapshot: string | null };
}

const positionSchema = z.object({ ts: z.string(), id: z.string().nullable() });
const restCursorSchema = z.object({ ts: z.string().nullable(), id: z.string().nullable(), hw: positionSchema.nullable().optional() });
const bulkCursorSchema = z.object({ bulk: z.object({ jobId: z.string().nullable(), locator: z.string().nullable(), snapshot: z.string().nullable() }) });

const queryResultSchema = z.object({
  totalSize: z.number().int().nonnegative(),
  done: z.boolean(),
  records: z.array(z.record(z.string(), z.unknown())),
});
const jobInfoSchema = z.looseObject({
  id: z.string().min(1),
  state: z.string(),
  createdDate: z.string().optional(),
  errorMessage: z.string().optional(),
});
const bulkProgressSchema = z.object({ stream: z.string(), bulkJobId: z.string().nullable() });

export interface SalesforceReaderOptions {
  config: AppConfig['salesforce'];
  log?: Logger;
  /** REST page size (SOQL LIMIT), at most 2,000 (one Salesforce batch). */
  pageSize?: number;
  /** Records per Bulk API results page (`maxRecords`). */
  bulkPageSize?: number;
  /** First and longest wait between two job status checks; the wait doubles in between. */
  bulkPollMs?: { initial: number; max: number };
  /** Longer than jsforce's 30 s default, shorter than the activity's start-to-close timeout. */
  bulkPollTimeoutMs?: number;
  /** A request with no answer after this is abandoned and the page retried. */
  requestTimeoutMs?: number;
  /** Read the next page while the current one is written (default true). */
  prefetch?: boolean;
  /** Opens the session; tests swap it. */
  connect?: (cfg: AppConfig['salesforce']) => Promise<SalesforceSession>;
}

/** A transport that keeps the last response, to read headers jsforce does not surface (Sforce-Locator). */
class CapturingTransport extends Transport {
  last?: HttpResponse;
  override httpRequest(req: HttpRequest, options?: HttpRequestOptions) {
    const p = super.httpRequest(req, options);
    p.then(
      (res) => {
        this.last = res;
      },
      () => undefined,
    );
    return p;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A page read ahead is used only this fresh: an older one is read again. */
const PREFETCH_TTL_MS = 30_000;
const MAX_PREFETCHED = 8;

export class SalesforceReader implements SourceReader {
  private readonly cfg: AppConfig['salesforce'];
  private readonly pageSize: number;
  private readonly bulkPageSize: number;
  private readonly bulkPoll: { initial: number; max: number };
  private readonly bulkPollTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly connectFn: (cfg: AppConfig['salesforce']) => Promise<SalesforceSession>;
  private session?: Promise<SalesforceSession>;
  private readonly log?: Logger;
  private readonly prefetch: boolean;
  private readonly prefetched = new Map<string, { page: Promise<SourcePage>; at: number }>();

  constructor(opts: SalesforceReaderOptions) {
    this.cfg = opts.config;
    this.log = opts.log?.child({ component: 'salesforce-reader' });
    // One page is one Salesforce batch; never above maxFetch, or jsforce would stop short of it.
    this.pageSize = Math.min(opts.pageSize ?? 2_000, 2_000, this.cfg.maxFetch);
    this.bulkPageSize = opts.bulkPageSize ?? 10_000;
    this.bulkPoll = opts.bulkPollMs ?? { initial: 250, max: 5_000 };
    this.bulkPollTimeoutMs = opts.bulkPollTimeoutMs ?? 10 * 60_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 120_000;
    this.connectFn = opts.connect ?? connectSalesforce;
    this.prefetch = opts.prefetch ?? true;
  }

  async plan(decl: SourceStream, cursor: Cursor, full: boolean): Promise<{ cursor: Cursor; mode: ReadMode }> {
    if (!full && cursor !== null) {
      // A run that died during a Bulk read: carry on with the same job (its results live 7 days).
      if (bulkCursorSchema.safeParse(cursor).success) return { cursor, mode: 'bulk' };
      const rest = this.restCursor(cursor);
      if (rest.ts === null) return { cursor: { ts: null, id: null }, mode: 'rest' };
      const high = rest.hw ?? { ts: rest.ts, id: rest.id };
      const start = new Date(Date.parse(high.ts) - this.cfg.lookbackSeconds * 1000).toISOString();
      return { cursor: { ts: start, id: null, hw: high }, mode: 'rest' };
    }
    // First run (or --full): Bulk pays off only for big objects; Salesforce suggests it above ~2,000 records.
    const total = await this.count(decl);
    if (total > this.cfg.bulkThreshold) {
      this.log?.info({ stream: decl.name, total }, 'initial load through Bulk API 2.0');
      return { cursor: { bulk: { jobId: null, locator: null, snapshot: null } }, mode: 'bulk' };
    }
    return { cursor: { ts: null, id: null }, mode: 'rest' };
  }

  async readPage(decl: SourceStream, cursor: Cursor, mode: ReadMode, opts: ReadOptions): Promise<SourcePage> {
    const key = `${decl.name}|${mode}|${JSON.stringify(cursor)}`;
    const ahead = this.prefetched.get(key);
    this.prefetched.delete(key);
    let page = ahead && Date.now() - ahead.at < PREFETCH_TTL_MS ? await ahead.page.catch(() => undefined) : undefined;
    page ??= await this.fetchPage(decl, cursor, mode, opts);
    if (this.prefetch && !page.done) this.prefetchNext(decl, page);
    return page;
  }

  private fetchPage(decl: SourceStream, cursor: Cursor, mode: ReadMode, opts: ReadOptions): Promise<SourcePage> {
    return mode === 'bulk' ? this.readBulkPage(decl, cursor, opts) : this.readRestPage(decl, cursor);
  }

  /**
   * Starts reading the next page while the pipeline writes this one, so Salesforce's time to
   * answer overlaps ours. Only this process can use it (the next activity usually runs here); a
   * prefetch that fails or goes stale is dropped and the page read again. Its API calls are
   * counted when it is used.
   */
  private prefetchNext(decl: SourceStream, page: SourcePage): void {
    const key = `${decl.name}|${page.nextMode}|${JSON.stringify(page.nextCursor)}`;
    const next = this.fetchPage(decl, page.nextCursor, page.nextMode, { runId: 'prefetch', progress: () => undefined });
    next.catch(() => undefined);
    this.prefetched.set(key, { page: next, at: Date.now() });
    while (this.prefetched.size > MAX_PREFETCHED) this.prefetched.delete(this.prefetched.keys().next().value as string);
  }

  /** Number of records of an object the stream reads (deleted ones included when it tracks deletes). */
  async count(decl: SourceStream): Promise<number> {
    const { conn } = await this.connect();
    return this.call(`counting ${decl.object} records`, async () => {
      const res = queryResultSchema.parse(
        await this.withTimeout(conn.query(countQuery(decl.object), { scanAll: queryResource(decl) === 'queryAll', autoFetch: false, maxFetch: this.cfg.maxFetch }), `counting ${decl.object}`),
      );
      return res.totalSize;
    });
  }

  private restCursor(cursor: Cursor): RestCursor {
    if (cursor === null) return { ts: null, id: null };
    const parsed = restCursorSchema.safeParse(cursor);
    if (!parsed.success) throw new PermanentError('InvalidRequest', `Unreadable Salesforce cursor ${JSON.stringify(cursor)}; run the stream with --full to start over.`);
    return parsed.data;
  }

  private async readRestPage(decl: SourceStream, cursor: Cursor): Promise<SourcePage> {
    const at = this.restCursor(cursor);
    const after: KeysetPosition | null = at.ts === null ? null : { ts: at.ts, id: at.id };
    const soql = keysetQuery({ object: decl.object, fields: decl.fields, cursorField: decl.cursorField, primaryKey: decl.primaryKey, after, limit: this.pageSize });
    const { conn } = await this.connect();
    let apiCalls = 0;
    const result = await this.call(`querying ${decl.object}`, async () => {
      const query = conn.query(soql, { scanAll: queryResource(decl) === 'queryAll', autoFetch: true, maxFetch: this.cfg.maxFetch });
      query.on('fetch', () => apiCalls++);
      return queryResultSchema.parse(await this.withTimeout(query, `querying ${decl.object}`));
    });
    const records = result.records;
    if (records.length > this.pageSize)
      throw new PermanentError('InvalidRequest', `Salesforce returned ${records.length} records for LIMIT ${this.pageSize} on ${decl.object}.`);

    const high = at.hw ?? null;
    let next: RestCursor;
    const last = records.length > 0 ? this.positionOf(decl, records[records.length - 1]) : undefined;
    const done = records.length < this.pageSize;
    if (!last) next = high ? { ts: high.ts, id: high.id } : { ts: at.ts, id: at.id };
    else if (high && comparePositions(last, high) < 0) next = done ? { ts: high.ts, id: high.id } : { ...last, hw: high };
    else next = last;
    return { records, nextCursor: { ...next }, nextMode: 'rest', done, apiCalls, apiUsage: conn.limitInfo.apiUsage };
  }

  /** The keyset position of a record as returned by the query; the query always selects both fields. */
  private positionOf(decl: SourceStream, record: Record<string, unknown>): KeysetPosition {
    const ts = record[decl.cursorField];
    const id = record[decl.primaryKey];
    if (typeof ts !== 'string' || Number.isNaN(Date.parse(ts)) || typeof id !== 'string')
      throw new TransientError(`Salesforce returned a ${decl.object} record without ${decl.cursorField}/${decl.primaryKey}; retrying the page.`);
    return { ts: new Date(Date.parse(ts)).toISOString(), id };
  }

  private async readBulkPage(decl: SourceStream, cursor: Cursor, opts: ReadOptions): Promise<SourcePage> {
    const parsed = bulkCursorSchema.safeParse(cursor);
    if (!parsed.success) throw new PermanentError('InvalidRequest', `Unreadable Bulk cursor ${JSON.stringify(cursor)}; run the stream with --full to start over.`);
    const state = { ...parsed.data.bulk };
    const { conn } = await this.connect();
    const calls = { n: 0 };

    if (state.jobId === null) {
      const resumed = bulkProgressSchema.safeParse(opts.resumeFrom);
      state.jobId = resumed.success && resumed.data.stream === decl.name && resumed.data.bulkJobId ? resumed.data.bulkJobId : await this.createJob(conn, decl, calls);
      opts.progress({ stream: decl.name, bulkJobId: state.jobId });
    }
    let job: z.infer<typeof jobInfoSchema>;
    try {
      job = await this.waitForJob(conn, decl, state.jobId, opts, calls);
    } catch (err) {
      if (!(err instanceof BulkJobFailed)) throw err;
      // The job is gone (deleted, expired) or failed: start a new one rather than retry it forever.
      this.log?.warn({ stream: decl.name, jobId: state.jobId, reason: (err as Error).message }, 'bulk job unusable, starting a new one');
      state.jobId = await this.createJob(conn, decl, calls);
      state.locator = null;
      opts.progress({ stream: decl.name, bulkJobId: state.jobId });
      job = await this.waitForJob(conn, decl, state.jobId, opts, calls).catch((again: unknown) => {
        throw again instanceof BulkJobFailed ? new TransientError(again.message, { cause: again }) : again;
      });
    }
    state.snapshot ??= job.createdDate ? new Date(Date.parse(job.createdDate)).toISOString() : new Date().toISOString();

    const { records, locator } = await this.fetchResults(conn, decl, state.jobId, state.locator, calls);
    if (locator !== null)
      return { records, nextCursor: { bulk: { ...state, locator } }, nextMode: 'bulk', done: false, apiCalls: calls.n, apiUsage: conn.limitInfo.apiUsage };
    // Everything the job saw is read: REST takes over from the snapshot, minus the lookback.
    const from = new Date(Date.parse(state.snapshot) - this.cfg.lookbackSeconds * 1000).toISOString();
    this.log?.info({ stream: decl.name, jobId: state.jobId }, 'bulk load read, continuing with REST');
    return { records, nextCursor: { ts: from, id: null }, nextMode: 'rest', done: false, apiCalls: calls.n, apiUsage: conn.limitInfo.apiUsage };
  }

  private async createJob(conn: Connection, decl: SourceStream, calls: { n: number }): Promise<string> {
    const soql = fullQuery({ object: decl.object, fields: decl.fields, cursorField: decl.cursorField, primaryKey: decl.primaryKey });
    return this.call(`creating a Bulk API query job for ${decl.object}`, async () => {
      calls.n++;
      const body = await this.withTimeout(
        conn.request({ method: 'POST', url: '/jobs/query', body: JSON.stringify({ operation: queryResource(decl), query: soql, columnDelimiter: 'COMMA', lineEnding: 'LF' }), headers: { 'Content-Type': 'application/json' } }),
        `creating a Bulk job for ${decl.object}`,
      );
      return jobInfoSchema.parse(body).id;
    });
  }

  private async waitForJob(conn: Connection, decl: SourceStream, jobId: string, opts: ReadOptions, calls: { n: number }) {
    const started = Date.now();
    let wait = this.bulkPoll.initial;
    for (;;) {
      const info = await this.call(`checking Bulk job ${jobId} (${decl.object})`, async () => {
        calls.n++;
        try {
          return jobInfoSchema.parse(await this.withTimeout(conn.request(`/jobs/query/${encodeURIComponent(jobId)}`), `checking Bulk job ${jobId}`));
        } catch (err) {
          if (errorCodeOf(err) === 'NOT_FOUND') throw new BulkJobFailed(`Bulk job ${jobId} for ${decl.object} no longer exists`);
          throw err;
        }
      });
      opts.progress({ stream: decl.name, bulkJobId: jobId, state: info.state });
      if (info.state === 'JobComplete') return info;
      if (info.state === 'Failed' || info.state === 'Aborted') throw new BulkJobFailed(`Bulk job ${jobId} for ${decl.object} ended ${info.state}${info.errorMessage ? `: ${info.errorMessage}` : ''}`);
      if (Date.now() - started > this.bulkPollTimeoutMs)
        throw new TransientError(`Bulk job ${jobId} for ${decl.object} still ${info.state} after ${Math.round(this.bulkPollTimeoutMs / 1000)} s; the retry keeps polling the same job.`, {
          retryAfterMs: 30_000,
        });
      await sleep(wait);
      wait = Math.min(wait * 2, this.bulkPoll.max);
    }
  }

  private async fetchResults(conn: Connection, decl: SourceStream, jobId: string, locator: string | null, calls: { n: number }) {
    const params = new URLSearchParams({ maxRecords: String(this.bulkPageSize) });
    if (locator) params.set('locator', locator);
    const transport = new CapturingTransport();
    const text = await this.call(`reading Bulk results of ${decl.object}`, async () => {
      calls.n++;
      // Raw text: the CSV is parsed here with the one delimiter the job was created with.
      const body = await this.withTimeout(
        conn.request<string>({ method: 'GET', url: `/jobs/query/${encodeURIComponent(jobId)}/results?${params}`, headers: { Accept: 'text/csv' } }, { transport, responseType: 'text/plain' }),
        `reading Bulk results of ${decl.object}`,
      );
      if (typeof body !== 'string') throw new TransientError(`Bulk results of ${decl.object} were not CSV text; retrying.`);
      return body;
    });
    const headers = transport.last?.headers ?? {};
    const records = text.trim() === '' ? [] : (parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, relax_quotes: false }) as Record<string, string>[]);
    const expected = headers['sforce-numberofrecords'];
    if (expected !== undefined && Number(expected) !== records.length)
      throw new TransientError(`Bulk results page of ${decl.object} had ${records.length} records, Salesforce announced ${expected}; retrying the page.`);
    const next = headers['sforce-locator'];
    return { records, locator: next && next !== 'null' ? next : null };
  }

  private connect(): Promise<SalesforceSession> {
    if (!this.session) {
      const attempt = this.connectFn(this.cfg);
      this.session = attempt;
      // A failed login is not cached: the next activity attempt logs in again.
      attempt.catch(() => {
        if (this.session === attempt) this.session = undefined;
      });
    }
    return this.session.catch((err: unknown) => {
      throw toSalesforceError(err, { doing: 'logging in', credentialsHint: credentialsHint(this.cfg) });
    });
  }

  /** Runs a Salesforce call and turns whatever it throws into a TransientError or PermanentError. */
  private async call<T>(doing: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof BulkJobFailed) throw err;
      if (err instanceof z.ZodError) throw new TransientError(`Unexpected answer from Salesforce while ${doing}: ${z.prettifyError(err)}`, { cause: err });
      const session = this.session ? await this.session.catch(() => undefined) : undefined;
      throw toSalesforceError(err, { doing, credentialsHint: credentialsHint(this.cfg), lastAuthError: session?.lastAuthError() });
    }
  }

  private withTimeout<T>(p: PromiseLike<T>, doing: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      // jsforce's own request timeout is 30 minutes; a hung socket should cost one retry, not half an hour.
      timer = setTimeout(() => reject(new TransientError(`No answer from Salesforce after ${Math.round(this.requestTimeoutMs / 1000)} s while ${doing}.`)), this.requestTimeoutMs);
    });
    return Promise.race([Promise.resolve(p), timeout]).finally(() => clearTimeout(timer));
  }
}

class BulkJobFailed extends Error {
  override name = 'BulkJobFailed';
}
