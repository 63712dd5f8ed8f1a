import type { Client, Connection } from '@temporalio/client';
import { buildConfig } from '../config/config';
import { temporalClient } from '../lib/temporal';
import { bundlerOptionsFor } from '../lib/codec/data-converter';

/**
 * The benches' Temporal client is the platform's: TEMPORAL_CODEC_KEYS in the bench's environment
 * turns payload encryption on for the bench's clients, bundles and the entry points it spawns alike,
 * so its cost can be measured.
 */
export function benchClient(connection: Connection, address: string): Client {
  return temporalClient(connection, benchTemporalConfig(address));
}

export function benchTemporalConfig(address: string) {
  return buildConfig({ TEMPORAL_ADDRESS: address, TEMPORAL_CODEC_KEYS: process.env.TEMPORAL_CODEC_KEYS }, process.cwd()).temporal;
}

/** bundleWorkflowCode options matching the bench worker's data converter. */
export const benchBundlerOptions = () => bundlerOptionsFor(benchTemporalConfig('localhost:7233').codec);
