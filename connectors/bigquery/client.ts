import { BigQuery, type BigQueryOptions } from '@google-cloud/bigquery';

/**
 * The @google-cloud/bigquery client as the connectors use it. Against an emulator on this machine
 * it sends no credentials: otherwise google-auth-library first probes the GCE metadata server for
 * them and warns (MetadataLookupWarning) on every new client.
 */
export interface BigQueryClientOptions {
  projectId: string;
  apiEndpoint?: string;
  keyFilename?: string;
  location?: string;
  /** Send no credentials; default: true when apiEndpoint is a loopback address (an emulator). */
  anonymous?: boolean;
}

export function isLoopbackEndpoint(apiEndpoint: string | undefined): boolean {
  if (!apiEndpoint) return false;
  try {
    const host = new URL(apiEndpoint.includes('://') ? apiEndpoint : `http://${apiEndpoint}`).hostname;
    return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** Adds nothing to a request: the emulator accepts anonymous calls. */
const noCredentials = { getRequestHeaders: async () => new Headers() };

export function createBigQueryClient(opts: BigQueryClientOptions): BigQuery {
  const anonymous = opts.anonymous ?? (isLoopbackEndpoint(opts.apiEndpoint) && !opts.keyFilename);
  return new BigQuery({
    projectId: opts.projectId,
    apiEndpoint: opts.apiEndpoint,
    keyFilename: opts.keyFilename,
    location: opts.location,
    // Temporal retries the activity; the client's own retries would only multiply the wait.
    autoRetry: false,
    ...(anonymous ? { authClient: noCredentials as unknown as NonNullable<BigQueryOptions['authClient']> } : {}),
  });
}
