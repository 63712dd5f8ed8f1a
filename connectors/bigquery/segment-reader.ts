import { BigQuery, type Job } from '@google-cloud/bigquery';
import { logger, type Logger } from '../../config/logger';
import { plainApiRow, type ApiField, type ApiRow, type PlainRow } from './api-rows';
import { createBigQueryClient, isLoopbackEndpoint } from './client';
import { mapBigQueryError, type BigQueryErrorContext } from './errors';
import { callIdsSql, countSql, keysetPageSql, pageLimit, tablePath, timestampRangeSql, type KeysetPosition } from './segment-query';
import { parseSegmentRow, type RejectedSegmentRow, type SegmentReadTable, type SegmentRow } from './segment-rows';
import { canonicalTimestamp } from './timestamp';
import { PermanentError } from '../../lib/errors';

export type { KeysetPosition } from './segment-query';

/**
 * Reads Segment's warehouse tables in BigQuery for the backfill: keyset pages of a time window,
 * ordered by (timestamp, id), duplicate ids removed. The durable cursor is the (timestamp, id) of
 * the last row read, never a page token (anonymous result tables expire after about 24 h), so a
 * backfill resumes from its cursor after any pause.
 *
 * By default each page is its own LIMIT query, through jobs.query (or createQueryJob with
 * `queryMethod: 'jobs.insert'`).
 *
 * With `pageSessions: true` a page that starts a window, or a position the reader has no open
 * job for, runs one query job for the rest of the window (createQueryJob) and reads only a page of
 * it (getQueryResults({ maxResults, pageToken, autoPaginate: false })); the job and its page token
 * stay open in this process, so the next page asked from exactly where this one ended is one more
 * getQueryResults call instead of a new query that deduplicates and sorts the whole window again.
 * A token that fails or is older than `maxSessionAgeMs` is dropped and the page is read by a new
 * job from the keyset position: the rows are the same either way, since each job sees the window
 * deduplicated the same way and pages are filled to `limit` rows.
 */
export interface SegmentReaderOptions {
  projectId: string;
  /** An emulator or private endpoint; unset for Google's API. */
  apiEndpoint?: string;
  /** Service-account key file; unset uses GOOGLE_APPLICATION_CREDENTIALS / application-default credentials. */
  keyFilename?: string;
  dataset: string;
  /** Dataset location (e.g. `EU`); unset lets BigQuery infer it. */
  location?: string;
  /**
   * Rows per API response; defaults to the page limit (one call per page, unless BigQuery splits a
   * large answer itself). Each response is turned into plain rows before the next is asked for, so the
   * reader holds one response's cells at a time, not a whole page's.
   */
  maxResultsPerCall?: number;
  queryMethod?: 'jobs.query' | 'jobs.insert';
  /**
   * Delete each query job once its rows are read. The emulator keeps every job's result in memory
   * and re-reads all of them on every request, so it slows down and grows without this; on
   * BigQuery it needs bigquery.jobs.delete and buys nothing. Default: true for a loopback apiEndpoint.
   */
  deleteJobsAfterRead?: boolean;
  /** Send no credentials; default: true when apiEndpoint is a loopback address (an emulator). */
  anonymous?: boolean;
  /**
   * Page through one query job per window position with page tokens (default false). Opt-in: on
   * goccy/bigquery-emulator an open job holds its window's whole result, and the backfill suite slowed
   * from minutes to past its timeouts with sessions on; the saving on real BigQuery is not measured.
   */
  pageSessions?: boolean;
  /** A page token older than this is not used (BigQuery's results live about 24 h); default 6 h. */
  maxSessionAgeMs?: number;
  /** Open jobs kept at once (one per window being read); the oldest is dropped beyond this. Default 4. */
  maxSessions?: number;
  /** A ready client (tests); the connection options above are then ignored. */
  client?: BigQuery;
  log?: Logger;
}

export interface ReadPageRequest {
  table: SegmentReadTable;
  /** Inclusive start of the window (ISO-8601). */
  windowStart: string;
  /** Exclusive end of the window (ISO-8601). */
  windowEnd: string;
  /** The keyset position of the last row already read in this window; unset for the first page. */
  after?: KeysetPosition;
  /** Distinct ids per page (valid and rejected together), 1..100,000. */
  limit: number;
}

export interface SegmentPage {
  /** Valid rows in (timestamp, id) order, one per id. */
  rows: SegmentRow[];
  /** Rows that failed the table's schema, with the reason: for dead letters, never dropped. */
  rejected: RejectedSegmentRow[];
  /** Where the next page starts; unset once the window is exhausted. */
  next?: KeysetPosition;
  /** Position of the last row of this page (valid or rejected); unset for an empty page. */
  last?: KeysetPosition;
  bytesProcessed?: number;
  jobId?: string;
}

