import fs from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import type { AppConfig } from '../config/config';
import { withClosingRetry } from './grpc-retry';
import { dataConverterFor } from './codec/data-converter';

export interface TemporalClient {
  connection: Connection;
  client: Client;
  close(): Promise<void>;
}

/** Connection options for the local dev server, a self-hosted cluster or Temporal Cloud (mTLS or API key). */
export function connectionOptions(temporal: AppConfig['temporal']) {
  const tls = temporal.tls
    ? { clientCertPair: { crt: fs.readFileSync(temporal.tls.certPath), key: fs.readFileSync(temporal.tls.keyPath) } }
    : temporal.apiKey
      ? true
      : undefined;
  return { address: temporal.address, tls, apiKey: temporal.apiKey, connectTimeout: '5s' as Duration };
}

export class TemporalUnreachableError extends Error {
  constructor(address: string, cause: unknown) {
    super(
      `Temporal is not reachable at ${address}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'Start the platform with `npm start` (it runs the local dev server), or check TEMPORAL_ADDRESS / TLS settings.',
    );
    this.name = 'TemporalUnreachableError';
  }
}

export async function connectTemporal(temporal: AppConfig['temporal']): Promise<TemporalClient> {
  let connection: Connection;
  try {
    connection = await Connection.connect(withClosingRetry(connectionOptions(temporal)));
  } catch (err) {
    throw new TemporalUnreachableError(temporal.address, err);
  }
  return { connection, client: temporalClient(connection, temporal), close: () => connection.close() };
}

/** The platform's client on a connection: its namespace and its data converter (payload encryption when keys are set). */
export function temporalClient(connection: Connection, temporal: AppConfig['temporal']): Client {
  return new Client({ connection, namespace: temporal.namespace, dataConverter: dataConverterFor(temporal.codec) });
}
