import { z } from 'zod';
import { parseCodecKeys, type CodecKey } from '../lib/codec/keys';

/**
 * Every setting of the platform, read from the environment (`.env` is loaded by `loadConfig`).
 * Each SaaS service is either fully configured or entirely absent: absent means "use the sandbox
 * emulator", half-configured is an error, so that a typo never falls back to fake data silently.
 */

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const str = () => z.preprocess(blankToUndefined, z.string().optional());
const secret = str;
const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(blankToUndefined, z.coerce.number({ error: `expected a whole number` }).int('expected a whole number').min(min).max(max).default(def));
/** Unset stays unset (the consumer's own default applies); a value must be a whole number in range. */
const optionalInt = (min: number, max: number) =>
  z.preprocess(blankToUndefined, z.coerce.number({ error: 'expected a whole number' }).int('expected a whole number').min(min, `expected at least ${min}`).max(max).optional());
const num = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(blankToUndefined, z.coerce.number({ error: 'expected a number' }).min(min).max(max).default(def));
const bool = (def: boolean) =>
  z.preprocess(
    (v) => (blankToUndefined(v) === undefined ? undefined : String(v).toLowerCase()),
    z.enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' }).default(def ? 'true' : 'false'),
  ).transform((v) => v === 'true' || v === '1' || v === 'yes');
const url = () =>
  z.preprocess(blankToUndefined, z.url({ error: 'expected an absolute URL such as https://example.com' }).optional());
const hostPort = (def: string) =>
  z.preprocess(
    blankToUndefined,
    z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port, for example localhost:7233').default(def),
  );
/** TEMPORAL_CODEC_KEYS: `id:base64` list; the error never quotes the value (it is key material). */
const codecKeys = z.preprocess(
  blankToUndefined,
  z
    .string()
    .transform((v, ctx): CodecKey[] => {
      try {
        return parseCodecKeys(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
        return z.NEVER;
      }
    })
    .optional(),
);
/** Browser origins (scheme://host[:port]), comma-separated. */
const origins = z.preprocess(
  (v) => (blankToUndefined(v) === undefined ? undefined : String(v).split(',').map((s) => s.trim().replace(/\/+$/, '')).filter(Boolean)),
  z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'expected origins such as http://localhost:8233 (scheme, host and port; no path)')).optional(),
);
const list = (def: string[]) =>
  z.preprocess(
    (v) => (blankToUndefined(v) === undefined ? def : String(v).split(',').map((s) => s.trim()).filter(Boolean)),
    z.array(z.string().regex(/^[A-Za-z0-9_]+$/, 'expected names made of letters, digits and _')).min(1),
  );

/** A comma-separated list of free-form values (write keys, origins); unset stays unset. */
const textList = (what: string, pattern: RegExp, hint: string) =>
  z.preprocess(
    (v) => (blankToUndefined(v) === undefined ? undefined : String(v).split(',').map((s) => s.trim()).filter(Boolean)),
    z.array(z.string().regex(pattern, `each ${what} ${hint}`)).min(1, `expected at least one ${what}`).optional(),
  );
const onOff = (def: 'on' | 'off') =>
  z.preprocess(
    (v) => (blankToUndefined(v) === undefined ? undefined : String(v).trim().toLowerCase()),
    z.enum(['on', 'off', 'true', 'false', '1', '0'], { error: 'expected on or off' }).default(def),
  ).transform((v) => v === 'on' || v === 'true' || v === '1');

const MEMORY = /^(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i;
const MEMORY_UNIT_BYTES: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };
/** `512MB`, `2GiB`... in bytes; undefined when it is not a memory size. */
export function memoryBytes(text: string): number | undefined {
  const m = MEMORY.exec(text.trim());
  return m ? Number(m[1]) * MEMORY_UNIT_BYTES[m[2].toLowerCase()] : undefined;
}
/** A memory size as DuckDB's memory_limit reads it, at least 64MiB (less cannot run a merge). */
const memorySize = (def: string, minMiB = 64) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .default(def)
      .transform((v) => v.trim().replace(/\s+/g, ''))
      .superRefine((v, ctx) => {
        const bytes = memoryBytes(v);
        if (bytes === undefined) ctx.addIssue({ code: 'custom', message: 'expected a memory size such as 512MB or 2GB (KB, MB, GB, TB, KiB, MiB, GiB, TiB)' });
        // DuckDB's MB are 1,000,000 bytes: "64MB" is below 64MiB, so the message names both.
        else if (bytes < minMiB * 2 ** 20)
          ctx.addIssue({ code: 'custom', message: `expected at least ${minMiB}MiB, i.e. ${Math.ceil((minMiB * 2 ** 20) / 1e6)}MB (MB are 1,000,000 bytes, MiB 1,048,576)` });
      }),
  );

