import { SalesforceApiError } from '../errors';

/**
 * SOQL errors the way Salesforce words them: the query, a caret under the offending column, then
 * `ERROR at Row:1:Column:N` and the reason. Status 400 with MALFORMED_QUERY (syntax), INVALID_TYPE
 * (unknown object), INVALID_FIELD (unknown field, wrong literal type) or
 * INVALID_QUERY_FILTER_OPERATOR.
 */
export function soqlError(errorCode: string, soql: string, pos: number, reason: string): SalesforceApiError {
  // Only the line holding the error is shown, as Salesforce does for multi-line queries.
  const lineStart = soql.lastIndexOf('\n', pos - 1) + 1;
  const lineEndAt = soql.indexOf('\n', pos);
  const line = soql.slice(lineStart, lineEndAt === -1 ? undefined : lineEndAt);
  const row = soql.slice(0, lineStart).split('\n').length;
  const column = pos - lineStart + 1;
  return new SalesforceApiError(400, errorCode, `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${reason}`);
}
