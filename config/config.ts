import path from 'node:path';
import fs from 'node:fs';
import dotenv from 'dotenv';
import { parseEnv, durationSeconds, type Env, type ServiceName, type SecretSetting, ConfigError } from './env';
import { SANDBOX } from './sandbox-endpoints';
import type { CodecSettings } from '../lib/codec/data-converter';
import type { KeyVaultReference } from './keyvault/reference';
import type { SecretResolver } from './keyvault/resolver';
import { resolveKeyVaultReferences, unresolvedReferenceProblems } from './keyvault/resolve';

/** The project's root: STREAMS_FILE is relative to it whatever the working directory (tests run in temp dirs). */
const PROJECT_ROOT = path.resolve(__dirname, '..');

export { ConfigError } from './env';
export type { Env, ServiceName, SecretSetting } from './env';

export type WarehouseConfig =
  | {
      kind: 'duckdb';
      path: string;
      /** DuckDB's memory_limit: without it DuckDB lets its buffer pool grow toward 80% of RAM. */
      memoryLimit?: string;
      /** DuckDB's checkpoint_threshold (WAL size that triggers a checkpoint). */
      checkpointThreshold?: string;
      /** DuckDB's threads: fewer than the cores leaves the rest to the processes sharing the machine. */
      threads?: number;
    }
  | {
      kind: 'databricks';
      host: string;
      httpPath: string;
      token?: string;
      clientId?: string;
      clientSecret?: string;
      catalog: string;
      volume: string;
    };

export interface AppConfig {
  env: Env;
  sandboxed: ServiceName[];
  dataDir: string;
  temporal: {
    address: string;
    namespace: string;
    taskQueue: string;
    tls?: { certPath: string; keyPath: string };
    apiKey?: string;
    uiUrl: string;
    /** True when `npm start` should run the local dev server itself. */
    devServer: boolean;
    uiPort: number;
    metricsBind: string;
    /** --max-old-space-size the worker process runs under (workers/heap-cap.ts); 0 leaves V8's default. */
    workerMaxHeapMb: number;
    /** Parallel backfill steps one worker runs at once (workers/worker.ts createBackfillIoWorker). */
    backfillLanesPerWorker: number;
    /** Payload encryption (TEMPORAL_CODEC_KEYS); absent, payloads are stored as they are. */
    codec?: CodecSettings;
  };
  /** The codec server the Web UI calls (client/codec-server.ts). */
  codecServer: { host: string; port: number; token?: string; origins: string[] };
  /** Secret settings that came from Azure Key Vault references (filled by loadConfig), for re-reading rotated secrets. */
  secretReferences: Partial<Record<SecretSetting, KeyVaultReference>>;
  schedules: { syncInterval: string; organizeInterval: string };
  salesforce: {
    loginUrl: string;
    auth: 'client_credentials' | 'jwt' | 'password';
    clientId?: string;
    clientSecret?: string;
    username?: string;
    password?: string;
    securityToken?: string;
    jwtKeyPath?: string;
    apiVersion: string;
    lookbackSeconds: number;
    bulkThreshold: number;
    maxFetch: number;
    apiUsageStopShare: number;
    /** The user-id field in force for the default identity (SALESFORCE_USER_ID_FIELD, or Email). */
    userIdField: string;
    /** SALESFORCE_USER_ID_FIELD when set: replaces the field of every `user_id` identity of the streams file. */
    userIdFieldOverride?: string;
  };
  /** The streams file (STREAMS_FILE), absolute. */
  streams: { file: string };
  drift: { baseUrl: string; token: string; verificationToken?: string };
  amplitude: { apiKey: string; serverUrl: string; minIdLength: number };
  warehouse: WarehouseConfig;
  bigquery: { projectId: string; apiEndpoint?: string; keyFilename?: string; dataset: string; tables: string[] };
  webhook: { host: string; port: number; secret: string; secretHeader: string; bodyLimitBytes: number };
  /** Website tracking: the Segment-compatible collection endpoint and its destinations. */
  segment: {
    /** Write keys the endpoint accepts; empty refuses every call (401). */
    writeKeys: string[];
    /** Browser origins allowed by CORS (`*`: any). */
    corsOrigins: string[];
    /** Dual tracking: calls re-sent to Segment's `${endpoint}/v1/batch` with this write key. */
    forward: { enabled: boolean; endpoint: string; writeKey: string };
    /** Amplitude group type of group calls; unset, they are not sent to Amplitude. */
    amplitudeGroupType?: string;
  };
  alerts: { url?: string; format: 'teams' | 'slack' };
  /** Organize, retention and alert thresholds (issue #9). */
  ops: {
    deadLettersThreshold: number;
    deadLettersWindowSeconds: number;
    backfillStallMinutes: number;
    /** Freshness threshold in seconds per silver table name. */
    freshnessSeconds: Record<string, number>;
    /** Bronze rows older than this are deleted by the retention schedule; undefined keeps everything. */
    bronzeRetentionSeconds?: number;
    retentionInterval: string;
    /** host:port of the worker's own Prometheus metrics (records, runs, checks); the SDK's are on temporal.metricsBind. */
    appMetricsBind: string;
  };
  /** The tracking plan, its violations and the dual-tracking parity report (issue #23). */
  tracking: {
    /** Absolute path of the plan's directory. */
    planDir: string;
    violationsWindowSeconds: number;
    parityDaily: boolean;
    /** 0.02 for 2%. */
    parityTolerance: number;
    paritySettleSeconds: number;
  };
  sandbox: { seed: number; scale: number };
}