const DURATION = /^(\d+)([smhd])$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
/** `90d`, `6h`, `30m` or `45s` in seconds. */
export function durationSeconds(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}
const durationText = (example: string) => z.string().regex(DURATION, `expected a duration such as ${example} (s, m, h or d)`);
const duration = (def: string) => z.preprocess(blankToUndefined, durationText(def).default(def));
const optionalDuration = (example: string) => z.preprocess(blankToUndefined, durationText(example).optional());
/** `table=duration` pairs: per-table freshness thresholds of the organize checks. */
const tableDurations = z.preprocess(
  (v) => (blankToUndefined(v) === undefined ? '' : v),
  z.string().transform((v, ctx) => {
    const out: Record<string, number> = {};
    for (const part of v.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\d+[smhd])$/.exec(part);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `"${part}" is not table=duration; expected e.g. salesforce_contact=6h,salesforce_opportunity=1d` });
        return z.NEVER;
      }
      out[m[1]] = durationSeconds(m[2]);
    }
    return out;
  }),
);

/** Databricks wants the workspace host alone, e.g. adb-1234567890123456.7.azuredatabricks.net. */
const databricksHost = z.preprocess(
  blankToUndefined,
  z
    .string()
    .regex(
      /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/,
      'expected the workspace host name without https:// or a path, for example adb-1234567890123456.7.azuredatabricks.net',
    )
    .optional(),
);

