import type { ApiUsage } from './api-usage';
import type { BulkQueryJobs } from './bulk-jobs';
import type { QueryCursors } from './query-cursors';
import type { Sessions } from './sessions';
import type { SalesforceStore } from './store';

export interface SalesforceCredentials {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  securityToken: string;
}

/** What the route modules share. */
export interface EmulatorContext {
  store: SalesforceStore;
  sessions: Sessions;
  usage: ApiUsage;
  cursors: QueryCursors;
  bulk: BulkQueryJobs;
  credentials: SalesforceCredentials;
  /** The emulator's own base URL (instance_url), known once it listens. */
  baseUrl(): string;
}

export const LOWEST_VERSION = 20;
export const HIGHEST_VERSION = 66;

/** `v62.0` → `62.0`; undefined for anything Salesforce would answer 404 to. */
export function apiVersion(param: string): string | undefined {
  if (param.length < 4 || param[0] !== 'v' || !param.endsWith('.0')) return undefined;
  const major = Number(param.slice(1, -2));
  return Number.isInteger(major) && major >= LOWEST_VERSION && major <= HIGHEST_VERSION ? `${major}.0` : undefined;
}