const AMPLITUDE_ORIGINS = { us: 'https://api2.amplitude.com', eu: 'https://api.eu.amplitude.com' } as const;

/** The Web UI's origin; a local one under both names a browser may use for it (localhost and 127.0.0.1). */
function uiOrigins(uiUrl: string): string[] {
  const url = new URL(uiUrl);
  if (url.hostname !== 'localhost' && url.hostname !== '127.0.0.1') return [url.origin];
  return ['localhost', '127.0.0.1'].map((host) => `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}`);
}

/** Turns a validated environment into the settings every component reads. */
export function buildConfig(raw: NodeJS.ProcessEnv, cwd = process.cwd()): AppConfig {
  const unresolved = unresolvedReferenceProblems(raw);
  if (unresolved.length > 0) throw new ConfigError(unresolved);
  const { env, sandboxed } = parseEnv(raw);
  const isSandbox = (s: ServiceName) => sandboxed.includes(s);
  const dataDir = path.resolve(cwd, env.DATA_DIR);

  if (env.WEBHOOK_SECRET === undefined && env.NODE_ENV === 'production')
    throw new ConfigError(['WEBHOOK_SECRET: missing (required in production: the shared secret Amplitude sends in the custom header)']);

  const warehouse: WarehouseConfig =
    env.WAREHOUSE === 'databricks'
      ? {
          kind: 'databricks',
          host: env.DATABRICKS_HOST!,
          httpPath: env.DATABRICKS_HTTP_PATH!,
          token: env.DATABRICKS_TOKEN,
          clientId: env.DATABRICKS_CLIENT_ID,
          clientSecret: env.DATABRICKS_CLIENT_SECRET,
          catalog: env.DATABRICKS_CATALOG,
          volume: env.DATABRICKS_VOLUME,
        }
      : { kind: 'duckdb', path: path.resolve(cwd, env.DUCKDB_PATH ?? path.join(env.DATA_DIR, 'warehouse.duckdb')), memoryLimit: env.DUCKDB_MEMORY_LIMIT, checkpointThreshold: env.DUCKDB_CHECKPOINT_THRESHOLD, threads: env.DUCKDB_THREADS };

  return {
    env,
    sandboxed,
    dataDir,
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      tls: env.TEMPORAL_TLS_CERT_PATH ? { certPath: env.TEMPORAL_TLS_CERT_PATH, keyPath: env.TEMPORAL_TLS_KEY_PATH! } : undefined,
      apiKey: env.TEMPORAL_API_KEY,
      uiUrl: env.TEMPORAL_UI_URL ?? `http://localhost:${env.TEMPORAL_UI_PORT}`,
      devServer: env.TEMPORAL_DEV_SERVER && /^(localhost|127\.0\.0\.1):/.test(env.TEMPORAL_ADDRESS),
      uiPort: env.TEMPORAL_UI_PORT,
      metricsBind: env.WORKER_METRICS_BIND,
      workerMaxHeapMb: env.WORKER_MAX_HEAP_MB,
      backfillLanesPerWorker: env.BACKFILL_LANES_PER_WORKER,
      codec: env.TEMPORAL_CODEC_KEYS ? { keys: env.TEMPORAL_CODEC_KEYS, compressAboveBytes: env.TEMPORAL_CODEC_COMPRESS_ABOVE_BYTES } : undefined,
    },
    codecServer: {
      host: env.CODEC_SERVER_HOST,
      port: env.CODEC_SERVER_PORT,
      token: env.CODEC_SERVER_TOKEN,
      origins: env.CODEC_SERVER_ORIGINS ?? uiOrigins(env.TEMPORAL_UI_URL ?? `http://localhost:${env.TEMPORAL_UI_PORT}`),
    },
    secretReferences: {},
    schedules: { syncInterval: env.SYNC_INTERVAL, organizeInterval: env.ORGANIZE_INTERVAL },
    salesforce: isSandbox('salesforce')
      ? {
          loginUrl: SANDBOX.salesforce.url,
          auth: 'client_credentials',
          clientId: SANDBOX.salesforce.clientId,
          clientSecret: SANDBOX.salesforce.clientSecret,
          apiVersion: env.SALESFORCE_API_VERSION,
          lookbackSeconds: env.SALESFORCE_LOOKBACK_SECONDS,
          bulkThreshold: env.SALESFORCE_BULK_THRESHOLD,
          maxFetch: env.SALESFORCE_MAX_FETCH,
          apiUsageStopShare: env.SALESFORCE_API_USAGE_STOP_SHARE,
          userIdField: env.SALESFORCE_USER_ID_FIELD ?? 'Email',
          userIdFieldOverride: env.SALESFORCE_USER_ID_FIELD,
        }
      : {
          loginUrl: env.SALESFORCE_LOGIN_URL!,
          auth: env.SALESFORCE_AUTH ?? 'client_credentials',
          clientId: env.SALESFORCE_CLIENT_ID,
          clientSecret: env.SALESFORCE_CLIENT_SECRET,
          username: env.SALESFORCE_USERNAME,
          password: env.SALESFORCE_PASSWORD,
          securityToken: env.SALESFORCE_SECURITY_TOKEN,
          jwtKeyPath: env.SALESFORCE_JWT_KEY_PATH,
          apiVersion: env.SALESFORCE_API_VERSION,
          lookbackSeconds: env.SALESFORCE_LOOKBACK_SECONDS,
          bulkThreshold: env.SALESFORCE_BULK_THRESHOLD,
          maxFetch: env.SALESFORCE_MAX_FETCH,
          apiUsageStopShare: env.SALESFORCE_API_USAGE_STOP_SHARE,
          userIdField: env.SALESFORCE_USER_ID_FIELD ?? 'Email',
          userIdFieldOverride: env.SALESFORCE_USER_ID_FIELD,
        },
    drift: isSandbox('drift')
      ? { baseUrl: SANDBOX.drift.url, token: SANDBOX.drift.token, verificationToken: SANDBOX.drift.verificationToken }
      : { baseUrl: env.DRIFT_BASE_URL ?? 'https://driftapi.com', token: env.DRIFT_TOKEN!, verificationToken: env.DRIFT_VERIFICATION_TOKEN },
    amplitude: isSandbox('amplitude')
      ? { apiKey: SANDBOX.amplitude.apiKey, serverUrl: SANDBOX.amplitude.url, minIdLength: env.AMPLITUDE_MIN_ID_LENGTH }
      : {
          apiKey: env.AMPLITUDE_API_KEY!,
          serverUrl: env.AMPLITUDE_SERVER_URL ?? AMPLITUDE_ORIGINS[env.AMPLITUDE_ZONE ?? 'us'],
          minIdLength: env.AMPLITUDE_MIN_ID_LENGTH,
        },
    warehouse,
    bigquery: isSandbox('bigquery')
      ? { projectId: SANDBOX.bigquery.projectId, apiEndpoint: SANDBOX.bigquery.url, dataset: env.SEGMENT_DATASET, tables: env.SEGMENT_TABLES }
      : {
          projectId: env.BIGQUERY_PROJECT!,
          apiEndpoint: env.BIGQUERY_API_ENDPOINT,
          keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS,
          dataset: env.SEGMENT_DATASET,
          tables: env.SEGMENT_TABLES,
        },
    webhook: {
      host: env.WEBHOOK_HOST,
      port: env.WEBHOOK_PORT,
      secret: env.WEBHOOK_SECRET ?? SANDBOX.webhookSecret,
      secretHeader: env.WEBHOOK_SECRET_HEADER.toLowerCase(),
      bodyLimitBytes: env.WEBHOOK_BODY_LIMIT_BYTES,
    },
    segment: {
      // Like WEBHOOK_SECRET: outside production the sandbox's key works out of the box.
      writeKeys: env.SEGMENT_WRITE_KEYS ?? (env.NODE_ENV === 'production' ? [] : [SANDBOX.segment.writeKey]),
      corsOrigins: env.SEGMENT_CORS_ORIGINS ?? [],
      forward: isSandbox('segment')
        ? { enabled: env.SEGMENT_FORWARD, endpoint: SANDBOX.segment.url, writeKey: SANDBOX.segment.writeKey }
        : { enabled: env.SEGMENT_FORWARD, endpoint: env.SEGMENT_FORWARD_ENDPOINT ?? 'https://api.segment.io', writeKey: env.SEGMENT_FORWARD_WRITE_KEY ?? '' },
      amplitudeGroupType: env.SEGMENT_AMPLITUDE_GROUP_TYPE,
    },
    alerts: { url: env.ALERT_WEBHOOK_URL, format: env.ALERT_FORMAT },
    ops: {
      deadLettersThreshold: env.ALERT_DEAD_LETTERS_THRESHOLD,
      deadLettersWindowSeconds: durationSeconds(env.ALERT_DEAD_LETTERS_WINDOW),
      backfillStallMinutes: env.ALERT_BACKFILL_STALL_MINUTES,
      freshnessSeconds: env.CHECK_FRESHNESS,
      bronzeRetentionSeconds: env.BRONZE_RETENTION === undefined ? undefined : durationSeconds(env.BRONZE_RETENTION),
      retentionInterval: env.RETENTION_INTERVAL,
      appMetricsBind: env.APP_METRICS_BIND,
    },
    streams: { file: path.resolve(PROJECT_ROOT, env.STREAMS_FILE) },
    tracking: {
      planDir: path.resolve(cwd, env.TRACKING_PLAN_DIR),
      violationsWindowSeconds: durationSeconds(env.TRACKING_VIOLATIONS_WINDOW),
      parityDaily: env.TRACKING_PARITY_DAILY,
      parityTolerance: env.TRACKING_PARITY_TOLERANCE,
      paritySettleSeconds: durationSeconds(env.TRACKING_PARITY_SETTLE),
    },
    sandbox: { seed: env.SANDBOX_SEED, scale: env.SANDBOX_SCALE },
  };
}

