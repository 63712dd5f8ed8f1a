import { PermanentError, TransientError } from '../../lib/errors';

/**
 * Salesforce failures → what the platform should do about them. jsforce throws errors named after
 * Salesforce's `errorCode` (or `ERROR_HTTP_<status>` when the body was not the usual JSON array),
 * node-fetch `FetchError`s for the network, and plain Errors from its session refresh.
 */

/** The org's rolling 24 h allowance is spent: trying again before a good part of it frees up is waste. */
export const DAILY_LIMIT_RETRY_MS = 60 * 60_000;
/** Too many concurrent long requests in the org: those clear within minutes. */
export const CONCURRENCY_LIMIT_RETRY_MS = 2 * 60_000;

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETDOWN', 'ENETUNREACH', 'EHOSTDOWN', 'EHOSTUNREACH', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);
const TRANSIENT_CODES = new Set(['SERVER_UNAVAILABLE', 'UNKNOWN_EXCEPTION', 'QUERY_TIMEOUT', 'REQUEST_RUNNING_TOO_LONG', 'UNABLE_TO_LOCK_ROW', 'INVALID_QUERY_LOCATOR', 'TXN_SECURITY_METERING_ERROR']);
const PERMISSION_CODES = new Set(['INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS_OR_READONLY', 'API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED', 'FUNCTIONALITY_NOT_ENABLED', 'INVALID_TYPE', 'NOT_FOUND']);
const OAUTH_ERRORS = new Set(['invalid_client', 'invalid_client_id', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_request', 'inactive_user', 'inactive_org']);

interface ErrorLike {
  name?: string;
  message?: string;
  errorCode?: string;
  code?: string;
  cause?: unknown;
}

const asErrorLike = (e: unknown): ErrorLike => (typeof e === 'object' && e !== null ? (e as ErrorLike) : { message: String(e) });

export interface ErrorContext {
  /** What was being done, e.g. `querying Contact`. */
  doing: string;
  /** Names the env vars that hold the credentials of the configured auth flow. */
  credentialsHint: string;
  /** The last error of the connector's own re-authentication, if it failed. */
  lastAuthError?: unknown;
}

/** Salesforce's own code of an error, wherever jsforce or the OAuth endpoint put it. */
export function errorCodeOf(err: unknown): string {
  const e = asErrorLike(err);
  const code = e.errorCode ?? e.name ?? '';
  // jsforce reports a JSON body it could not map as ERROR_HTTP_<status> with the body as message.
  if (code.startsWith('ERROR_HTTP_') && typeof e.message === 'string') {
    const m = /"errorCode"\s*:\s*"([A-Z_]+)"/.exec(e.message);
    if (m) return m[1];
  }
  return code;
}

function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const x = asErrorLike(e);
    if (x.name === 'FetchError' || x.name === 'AbortError' || (x.code && NETWORK_CODES.has(x.code))) return true;
    if (typeof x.message === 'string' && /socket hang up|fetch failed|ECONNRESET|ECONNREFUSED|network timeout|other side closed/i.test(x.message)) return true;
    e = x.cause;
  }
  return false;
}

function loginFailed(detail: string, hint: string, cause: unknown): PermanentError {
  return new PermanentError('AuthError', `Salesforce login failed (${detail}): check ${hint}, and that the connected app allows this flow for the integration user.`, { cause });
}

/** The field named in an INVALID_FIELD message (`No such column 'Foo__c' on entity 'Contact'`). */
function fieldOf(message: string): { field?: string; object?: string } {
  const m = /No such column '([^']+)' on (?:entity|sobject of type) '?([A-Za-z0-9_]+)'?/.exec(message);
  return m ? { field: m[1], object: m[2] } : {};
}

const firstLine = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('^') && !l.startsWith('ERROR at Row'))
    .pop() ?? s;

/**
 * A query refused for a field the integration user cannot read (INVALID_FIELD: deleted, or hidden
 * by field-level security): a stream with a field list may leave the field out and go on.
 */