export interface WindowCount {
  /** Physical rows in the window, duplicates included. */
  rows: number;
  distinctIds: number;
}

interface QueryResult {
  rows: PlainRow[];
  jobId?: string;
  bytesProcessed?: number;
}

type ResultsResponse =
  | { pageToken?: string; totalBytesProcessed?: string | number; jobReference?: { jobId?: string; location?: string }; schema?: { fields?: ApiField[] } }
  | undefined;
type NextQuery = { pageToken?: string } | null | undefined;

/** An open query job whose unread rows start right after `next`. */
interface PageSession {
  job: Job;
  pageToken: string;
  next: KeysetPosition;
  fields: ApiField[];
  openedAt: number;
}

export class SegmentReader {
  private readonly bq: BigQuery;
  private readonly log: Logger;
  private readonly deleteJobs: boolean;
  /** Open sessions by table and window, oldest first. */
  private readonly sessions = new Map<string, PageSession>();

  constructor(private readonly opts: SegmentReaderOptions) {
    this.bq = opts.client ?? createBigQueryClient(opts);
    this.log = (opts.log ?? logger()).child({ component: 'bigquery-segment-reader' });
    this.deleteJobs = opts.deleteJobsAfterRead ?? isLoopbackEndpoint(opts.apiEndpoint);
  }

  get projectId(): string {
    return this.opts.projectId;
  }

  get dataset(): string {
    return this.opts.dataset;
  }

  async readPage(req: ReadPageRequest): Promise<SegmentPage> {
    const limit = pageLimit(req.limit);
    const path = tablePath(this.opts.projectId, this.opts.dataset, req.table);
    const { start, end } = window(req.windowStart, req.windowEnd);
    const params: Record<string, unknown> = { window_start: BigQuery.timestamp(start), window_end: BigQuery.timestamp(end) };
    if (req.after) {
      params.after_timestamp = BigQuery.timestamp(timestampArg('after.timestamp', req.after.timestamp));
      params.after_id = req.after.id;
    }
    const ctx = this.ctx(req.table, `reading ${req.table} from ${start} to ${end}`);
    const t0 = Date.now();
    const result =
      this.opts.pageSessions !== true
        ? await this.run(keysetPageSql(path, limit, req.after !== undefined), params, limit, ctx)
        : await this.sessionPage(`${path}|${start}|${end}|${limit}`, keysetPageSql(path, null, req.after !== undefined), params, limit, req.after, ctx);

    const page: SegmentPage = { rows: [], rejected: [], bytesProcessed: result.bytesProcessed, jobId: result.jobId };
    for (const row of result.rows) {
      const parsed = parseSegmentRow(req.table, row);
      if (parsed.ok) page.rows.push(parsed.row);
      else page.rejected.push(parsed.rejected);
    }
    const lastRaw = result.rows.at(-1);
    if (lastRaw) {
      // A null id sorts before every id; '' as the cursor id skips it and keeps every real id.
      page.last = { timestamp: String(lastRaw.timestamp), id: typeof lastRaw.id === 'string' ? lastRaw.id : '' };
      if (result.rows.length === limit) page.next = page.last;
    }
    this.log.debug({ table: req.table, start, end, after: req.after, rows: page.rows.length, rejected: page.rejected.length, ms: Date.now() - t0 }, 'segment page read');
    return page;
  }

  /** Rows and distinct ids in a window, for progress and reconciliation. */
  async countRows(req: { table: SegmentReadTable; windowStart: string; windowEnd: string }): Promise<WindowCount> {
    const path = tablePath(this.opts.projectId, this.opts.dataset, req.table);
    const { start, end } = window(req.windowStart, req.windowEnd);
    const ctx = this.ctx(req.table, `counting ${req.table} from ${start} to ${end}`);
    const { rows } = await this.run(countSql(path), { window_start: BigQuery.timestamp(start), window_end: BigQuery.timestamp(end) }, 1, ctx);
    const r = rows[0] ?? {};
    return { rows: Number(r.row_count ?? 0), distinctIds: Number(r.distinct_ids ?? 0) };
  }

  /**
   * Every id of a window with its timestamp and label (a track's event, a page's or screen's name),
   * one row per id: the Segment side of the parity report (tracking/parity-sources.ts).
   */
  async readCallIds(req: { table: string; windowStart: string; windowEnd: string }): Promise<{ id: string; timestamp: string; label: string | null }[]> {
    const path = tablePath(this.opts.projectId, this.opts.dataset, req.table);
    const { start, end } = window(req.windowStart, req.windowEnd);
    const label = req.table === 'tracks' ? 'event' : req.table === 'pages' || req.table === 'screens' ? 'name' : null;
    const ctx = this.ctx(req.table, `reading the ids of ${req.table} from ${start} to ${end}`);
    const { rows } = await this.run(callIdsSql(path, label), { window_start: BigQuery.timestamp(start), window_end: BigQuery.timestamp(end) }, 50_000, ctx);
    return rows.map((r) => ({ id: String(r.id), timestamp: String(r.timestamp), label: typeof r.label === 'string' ? r.label : null }));
  }