function readDotEnv(cwd: string): void {
  const envFile = path.join(cwd, '.env');
  if (fs.existsSync(envFile)) dotenv.config({ path: envFile, override: false, quiet: true });
}

/**
 * Reads `.env` (never overriding real environment variables) and validates everything, without Key
 * Vault: a setting holding a reference is an error. For hosts that resolve references themselves
 * (an Azure Function App); entry points use loadConfig.
 */
export function loadConfigSync(cwd = process.cwd()): AppConfig {
  readDotEnv(cwd);
  return buildConfig(process.env, cwd);
}

/** Reads `.env`, resolves the Key Vault references of secret settings, and validates everything. */
export async function loadConfig(cwd = process.cwd(), opts: { raw?: NodeJS.ProcessEnv; resolver?: SecretResolver } = {}): Promise<AppConfig> {
  if (!opts.raw) readDotEnv(cwd);
  const { env, references } = await resolveKeyVaultReferences(opts.raw ?? process.env, opts.resolver);
  const config = buildConfig(env, cwd);
  config.secretReferences = references;
  return config;
}

/** For entry points: prints one line per problem and exits non-zero instead of a stack trace. */
export async function loadConfigOrExit(cwd = process.cwd()): Promise<AppConfig> {
  try {
    return await loadConfig(cwd);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`novade-sync: invalid configuration (see .env.example):\n`);
      for (const p of err.problems) process.stderr.write(`  ${p}\n`);
      process.exit(2);
    }
    throw err;
  }
}
