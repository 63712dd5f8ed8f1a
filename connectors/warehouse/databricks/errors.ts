import { PermanentError, TransientError, retryAfterMs } from '../../../lib/errors';

/**
 * Turns what @databricks/sql throws into errors that say which setting to fix (DATABRICKS_HOST,
 * DATABRICKS_HTTP_PATH, DATABRICKS_TOKEN or the OAuth pair, DATABRICKS_CATALOG) or that Temporal
 * should retry (throttling, a warehouse starting, a concurrent Delta commit).
 */

export interface DatabricksTarget {
  host: string;
  httpPath: string;
  auth: 'token' | 'oauth';
  catalog: string;
}

interface ErrorShape {
  message?: unknown;
  code?: unknown;
  statusCode?: unknown;
  name?: unknown;
  errorCode?: unknown;
  response?: { headers?: { get?: (name: string) => string | null } };
}

const shape = (err: unknown): ErrorShape => (err !== null && typeof err === 'object' ? (err as ErrorShape) : { message: String(err) });

function credentials(t: DatabricksTarget): string {
  return t.auth === 'token' ? 'DATABRICKS_TOKEN' : 'DATABRICKS_CLIENT_ID / DATABRICKS_CLIENT_SECRET';
}

function firstLine(s: string, max = 300): string {
  const line = s.split('\n')[0];
  return line.length > max ? `${line.slice(0, max)}...` : line;
}

/** Errors of connecting and of HTTP: host, path, credentials, throttling. Undefined when not one. */
function transportError(err: unknown, t: DatabricksTarget): Error | undefined {
  const e = shape(err);
  const message = String(e.message ?? '');
  const code = typeof e.code === 'string' ? e.code : '';
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const opts = { cause: err };

  if (code === 'ENOTFOUND' || /getaddrinfo ENOTFOUND/.test(message))
    return new PermanentError('ConfigError', `DATABRICKS_HOST "${t.host}" does not resolve: set it to the workspace host name alone, e.g. adb-1234567890123456.7.azuredatabricks.net (no https://, no path).`, opts);
  if (code === 'EAI_AGAIN' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || /socket hang up|network timeout/i.test(message))
    return new TransientError(`Cannot reach Databricks at DATABRICKS_HOST "${t.host}" (${code || firstLine(message)}); will retry. If it persists, check the host name and the network path to it.`, opts);
  if (/CERT|certificate|self[- ]signed|SSL|TLS/i.test(code) || /certificate|self[- ]signed/i.test(message))
    return new PermanentError('ConfigError', `TLS to DATABRICKS_HOST "${t.host}" failed (${firstLine(message)}): is this the workspace host, and is a TLS-inspecting proxy in the way?`, opts);

  if (status === 401)
    return new PermanentError('AuthError', `Databricks at ${t.host} rejected ${credentials(t)} (HTTP 401): the ${t.auth === 'token' ? 'personal access token is wrong or expired; create a new one under User settings > Developer > Access tokens' : 'service principal id or secret is wrong; create a new OAuth secret for it'}.`, opts);
  if (status === 403)
    return new PermanentError('AuthError', `Databricks at ${t.host} refused ${credentials(t)} (HTTP 403): the credentials are invalid, or their principal may not use the SQL warehouse DATABRICKS_HTTP_PATH "${t.httpPath}" (grant it CAN USE).`, opts);
  if (status === 404)
    return new PermanentError('ConfigError', `DATABRICKS_HTTP_PATH "${t.httpPath}" was not found on DATABRICKS_HOST "${t.host}" (HTTP 404): copy it from the SQL warehouse's Connection details, e.g. /sql/1.0/warehouses/abc123.`, opts);
  if (status === 429 || status === 503) {
    const wait = retryAfterMs(e.response?.headers?.get?.('retry-after'));
    return new TransientError(`Databricks is throttling or starting the SQL warehouse (HTTP ${status}); will retry.`, { retryAfterMs: wait, cause: err });
  }
  if (status !== undefined && status >= 500) return new TransientError(`Databricks answered HTTP ${status}; will retry.`, opts);

  const name = String(e.name ?? (err as object | null)?.constructor?.name ?? '');
  if (name === 'AuthenticationError' || /invalid_client|unauthorized_client|invalid_grant|OAuth/i.test(message))
    return new PermanentError('AuthError', `OAuth M2M sign-in to ${t.host} failed (${firstLine(message)}): check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (a service principal with an OAuth secret).`, opts);
  return undefined;
}

/** What went wrong running a statement (or connecting, for `sql` undefined). */
export function describeDatabricksError(err: unknown, t: DatabricksTarget, sql?: string): Error {
  if (err instanceof PermanentError || err instanceof TransientError) return err;
  const transport = transportError(err, t);
  if (transport) return transport;

  const e = shape(err);
  const message = String(e.message ?? err);
  const statement = sql ? ` [statement: ${firstLine(sql, 160)}]` : '';
  const opts = { cause: err };
  if (/DELTA_CONCURRENT|Concurrent(Append|DeleteRead|DeleteDelete|Transaction|Write)Exception|MetadataChangedException|ProtocolChangedException/i.test(message))
    return new TransientError(`A concurrent Delta commit conflicted with this statement; will retry.${statement}`, opts);
  if (e.name === 'OperationStateError' && /CANCELED|TIMEOUT|CLOSED/i.test(String(e.errorCode ?? message)))
    return new TransientError(`The statement was ${String(e.errorCode ?? 'interrupted').toLowerCase()} by Databricks; will retry.${statement}`, opts);
  if (/NO_SUCH_CATALOG|CATALOG_NOT_FOUND|Catalog '.*' (was )?not found/i.test(message))
    return new PermanentError('ConfigError', `DATABRICKS_CATALOG "${t.catalog}" does not exist in the workspace (or is not visible to this principal): create it, or set DATABRICKS_CATALOG to an existing catalog.`, opts);
  if (/PERMISSION_DENIED|INSUFFICIENT_PERMISSIONS|does not have .*privilege|User does not have/i.test(message))
    return new PermanentError('PermissionError', `Databricks denied a privilege on catalog "${t.catalog}": ${firstLine(message)}. Grant the principal USE CATALOG, USE SCHEMA, CREATE SCHEMA, CREATE TABLE, MODIFY, SELECT (and READ/WRITE VOLUME for bulk loads).${statement}`, opts);
  if (/PARSE_SYNTAX_ERROR|UNRESOLVED_|TABLE_OR_VIEW_NOT_FOUND|DATATYPE_MISMATCH|CAST_INVALID_INPUT|NOT_NULL_CONSTRAINT|DELTA_NOT_NULL|INVALID_PARAMETER|UNBOUND_SQL_PARAMETER|AnalysisException/i.test(message))
    return new PermanentError('InvalidRequest', `Databricks refused a statement: ${firstLine(message)}${statement}`, opts);
  return new Error(`Databricks statement failed: ${firstLine(message)}${statement}`, opts);
}