  /** First and last event time of a table, where a backfill starts and ends; unset when empty. */
  async timestampRange(table: SegmentReadTable): Promise<{ min: string; max: string; rows: number } | undefined> {
    const path = tablePath(this.opts.projectId, this.opts.dataset, table);
    const { rows } = await this.run(timestampRangeSql(path), {}, 1, this.ctx(table, `finding the time range of ${table}`));
    const r = rows[0] ?? {};
    if (typeof r.min_timestamp !== 'string' || typeof r.max_timestamp !== 'string') return undefined;
    return { min: r.min_timestamp, max: r.max_timestamp, rows: Number(r.row_count ?? 0) };
  }

  async listTables(): Promise<string[]> {
    try {
      const [tables] = await this.bq.dataset(this.opts.dataset).getTables();
      return tables.map((t) => t.id ?? '').filter(Boolean).sort();
    } catch (err) {
      throw mapBigQueryError(err, this.ctx(undefined, 'listing the tables of the Segment dataset'));
    }
  }

  async tableExists(table: string): Promise<boolean> {
    tablePath(this.opts.projectId, this.opts.dataset, table);
    try {
      const [exists] = await this.bq.dataset(this.opts.dataset).table(table).exists();
      return exists;
    } catch (err) {
      throw mapBigQueryError(err, this.ctx(table, `checking that table ${table} exists`));
    }
  }

  private ctx(table: string | undefined, action: string): BigQueryErrorContext {
    return { projectId: this.opts.projectId, dataset: this.opts.dataset, table, apiEndpoint: this.opts.apiEndpoint, action };
  }

  /** Runs one query and reads all of its result, `maxResultsPerCall` rows per request. */
  private async run(query: string, params: Record<string, unknown>, expectedRows: number, ctx: BigQueryErrorContext): Promise<QueryResult> {
    const maxResults = Math.max(1, Math.min(this.opts.maxResultsPerCall ?? expectedRows, expectedRows));
    let job: Job | undefined;
    try {
      const rows: PlainRow[] = [];
      let pageToken: string | undefined;
      let response: ResultsResponse;
      let fetchFirst = false;
      if ((this.opts.queryMethod ?? 'jobs.query') === 'jobs.query') {
        const [first, next, resp] = (await this.bq.query({ query, params, location: this.opts.location, maxResults }, { autoPaginate: false, maxResults, skipParsing: true })) as unknown as [
          ApiRow[],
          NextQuery,
          ResultsResponse,
        ];
        appendPlain(rows, resp?.schema?.fields, first);
        response = resp;
        pageToken = next?.pageToken ?? undefined;
        const ref = resp?.jobReference;
        if (ref?.jobId) job = this.bq.job(ref.jobId, { location: ref.location ?? this.opts.location });
        if (pageToken && !job) throw new Error('jobs.query returned more pages but no job to read them from');
      } else {
        [job] = await this.bq.createQueryJob({ query, params, location: this.opts.location });
        fetchFirst = true;
      }
      while (job && (fetchFirst || pageToken !== undefined)) {
        fetchFirst = false;
        const [page, next, resp] = (await job.getQueryResults({ maxResults, pageToken, autoPaginate: false, skipParsing: true })) as unknown as [ApiRow[], NextQuery, ResultsResponse];
        response ??= resp;
        appendPlain(rows, response?.schema?.fields, page);
        pageToken = next?.pageToken ?? undefined;
      }
      const bytes = response?.totalBytesProcessed;
      return { rows, jobId: job?.id, bytesProcessed: bytes === undefined ? undefined : Number(bytes) };
    } catch (err) {
      throw mapBigQueryError(err, ctx);
    } finally {
      if (job && this.deleteJobs) await this.deleteJob(job);
    }
  }

