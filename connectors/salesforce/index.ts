export { SalesforceReader, type SalesforceReaderOptions, type RestCursor, type BulkCursor } from './reader';
export { connectSalesforce, credentialsHint, jwtAssertion, jwtAudience, type SalesforceSession, type SalesforceAuthConfig } from './auth';
export { toSalesforceError, errorCodeOf, isUnreadableFieldError, DAILY_LIMIT_RETRY_MS, CONCURRENCY_LIMIT_RETRY_MS } from './errors';
export { keysetQuery, fullQuery, countQuery, queryResource, soqlDateTime, comparePositions, type KeysetPosition } from './soql';
