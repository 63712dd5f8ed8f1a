/**
 * Salesforce's REST error shape: the body is a JSON array of `{ message, errorCode }` (plus `fields`
 * for record errors). jsforce turns the first element into an Error named after errorCode.
 */
export interface SalesforceErrorBody {
  message: string;
  errorCode: string;
  fields?: string[];
}

export class SalesforceApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: string[],
  ) {
    super(message);
    this.name = errorCode;
  }

  body(): SalesforceErrorBody[] {
    return [{ message: this.message, errorCode: this.errorCode, ...(this.fields ? { fields: this.fields } : {}) }];
  }
}

export const sessionInvalid = () => new SalesforceApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
export const notFound = () => new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