  /** Sessions still open: their jobs are deleted where the reader deletes jobs. */
  async close(): Promise<void> {
    const open = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of open) if (this.deleteJobs) await this.deleteJob(s.job);
  }

  /** A page from the open job positioned at `after`, or from a new job for the rest of the window. */
  private async sessionPage(key: string, query: string, params: Record<string, unknown>, limit: number, after: KeysetPosition | undefined, ctx: BigQueryErrorContext): Promise<QueryResult> {
    const open = this.sessions.get(key);
    // Taken out while in use: a concurrent reader of the same window starts its own job.
    if (open) this.sessions.delete(key);
    if (open && after && samePosition(open.next, after) && Date.now() - open.openedAt < (this.opts.maxSessionAgeMs ?? 6 * 3_600_000)) {
      try {
        const read = await this.fetchPage(open.job, limit, open.pageToken, open.fields);
        return this.keep(key, open.job, read, limit, open.openedAt, undefined);
      } catch (err) {
        this.log.info({ jobId: open.job.id, err: (err as Error).message }, 'page token no longer usable: a new query from the keyset position');
      }
    }
    if (open && this.deleteJobs) await this.deleteJob(open.job);
    let job: Job | undefined;
    try {
      [job] = await this.bq.createQueryJob({ query, params, location: this.opts.location });
      const read = await this.fetchPage(job, limit, undefined, undefined);
      return this.keep(key, job, read, limit, Date.now(), read.bytes);
    } catch (err) {
      if (job && this.deleteJobs) await this.deleteJob(job);
      throw mapBigQueryError(err, ctx);
    }
  }

  /** Keeps the job open when rows remain after this page, else lets it go. */
  private async keep(key: string, job: Job, read: FetchedPage, limit: number, openedAt: number, bytes: number | undefined): Promise<QueryResult> {
    const { rows } = read;
    const last = rows.at(-1);
    if (read.pageToken !== undefined && rows.length === limit && last) {
      this.sessions.set(key, { job, pageToken: read.pageToken, next: { timestamp: String(last.timestamp), id: typeof last.id === 'string' ? last.id : '' }, fields: read.fields, openedAt });
      for (const [k, s] of this.sessions) {
        if (this.sessions.size <= (this.opts.maxSessions ?? 4)) break;
        this.sessions.delete(k);
        if (this.deleteJobs) await this.deleteJob(s.job);
      }
    } else if (this.deleteJobs) await this.deleteJob(job);
    return { rows, jobId: job.id, bytesProcessed: bytes };
  }

  /** Up to `limit` rows from `pageToken` on; BigQuery may answer fewer per call, so it asks again until full. */
  private async fetchPage(job: Job, limit: number, pageToken: string | undefined, fields: ApiField[] | undefined): Promise<FetchedPage> {
    const rows: PlainRow[] = [];
    let token = pageToken;
    let schema = fields;
    let bytes: number | undefined;
    do {
      const maxResults = Math.max(1, Math.min(this.opts.maxResultsPerCall ?? limit, limit - rows.length));
      const [page, next, resp] = (await job.getQueryResults({ maxResults, pageToken: token, autoPaginate: false, skipParsing: true })) as unknown as [ApiRow[], NextQuery, ResultsResponse];
      schema ??= resp?.schema?.fields ?? undefined;
      appendPlain(rows, schema, page);
      if (bytes === undefined && resp?.totalBytesProcessed !== undefined) bytes = Number(resp.totalBytesProcessed);
      token = next?.pageToken ?? undefined;
    } while (token !== undefined && rows.length < limit);
    return { rows, pageToken: token, fields: schema ?? [], bytes };
  }

  private async deleteJob(job: Job): Promise<void> {
    try {
      await job.delete();
    } catch (err) {
      this.log.warn({ jobId: job.id, err: (err as Error).message }, 'could not delete a finished query job');
    }
  }
}

/** Converts one API response's rows at once, so that its cells can be collected before the next response arrives. */
function appendPlain(rows: PlainRow[], fields: ApiField[] | null | undefined, page: ApiRow[]): void {
  for (const r of page) rows.push(plainApiRow(fields ?? [], r));
}

interface FetchedPage {
  rows: PlainRow[];
  /** Where the job's unread rows start; unset once they are all read. */
  pageToken?: string;
  fields: ApiField[];
  bytes?: number;
}

function samePosition(a: KeysetPosition, b: KeysetPosition): boolean {
  return a.id === b.id && canonicalTimestamp(a.timestamp) === canonicalTimestamp(b.timestamp);
}

function timestampArg(name: string, value: string): string {
  try {
    return canonicalTimestamp(value);
  } catch {
    throw new PermanentError('InvalidRequest', `${name} ${JSON.stringify(value)} is not an ISO-8601 timestamp with a time zone`);
  }
}

function window(windowStart: string, windowEnd: string): { start: string; end: string } {
  const start = timestampArg('windowStart', windowStart);
  const end = timestampArg('windowEnd', windowEnd);
  if (!(start < end)) throw new PermanentError('InvalidRequest', `empty time window: ${windowStart} is not before ${windowEnd}`);
  return { start, end };
}