/**
 * Each variable's `.describe()` text is what a user reads in docs/configuration.md, which
 * `npm run docs:config` generates from this schema (a unit test fails when the two disagree).
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('`production` makes WEBHOOK_SECRET required and logs JSON; `test` is for the test suite.'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Lowest level written to the log.'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto').describe('`auto`: readable in a terminal, JSON otherwise (what log collectors want).'),
  DATA_DIR: z.string().default('.data').describe("Local state: the dev server's Temporal database and the DuckDB warehouse. Relative to the working directory."),

  TEMPORAL_ADDRESS: hostPort('localhost:7233').describe('host:port of the Temporal frontend. `localhost:7233` is the dev server `npm start` runs for you; for Temporal Cloud `<namespace>.<account>.tmprl.cloud:7233`.'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default').describe('Temporal namespace of every workflow and schedule (Temporal Cloud: `<namespace>.<account>`).'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('novade-sync').describe('Task queue the worker polls and the CLI, webhook and schedules start workflows on.'),
  TEMPORAL_TLS_CERT_PATH: str().describe('Client certificate (PEM) for mTLS to Temporal Cloud; set with TEMPORAL_TLS_KEY_PATH.'),
  TEMPORAL_TLS_KEY_PATH: str().describe('Private key (PEM) of TEMPORAL_TLS_CERT_PATH.'),
  TEMPORAL_API_KEY: secret().describe('Temporal Cloud API key, instead of mTLS.'),
  TEMPORAL_UI_URL: url().describe('Web UI base URL used in CLI output and alert links; unset: `http://localhost:<TEMPORAL_UI_PORT>`. Set it for Temporal Cloud or a shared UI.'),
  TEMPORAL_DEV_SERVER: bool(true).describe('`false`: `npm start` does not run a local dev server even when TEMPORAL_ADDRESS is local (you run Temporal yourself).'),
  TEMPORAL_UI_PORT: int(8233, 1, 65535).describe("Port of the dev server's Web UI."),
  WORKER_METRICS_BIND: hostPort('0.0.0.0:9464').describe("host:port of the Temporal SDK's Prometheus endpoint in the worker (task latencies, slots, polls, failures)."),
  TEMPORAL_CODEC_KEYS: codecKeys.describe('Payload encryption keys (docs/privacy-and-secrets.md): `id:base64,...` of 32-byte keys; the first encrypts, all decrypt, so keys rotate without breaking running workflows. Unset: payloads stay plain.'),
  TEMPORAL_CODEC_COMPRESS_ABOVE_BYTES: int(1_024, 0, 4 * 1_048_576).describe('Serialised payloads above this many bytes are gzipped before encryption.'),
  CODEC_SERVER_HOST: z.string().default('127.0.0.1').describe('Address of the codec server the Web UI calls to decode payloads (`npx novade codec-server`, or `npm start` when keys are set).'),
  CODEC_SERVER_PORT: int(8888, 0, 65535).describe('Port of the codec server.'),
  CODEC_SERVER_TOKEN: secret().describe('Bearer token callers may present (CLI: `temporal --codec-auth "Bearer <token>"`); required when the codec server listens beyond loopback.'),
  CODEC_SERVER_ORIGINS: origins.describe("Browser origins allowed to call the codec server (default: the Web UI's, TEMPORAL_UI_URL or http://localhost:TEMPORAL_UI_PORT)."),
  KEY_VAULT_CA_CERT_PATH: str().describe("Extra CA certificate (PEM) trusted for Key Vault: the sandbox emulator's, or a TLS-inspecting proxy's."),
  KEY_VAULT_DNS_SUFFIX: z.string().regex(/^[A-Za-z0-9.-]+(:\d{1,5})?$/, 'expected a DNS suffix such as vault.azure.net').default('vault.azure.net').describe('DNS suffix of vaults named by `VaultName=...` references (vault.azure.cn, vault.usgovcloudapi.net in other clouds).'),
  WORKER_MAX_HEAP_MB: int(256, 0, 65_536).refine((v) => v === 0 || v >= 128, 'expected 0 (no cap) or at least 128').describe("V8 heap cap of `npm run worker` in MiB: the worker restarts itself under `--max-old-space-size` (a cap already in NODE_OPTIONS wins). 0: V8's default, which lets page garbage pile up. 192 suits a long backfill."),
  BACKFILL_LANES_PER_WORKER: int(2, 1, 64).describe('Steps of parallel backfills (`backfill start --parallel`) one worker process runs at once. Each holds a page (about 40-60 MiB of heap at 5,000 rows): with more than 2, raise WORKER_MAX_HEAP_MB (4 lanes ran in 512). Lanes beyond what the workers take wait for a free slot.'),

  SYNC_INTERVAL: z.string().regex(/^\d+[smh]$/, 'expected a duration such as 5m, 30s or 1h').default('5m').describe('How often the `salesforce-sync` and `drift-sync` schedules run (`30s`, `5m`, `1h`).'),
  ORGANIZE_INTERVAL: z.string().regex(/^\d+[smh]$/, 'expected a duration such as 1h').default('1h').describe('How often the `organize` schedule runs (catch-up, checks, dead-letter and backfill watch, compaction).'),

  SALESFORCE_LOGIN_URL: url().describe('My Domain URL of the org, e.g. https://novade.my.salesforce.com. Setting any SALESFORCE_* credential means real Salesforce (no sandbox).'),
  SALESFORCE_AUTH: z.enum(['client_credentials', 'jwt', 'password']).optional().describe('OAuth flow: `client_credentials` (recommended; needs CLIENT_ID and CLIENT_SECRET), `jwt` (CLIENT_ID, USERNAME, JWT_KEY_PATH) or `password` (USERNAME, PASSWORD; blocked by default in recent orgs). Unset: client_credentials.'),
  SALESFORCE_CLIENT_ID: str().describe('Consumer key of the connected app.'),
  SALESFORCE_CLIENT_SECRET: secret().describe('Consumer secret of the connected app (client_credentials flow).'),
  SALESFORCE_USERNAME: str().describe('Integration user (jwt and password flows).'),
  SALESFORCE_PASSWORD: secret().describe("Integration user's password (password flow only)."),
  SALESFORCE_SECURITY_TOKEN: secret().describe('Security token appended to the password (password flow, when the org requires it).'),
  SALESFORCE_JWT_KEY_PATH: str().describe('Private key (PEM) whose certificate is uploaded to the connected app (jwt flow).'),
  SALESFORCE_API_VERSION: z.string().regex(/^\d{2}\.0$/, 'expected an API version such as 62.0').default('62.0').describe('REST API version used by every call.'),
  SALESFORCE_LOOKBACK_SECONDS: int(600, 0, 86_400).describe('Each run re-reads this many seconds before the cursor, for transactions committed late (re-reads are idempotent).'),
  SALESFORCE_BULK_THRESHOLD: int(10_000, 0).describe('An object with more records than this to read uses Bulk API 2.0 instead of REST queries.'),
  SALESFORCE_MAX_FETCH: int(1_000_000, 2_000).describe("jsforce's maxFetch: the most records one query may return (its own default, 10,000, truncates silently)."),
  SALESFORCE_API_USAGE_STOP_SHARE: num(0.8, 0.05, 1).describe("Share of the org's daily API calls (0.05-1) past which runs stop early and the `api_usage` alert is raised."),
  SALESFORCE_USER_ID_FIELD: z
    .preprocess(blankToUndefined, z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a Salesforce field API name, such as Email or Novade_User_Id__c').optional())
    .describe(
      "Field whose value becomes Amplitude's user_id (shared with Drift and Segment identities; email fields are lower-cased). Set: replaces the field of every `user_id` identity of the streams file; unset: the file's (Email in the default file).",
    ),
  STREAMS_FILE: z
    .string()
    .min(1)
    .default('config/streams.yaml')
    .describe('The streams file ([streams.md](streams.md)): Salesforce objects, fields and event rules, Drift streams and event names; relative to the project root. An invalid file stops the worker with one line per problem.'),

  DRIFT_TOKEN: secret().describe('OAuth access token of the Drift app (scopes contact_read, conversation_read, user_read). Unset: the Drift emulator.'),
  DRIFT_BASE_URL: url().describe('Drift API origin; unset: https://driftapi.com.'),
  DRIFT_VERIFICATION_TOKEN: secret().describe("Verification token of the Drift app's webhooks; `POST /drift` refuses requests without it."),

  AMPLITUDE_API_KEY: secret().describe('API key of the Amplitude project (Settings > Projects). Unset: the Amplitude emulator.'),
  AMPLITUDE_ZONE: z.preprocess(blankToUndefined, z.enum(['us', 'eu'], { error: 'expected us or eu' }).optional()).describe('Data residency of the project: `us` (api2.amplitude.com) or `eu` (api.eu.amplitude.com).'),
  AMPLITUDE_SERVER_URL: url().describe('Overrides the API origin (a proxy, an emulator); unset: derived from AMPLITUDE_ZONE.'),
  AMPLITUDE_MIN_ID_LENGTH: int(5, 1, 64).describe("Amplitude's min_id_length: a user_id or device_id shorter than this is refused (the event goes to dead letters)."),

  WAREHOUSE: z.enum(['duckdb', 'databricks'], { error: 'expected duckdb or databricks' }).default('duckdb').describe('`duckdb`: one embedded file, for a laptop or one server. `databricks`: Unity Catalog tables on a SQL warehouse, for production.'),
  DUCKDB_PATH: str().describe('DuckDB file; unset: `<DATA_DIR>/warehouse.duckdb`. Only the worker opens it.'),
  DUCKDB_MEMORY_LIMIT: memorySize('256MB').describe("Cap of DuckDB's buffer pool in the worker (KB...TB are powers of 1,000 as DuckDB reads them, KiB...TiB powers of 1,024; at least 64MiB). Beyond it DuckDB spills to disk; 64MiB suits a long backfill."),
  DUCKDB_CHECKPOINT_THRESHOLD: memorySize('128MB', 1).describe('WAL size that triggers a DuckDB checkpoint: larger is faster for bulk loads, smaller needs less memory per checkpoint.'),
  DUCKDB_THREADS: optionalInt(1, 1024).describe("DuckDB's worker threads; unset: one per core. Fewer keeps a checkpoint or a large merge from taking every core of a shared host."),
  DATABRICKS_HOST: databricksHost.describe('Workspace host without https://, e.g. adb-1234567890123456.7.azuredatabricks.net (required with WAREHOUSE=databricks).'),
  DATABRICKS_HTTP_PATH: z.preprocess(
    blankToUndefined,
    z.string().regex(/^\/sql\//, 'expected the SQL warehouse HTTP path, for example /sql/1.0/warehouses/abc123').optional(),
  ).describe('HTTP path of the SQL warehouse (its Connection details), e.g. /sql/1.0/warehouses/abc123.'),
  DATABRICKS_TOKEN: secret().describe('Personal access token; or set DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET instead.'),
  DATABRICKS_CLIENT_ID: str().describe("Service principal's application id (OAuth M2M), with DATABRICKS_CLIENT_SECRET."),
  DATABRICKS_CLIENT_SECRET: secret().describe("Service principal's OAuth secret."),
  DATABRICKS_CATALOG: z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a Unity Catalog name').default('novade').describe('Unity Catalog catalog holding the bronze, silver and ops schemas (the principal needs USE CATALOG, CREATE SCHEMA and USE SCHEMA on it, CREATE TABLE and MODIFY on its schemas).'),
  DATABRICKS_VOLUME: z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a volume name').default('staging').describe('Volume for staged bulk loads (COPY INTO); the principal needs READ VOLUME and WRITE VOLUME.'),

  BIGQUERY_PROJECT: str().describe('Google Cloud project that holds the Segment dataset. Unset: the BigQuery emulator.'),
  BIGQUERY_API_ENDPOINT: url().describe("BigQuery API origin (an emulator or a proxy); unset: Google's."),
  GOOGLE_APPLICATION_CREDENTIALS: str().describe("Service account key file (JSON) with BigQuery Data Viewer and Job User; unset: the machine's default credentials."),
  SEGMENT_DATASET: z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a BigQuery dataset name').default('segment').describe("BigQuery dataset of Segment's warehouse tables."),
  SEGMENT_TABLES: list(['tracks', 'identifies', 'pages']).describe('Segment tables a backfill reads by default (comma-separated); `backfill start --tables` overrides it.'),

  WEBHOOK_PORT: int(8080, 1, 65535).describe('Port of the webhook HTTP server (`POST /amplitude`, `POST /drift`, `/healthz`, `/readyz`, `/metrics`).'),
  WEBHOOK_HOST: z.string().default('0.0.0.0').describe('Address the webhook server listens on.'),
  WEBHOOK_SECRET: secret().describe("Shared secret Amplitude sends in the WEBHOOK_SECRET_HEADER header (required in production). Unset outside production: the sandbox's secret."),
  WEBHOOK_SECRET_HEADER: z.string().regex(/^[A-Za-z0-9-]+$/).default('x-novade-webhook-secret').describe('Name of the custom header carrying WEBHOOK_SECRET (configure the same in Amplitude).'),
  WEBHOOK_BODY_LIMIT_BYTES: int(1_048_576, 1_024, 64 * 1_048_576).describe('Largest request body; a larger one is answered 413.'),
  WEBHOOK_INGEST_SHARDS: int(4, 1, 64).describe('Ingest workflows the events are spread over (`amplitude-ingest-<n>`).'),
  WEBHOOK_INGEST_LINGER_MS: int(20, 0, 1_000).describe('Under load, how far apart signals to Temporal leave (requests arriving meanwhile share the next one); an idle webhook sends at once. 0: no pacing.'),
  WEBHOOK_INGEST_MAX_IN_FLIGHT: int(1, 1, 16).describe('Signals in flight per ingest workflow.'),
  WEBHOOK_INGEST_TIMEOUT_MS: int(5_000, 100, 60_000).describe('How long Temporal may take to accept events before the webhook answers 503 (Amplitude then retries).'),
  WEBHOOK_INGEST_FLUSH_MAX_AGE_MS: optionalInt(50, 60_000).describe('Ingest workflows flush to the warehouse at least this often; unset: 2,000 ms. Goes to the workflows the webhook starts: a running one keeps its own.'),
  WEBHOOK_INGEST_FLUSH_MAX_EVENTS: optionalInt(1, 10_000).describe('Ingest workflows flush once they hold this many events; unset: 1,000.'),
  WEBHOOK_EVENT_MAX_DEPTH: int(64, 2, 256).describe('Deepest nesting of one pushed event (Amplitude, Drift, Segment; the event itself is level 1). An event over it is answered 400 naming this setting and recorded in ops.dead_letters; at most 256, far below where JSON encoding breaks.'),
  WEBHOOK_EVENT_MAX_BYTES: int(512 * 1_024, 1_024, 1_500_000).describe('Largest pushed event, in bytes as JSON (400 and a dead letter above it; Temporal payloads must stay under 2 MB).'),
  WEBHOOK_EVENT_MAX_PROPERTIES: int(10_000, 10, 1_000_000).describe('Most object keys plus array items, at every level, in one pushed event (400 and a dead letter above it).'),

  SEGMENT_WRITE_KEYS: textList('write key', /^[A-Za-z0-9._~-]+$/, 'is letters, digits and . _ ~ - (a Segment write key such as 9xUk3...)').describe("Write keys the Segment-compatible endpoint (`/v1/*`) accepts: the site's analytics.js key and any server keys, comma-separated. Empty: every call is refused with 401."),
  SEGMENT_CORS_ORIGINS: textList('origin', /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?)$/, 'is * or a scheme and host such as https://www.novade.com').describe('Browser origins allowed to send calls to `/v1/*` (CORS), comma-separated, or `*`.'),
  SEGMENT_FORWARD: onOff('off').describe('Dual tracking: `on` re-sends every collected call unchanged to Segment (same messageId), so Segment and its warehouse keep receiving everything; `off` ends dual tracking without touching the site.'),
  SEGMENT_FORWARD_WRITE_KEY: secret().describe('Write key of the Segment source the forward sends to (required with SEGMENT_FORWARD=on outside the sandbox).'),
  SEGMENT_FORWARD_ENDPOINT: url().describe('Segment tracking API the forward sends to: https://api.segment.io, or https://events.eu1.segmentapis.com for an EU workspace. Unset in sandbox mode: the Segment emulator.'),
  SEGMENT_AMPLITUDE_GROUP_TYPE: z.preprocess(blankToUndefined, z.string().regex(/^[^\s].{0,99}$/, 'expected a group type name such as company').optional()).describe("Amplitude group type a Segment group call sets (needs Amplitude's Accounts add-on). Unset: group calls are kept in the warehouse and dead-lettered for Amplitude with that reason."),

  ALERT_WEBHOOK_URL: url().describe('Incoming webhook of a Teams channel (Workflows: post to a channel when a webhook request is received) or of Slack. Unset: alerts are written to the log at error level.'),
  ALERT_FORMAT: z.enum(['teams', 'slack']).default('teams').describe('Message format for ALERT_WEBHOOK_URL: a Teams Adaptive Card or Slack Block Kit.'),
  ALERT_DEAD_LETTERS_THRESHOLD: int(100, 0).describe('Alert when a flow records more dead letters than this within ALERT_DEAD_LETTERS_WINDOW.'),
  ALERT_DEAD_LETTERS_WINDOW: duration('24h').describe('Window of the dead-letter alert (`30m`, `24h`, `7d`).'),
  ALERT_BACKFILL_STALL_MINUTES: int(30, 1, 7 * 24 * 60).describe('Alert when a running Segment backfill has not read a row for this many minutes (checked at each organize run).'),
  CHECK_FRESHNESS: tableDurations.describe('Freshness thresholds of the organize checks, `table=duration` pairs, e.g. `salesforce_contact=6h,salesforce_opportunity=1d`. A table not listed is never stale.'),
  BRONZE_RETENTION: optionalDuration('90d').describe('Bronze rows ingested longer ago than this are deleted by the `retention` schedule (e.g. `90d`). Unset: keep everything. Silver and ops tables are never touched.'),
  RETENTION_INTERVAL: duration('24h').describe('How often the `retention` schedule runs.'),
  APP_METRICS_BIND: hostPort('0.0.0.0:9465').describe("host:port of the platform's Prometheus endpoint in the worker (records, runs, cursor lag, checks, dead letters, alerts)."),

  TRACKING_PLAN_DIR: z.string().min(1).default('tracking-plan').describe("The tracking plan's directory, relative to the project root ([tracking-plan.md](tracking-plan.md)); website calls are checked against it. Absent: no checks."),
  TRACKING_VIOLATIONS_WINDOW: duration('24h').describe('An alerted (event, violation type) recovers once none was seen within this window.'),
  TRACKING_PARITY_DAILY: bool(false).describe("`true`: organize checks each day's parity once (Segment's warehouse vs novade-sync vs Amplitude), alerting once out of tolerance and once back. Turn on during dual tracking."),
  TRACKING_PARITY_TOLERANCE: z
    .preprocess(
      blankToUndefined,
      z
        .string()
        .regex(/^\d+(?:\.\d+)?%$/, 'expected a percentage such as 2% or 0.5%')
        .default('2%')
        .transform((v) => Number(v.slice(0, -1)) / 100),
    )
    .describe("Largest difference between the sides, as a share of Segment's count, still in tolerance (`2%`)."),
  TRACKING_PARITY_SETTLE: duration('6h').describe('How long after a day ends its parity is checked: Segment loads its warehouse hours late.'),

  SANDBOX: z.enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' }).default('auto').describe('`auto`: emulators for the services with no credentials set; `on`: emulators for everything; `off`: never (a service without credentials is an error).'),
  SANDBOX_SEED: int(42).describe('Seed of the generated sandbox data (same seed, same data).'),
  SANDBOX_SCALE: num(1, 0.0001, 100).describe('Size of the sandbox data (1: 37,000 contacts, 20,000 leads, 8,000 opportunities).'),
});

export type Env = z.infer<typeof envSchema>;

/**
 * Settings that may hold an Azure Key Vault reference (`@Microsoft.KeyVault(...)`), resolved at start
 * (config/keyvault). Every credential of the platform is one of them.
 */
