import type { Env } from '../config/env';
import type { IngestSettings } from '../workflows/push-ingest';
import type { TemporalIngestOptions } from './temporal-ingest';

/**
 * Flush cadence for the ingest workflows this webhook starts. It travels in the start input, so a
 * shard already running keeps its own (and hands it on at continue-as-new): the change reaches the
 * workflow only through its input, never its code, so running histories replay as they were.
 */
export function ingestSettings(env: Pick<Env, 'WEBHOOK_INGEST_FLUSH_MAX_AGE_MS' | 'WEBHOOK_INGEST_FLUSH_MAX_EVENTS'>): Partial<IngestSettings> | undefined {
  const settings: Partial<IngestSettings> = {};
  if (env.WEBHOOK_INGEST_FLUSH_MAX_AGE_MS !== undefined) settings.maxAgeMs = env.WEBHOOK_INGEST_FLUSH_MAX_AGE_MS;
  if (env.WEBHOOK_INGEST_FLUSH_MAX_EVENTS !== undefined) settings.maxBatch = env.WEBHOOK_INGEST_FLUSH_MAX_EVENTS;
  return Object.keys(settings).length ? settings : undefined;
}

/**
 * What every push source's TemporalIngest reads from the environment, in one place so that the HTTP
 * server and the Azure Function run the same ingest for Amplitude and Segment alike.
 */
export function ingestOptionsFromEnv(env: Env): Pick<TemporalIngestOptions, 'shards' | 'lingerMs' | 'maxInFlight' | 'timeoutMs' | 'settings' | 'admission'> {
  return {
    shards: env.WEBHOOK_INGEST_SHARDS,
    admission: {
      windowMs: env.WEBHOOK_INGEST_ADMISSION_WINDOW_MS,
      maxSignals: env.WEBHOOK_INGEST_ADMISSION_MAX_SIGNALS,
      maxBytes: env.WEBHOOK_INGEST_ADMISSION_MAX_BYTES,
      maxWaitMs: env.WEBHOOK_INGEST_ADMISSION_WAIT_MS,
    },
    lingerMs: env.WEBHOOK_INGEST_LINGER_MS,
    maxInFlight: env.WEBHOOK_INGEST_MAX_IN_FLIGHT,
    timeoutMs: env.WEBHOOK_INGEST_TIMEOUT_MS,
    settings: ingestSettings(env),
  };
}
