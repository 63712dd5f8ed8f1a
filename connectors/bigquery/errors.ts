import { PermanentError, TransientError } from '../../lib/errors';

/**
 * Turns what @google-cloud/bigquery throws into errors that say what to fix. The client's errors
 * are ApiErrors (HTTP code, BigQuery reasons), fetch errors (no connection) or google-auth-library
 * errors (no credentials); each gets the environment variable a person must look at.
 */
export interface BigQueryErrorContext {
  projectId: string;
  dataset: string;
  table?: string;
  apiEndpoint?: string;
  /** What the connector was doing, e.g. `reading tracks`. */
  action: string;
}

interface ErrorLike {
  code?: number | string;
  message?: string;
  errors?: { reason?: string; message?: string }[];
  cause?: unknown;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET']);

function networkCode(e: ErrorLike | undefined, depth = 0): string | undefined {
  if (!e || depth > 4) return undefined;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  const m = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/.exec(e.message ?? '');
  if (m) return m[1];
  return networkCode(e.cause as ErrorLike | undefined, depth + 1);
}

function describe(e: ErrorLike): string {
  const reasons = (e.errors ?? []).map((x) => x.message).filter((m): m is string => !!m && m !== e.message);
  return [e.message, ...reasons].filter(Boolean).join('; ');
}

export function mapBigQueryError(err: unknown, ctx: BigQueryErrorContext): Error {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as ErrorLike;
  const detail = describe(e);
  const where = ctx.apiEndpoint ? `the BigQuery API at ${ctx.apiEndpoint}` : 'the BigQuery API';
  const target = `${ctx.projectId}.${ctx.dataset}${ctx.table ? `.${ctx.table}` : ''}`;

  const net = networkCode(e);
  if (net) {
    const fix = ctx.apiEndpoint
      ? `check BIGQUERY_API_ENDPOINT (${ctx.apiEndpoint}); for the sandbox, start it with \`npm run sandbox\``
      : 'check the network and proxy settings of this machine (or set BIGQUERY_API_ENDPOINT for an emulator)';
    return new TransientError(`BigQuery unreachable while ${ctx.action}: cannot connect to ${where} (${net}): ${fix}.`, { cause: err });
  }

  const reasons = new Set((e.errors ?? []).map((x) => x.reason ?? ''));
  const text = detail.toLowerCase();
  const status = typeof e.code === 'number' ? e.code : undefined;

  if (/could not load the default credentials|could not refresh access token|invalid_grant|unable to detect a project id|no such file or directory.*(json|key)|error:.*private key/i.test(detail)) {
    return new PermanentError(
      'AuthError',
      `BigQuery credentials missing or unusable while ${ctx.action}: ${detail}. Set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file (or sign in with \`gcloud auth application-default login\`) for project ${ctx.projectId}.`,
      { cause: err },
    );
  }
  if (status === 401 || reasons.has('authError')) {
    return new PermanentError(
      'AuthError',
      `BigQuery rejected the credentials while ${ctx.action} (${detail}). Set GOOGLE_APPLICATION_CREDENTIALS to a valid service-account key file for project ${ctx.projectId}.`,
      { cause: err },
    );
  }
  if (status === 403 && !reasons.has('rateLimitExceeded') && !reasons.has('quotaExceeded')) {
    return new PermanentError(
      'PermissionError',
      `BigQuery denied access while ${ctx.action} on ${target} (${detail}). The account in GOOGLE_APPLICATION_CREDENTIALS needs roles/bigquery.jobUser on project ${ctx.projectId} and roles/bigquery.dataViewer on dataset ${ctx.dataset}.`,
      { cause: err },
    );
  }

  const notFound = status === 404 || reasons.has('notFound') || /not ?found/.test(text);
  if (notFound) {
    const datasetMissing = /dataset/.test(text) && !(ctx.table && text.includes(ctx.table.toLowerCase()) && /table/.test(text));
    if (datasetMissing)
      return new PermanentError(
        'ConfigError',
        `BigQuery dataset ${ctx.projectId}.${ctx.dataset} not found while ${ctx.action} (${detail}). Set SEGMENT_DATASET to the dataset of your Segment warehouse and BIGQUERY_PROJECT to the project that holds it.`,
        { cause: err },
      );
    if (ctx.table && /table/.test(text))
      return new PermanentError(
        'ConfigError',
        `BigQuery table ${target} not found while ${ctx.action} (${detail}). Remove ${ctx.table} from SEGMENT_TABLES or check SEGMENT_DATASET (${ctx.dataset}) and BIGQUERY_PROJECT (${ctx.projectId}).`,
        { cause: err },
      );
    if (/project/.test(text))
      return new PermanentError('ConfigError', `BigQuery project ${ctx.projectId} not found while ${ctx.action} (${detail}). Check BIGQUERY_PROJECT.`, { cause: err });
    if (/job/.test(text))
      return new TransientError(`BigQuery query job vanished while ${ctx.action} (${detail}); reading the page again starts a new job.`, { cause: err });
  }

  if (status === 429 || (status !== undefined && status >= 500) || reasons.has('rateLimitExceeded') || reasons.has('backendError') || reasons.has('internalError') || reasons.has('quotaExceeded')) {
    return new TransientError(`BigQuery is overloaded or failing while ${ctx.action} (${status ?? ''} ${detail}).`, { cause: err });
  }
  if (status === 400 || reasons.has('invalidQuery') || reasons.has('invalid')) {
    return new PermanentError('InvalidRequest', `BigQuery refused the query while ${ctx.action} on ${target}: ${detail}.`, { cause: err });
  }
  return new TransientError(`BigQuery failed while ${ctx.action} on ${target}: ${detail || 'unknown error'}.`, { cause: err });
}