export const SECRET_SETTINGS = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_CODEC_KEYS',
  'CODEC_SERVER_TOKEN',
  'SALESFORCE_CLIENT_SECRET',
  'SALESFORCE_PASSWORD',
  'SALESFORCE_SECURITY_TOKEN',
  'DRIFT_TOKEN',
  'DRIFT_VERIFICATION_TOKEN',
  'AMPLITUDE_API_KEY',
  'DATABRICKS_TOKEN',
  'DATABRICKS_CLIENT_SECRET',
  'WEBHOOK_SECRET',
  'SEGMENT_FORWARD_WRITE_KEY',
] as const satisfies readonly (keyof Env)[];
export type SecretSetting = (typeof SECRET_SETTINGS)[number];

/** One line per problem: `NAME: what is wrong (how to fix)`. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type ServiceRule = {
  service: string;
  /** A service only some settings use (Segment forward): when this is false it is neither real nor sandboxed. */
  applies?: (env: Env) => boolean;
  /** Any of these set means the service is meant to be real. */
  vars: (keyof Env)[];
  /** Returns the problems of a service that is meant to be real. */
  check: (env: Env) => string[];
};

const need = (env: Env, names: (keyof Env)[], why: string) =>
  names.filter((n) => env[n] === undefined).map((n) => `${n}: missing (${why})`);

