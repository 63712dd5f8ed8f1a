import { salesforceDeclarations, type SalesforceStreamOptions } from './salesforce';
import { driftDeclarations } from './drift';
import type { StreamDeclaration } from './types';

/**
 * Every declared stream by name. The worker builds it from config (the user-id field changes the
 * Salesforce field lists); `STREAM_DECLARATIONS` is the default build, for tools and tests.
 * Other sources add their declarations here.
 */
export function buildStreamDeclarations(opts: { salesforce: SalesforceStreamOptions }): ReadonlyMap<string, StreamDeclaration> {
  const all: StreamDeclaration[] = [...salesforceDeclarations(opts.salesforce), ...driftDeclarations()];
  return new Map(all.map((d) => [d.name, d]));
}

export const STREAM_DECLARATIONS: ReadonlyMap<string, StreamDeclaration> = buildStreamDeclarations({ salesforce: { userIdField: 'Email' } });