export function isUnreadableFieldError(err: unknown): boolean {
  return err instanceof PermanentError && err.kind === 'PermissionError' && err.cause !== undefined && errorCodeOf(err.cause) === 'INVALID_FIELD';
}

export function toSalesforceError(err: unknown, ctx: ErrorContext): Error {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  const e = asErrorLike(err);
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = errorCodeOf(err);

  // jsforce's session refresh wraps what went wrong in a plain Error; the connector kept the original.
  if (message.startsWith('Unable to refresh session')) {
    if (ctx.lastAuthError !== undefined && ctx.lastAuthError !== err) return toSalesforceError(ctx.lastAuthError, ctx);
    return loginFailed(message, ctx.credentialsHint, err);
  }
  if (OAUTH_ERRORS.has(code)) return loginFailed(`${code}: ${message}`, ctx.credentialsHint, err);
  if (code === 'INVALID_SESSION_ID' || code === 'INVALID_AUTH_HEADER')
    return loginFailed(`the session was refused after re-authentication: ${message}`, ctx.credentialsHint, err);

  if (code === 'REQUEST_LIMIT_EXCEEDED') {
    const daily = /TotalRequests|total requests|API_REQUESTS/i.test(message) || !/concurrent|ConcurrentPerOrgLongTxn/i.test(message);
    return new TransientError(
      daily
        ? `Salesforce API limit reached while ${ctx.doing}: the org's rolling 24-hour API allowance is used up (${message}). The sync waits and retries; lower SALESFORCE_API_USAGE_STOP_SHARE to stop earlier and leave room for other integrations.`
        : `Salesforce refused ${ctx.doing}: too many concurrent long-running requests in the org (${message}). Retrying in a few minutes.`,
      { retryAfterMs: daily ? DAILY_LIMIT_RETRY_MS : CONCURRENCY_LIMIT_RETRY_MS, cause: err },
    );
  }

  if (code === 'INVALID_FIELD') {
    const { field, object } = fieldOf(message);
    if (field)
      return new PermanentError(
        'PermissionError',
        `Salesforce has no readable field ${object ? `${object}.` : ''}${field} for the integration user while ${ctx.doing}: it is misspelled, missing in this org, or hidden by field-level security. Grant the integration user read access to ${field} (or remove it from the stream's fields / SALESFORCE_USER_ID_FIELD).`,
        { cause: err },
      );
    return new PermanentError('InvalidRequest', `Salesforce rejected the query while ${ctx.doing}: ${firstLine(message)}`, { cause: err });
  }
  if (code === 'MALFORMED_QUERY' || code === 'INVALID_QUERY_FILTER_OPERATOR' || code === 'INVALIDJOB' || code === 'INVALIDLOCATOR' || code === 'INVALIDMAXRECORDS')
    return new PermanentError('InvalidRequest', `Salesforce rejected the request while ${ctx.doing} (${code}): ${firstLine(message)}`, { cause: err });
  if (PERMISSION_CODES.has(code))
    return new PermanentError(
      'PermissionError',
      `Salesforce refused access while ${ctx.doing} (${code}): ${firstLine(message)}. Check that the integration user has API access and read permission on this object.`,
      { cause: err },
    );

  if (isNetworkError(err)) return new TransientError(`Network error talking to Salesforce while ${ctx.doing}: ${message}`, { cause: err });
  const status = /^ERROR_HTTP_(\d{3})$/.exec(code);
  if (TRANSIENT_CODES.has(code) || (status && Number(status[1]) >= 500) || code === 'ERROR_HTTP_429' || code === 'JobPollingTimeoutError')
    return new TransientError(`Salesforce is unavailable while ${ctx.doing} (${code}): ${firstLine(message)}`, { cause: err });
  if (status && Number(status[1]) >= 400)
    return new PermanentError('InvalidRequest', `Salesforce answered HTTP ${status[1]} while ${ctx.doing}: ${firstLine(message).slice(0, 300)}`, { cause: err });
  // Unknown: let Temporal retry a bounded number of times rather than give up on a one-off.
  return new TransientError(`Salesforce error while ${ctx.doing} (${code || 'unknown'}): ${firstLine(message)}`, { cause: err });
}