const serviceRules: ServiceRule[] = [
  {
    service: 'salesforce',
    vars: ['SALESFORCE_LOGIN_URL', 'SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET', 'SALESFORCE_USERNAME', 'SALESFORCE_PASSWORD', 'SALESFORCE_JWT_KEY_PATH'],
    check: (env) => {
      const auth = env.SALESFORCE_AUTH ?? 'client_credentials';
      const base = need(env, ['SALESFORCE_LOGIN_URL'], 'the My Domain URL, for example https://novade.my.salesforce.com');
      if (auth === 'client_credentials')
        return [...base, ...need(env, ['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET'], 'the connected app used by the client credentials flow')];
      if (auth === 'jwt')
        return [...base, ...need(env, ['SALESFORCE_CLIENT_ID', 'SALESFORCE_USERNAME', 'SALESFORCE_JWT_KEY_PATH'], 'JWT bearer flow: connected app, integration user and its private key')];
      return [...base, ...need(env, ['SALESFORCE_USERNAME', 'SALESFORCE_PASSWORD'], 'username-password flow; prefer SALESFORCE_AUTH=client_credentials')];
    },
  },
  {
    service: 'drift',
    vars: ['DRIFT_TOKEN', 'DRIFT_BASE_URL', 'DRIFT_VERIFICATION_TOKEN'],
    check: (env) => need(env, ['DRIFT_TOKEN'], 'the OAuth access token of the Drift app'),
  },
  {
    service: 'amplitude',
    vars: ['AMPLITUDE_API_KEY', 'AMPLITUDE_ZONE', 'AMPLITUDE_SERVER_URL'],
    check: (env) => need(env, ['AMPLITUDE_API_KEY'], 'the API key of the Amplitude project, under Settings > Projects'),
  },
  {
    service: 'segment',
    applies: (env) => env.SEGMENT_FORWARD,
    vars: ['SEGMENT_FORWARD_WRITE_KEY', 'SEGMENT_FORWARD_ENDPOINT'],
    check: (env) => need(env, ['SEGMENT_FORWARD_WRITE_KEY'], 'the write key of the Segment source the forwarded calls go to (SEGMENT_FORWARD=on)'),
  },
  {
    service: 'bigquery',
    vars: ['BIGQUERY_PROJECT', 'BIGQUERY_API_ENDPOINT', 'GOOGLE_APPLICATION_CREDENTIALS'],
    check: (env) => need(env, ['BIGQUERY_PROJECT'], 'the Google Cloud project that holds the Segment dataset'),
  },
];

