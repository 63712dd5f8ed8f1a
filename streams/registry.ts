import path from 'node:path';
import { salesforceDeclarations, type SalesforceStreamOptions } from './salesforce';
import { driftDeclarations } from './drift';
import { loadStreamsFile } from './config/load';
import type { StreamsFile } from './config/schema';
import type { StreamDeclaration } from './types';

/**
 * Every declared stream by name, built from the streams file (config/streams.yaml) and the config
 * that changes it (SALESFORCE_USER_ID_FIELD). `STREAM_DECLARATIONS` is the build of the project's
 * default file, for tools and tests.
 */
export function buildStreamDeclarations(file: StreamsFile, opts: { salesforce?: SalesforceStreamOptions } = {}): ReadonlyMap<string, StreamDeclaration> {
  const all: StreamDeclaration[] = [...(salesforceDeclarations(file.salesforce, opts.salesforce) as unknown as StreamDeclaration[]), ...driftDeclarations(file.drift)];
  return new Map(all.map((d) => [d.name, d]));
}

export const DEFAULT_STREAMS_FILE = path.resolve(__dirname, '../config/streams.yaml');

/** The declarations of the project's default streams file. */
export const STREAM_DECLARATIONS: ReadonlyMap<string, StreamDeclaration> = buildStreamDeclarations(loadStreamsFile(DEFAULT_STREAMS_FILE, { root: path.resolve(__dirname, '..') }));