function databricksProblems(env: Env): string[] {
  if (env.WAREHOUSE !== 'databricks') return [];
  const problems = need(env, ['DATABRICKS_HOST', 'DATABRICKS_HTTP_PATH'], 'required when WAREHOUSE=databricks');
  const hasPat = env.DATABRICKS_TOKEN !== undefined;
  const hasOauth = env.DATABRICKS_CLIENT_ID !== undefined || env.DATABRICKS_CLIENT_SECRET !== undefined;
  if (!hasPat && !hasOauth) problems.push('DATABRICKS_TOKEN: missing (set a personal access token, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET for OAuth M2M)');
  if (hasOauth) problems.push(...need(env, ['DATABRICKS_CLIENT_ID', 'DATABRICKS_CLIENT_SECRET'], 'OAuth M2M needs both the service principal id and secret'));
  return problems;
}

export type ServiceName = 'salesforce' | 'drift' | 'amplitude' | 'bigquery' | 'segment';

export interface ParsedConfig {
  env: Env;
  /** Services that run against the local emulators in `sandbox/`. */
  sandboxed: ServiceName[];
}

/** Validates an environment. Throws ConfigError listing every problem at once. */
export function parseEnv(raw: NodeJS.ProcessEnv): ParsedConfig {
  const result = envSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const value = raw[name];
      const shown = value === undefined ? 'missing' : /TOKEN|SECRET|PASSWORD|KEY/.test(name) ? 'set' : `got ${JSON.stringify(value)}`;
      return `${name}: ${i.message} (${shown})`;
    });
    throw new ConfigError(problems);
  }
  const env = result.data;
  const problems: string[] = [];
  const sandboxed: ServiceName[] = [];
  for (const rule of serviceRules) {
    if (rule.applies && !rule.applies(env)) continue;
    const configured = rule.vars.some((v) => env[v] !== undefined);
    const forcedSandbox = env.SANDBOX === 'on';
    if (configured && !forcedSandbox) problems.push(...rule.check(env));
    else if (env.SANDBOX === 'off') problems.push(`${rule.service}: no credentials set and SANDBOX=off (set its variables, see .env.example, or SANDBOX=auto to use the emulator)`);
    else sandboxed.push(rule.service as ServiceName);
  }
  problems.push(...databricksProblems(env));
  if (env.TEMPORAL_TLS_CERT_PATH !== undefined || env.TEMPORAL_TLS_KEY_PATH !== undefined)
    problems.push(...need(env, ['TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_KEY_PATH'], 'mTLS to Temporal Cloud needs both the client certificate and key'));
  if (problems.length > 0) throw new ConfigError(problems);
  return { env, sandboxed };
}
