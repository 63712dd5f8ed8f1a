import { z } from 'zod';

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

export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
  DATA_DIR: z.string().default('.data'),

  TEMPORAL_ADDRESS: hostPort('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('novade-sync'),
  TEMPORAL_TLS_CERT_PATH: str(),
  TEMPORAL_TLS_KEY_PATH: str(),
  TEMPORAL_API_KEY: secret(),
  TEMPORAL_UI_URL: url(),
  TEMPORAL_DEV_SERVER: bool(true),
  TEMPORAL_UI_PORT: int(8233, 1, 65535),
  WORKER_METRICS_BIND: hostPort('0.0.0.0:9464'),
  /** V8 old-space cap of the worker process in MiB (0: V8's own, which grows with the garbage a page leaves). */
  WORKER_MAX_HEAP_MB: int(256, 0, 65_536).refine((v) => v === 0 || v >= 128, 'expected 0 (no cap) or at least 128'),

  SYNC_INTERVAL: z.string().regex(/^\d+[smh]$/, 'expected a duration such as 5m, 30s or 1h').default('5m'),
  ORGANIZE_INTERVAL: z.string().regex(/^\d+[smh]$/, 'expected a duration such as 1h').default('1h'),

  SALESFORCE_LOGIN_URL: url(),
  SALESFORCE_AUTH: z.enum(['client_credentials', 'jwt', 'password']).optional(),
  SALESFORCE_CLIENT_ID: str(),
  SALESFORCE_CLIENT_SECRET: secret(),
  SALESFORCE_USERNAME: str(),
  SALESFORCE_PASSWORD: secret(),
  SALESFORCE_SECURITY_TOKEN: secret(),
  SALESFORCE_JWT_KEY_PATH: str(),
  SALESFORCE_API_VERSION: z.string().regex(/^\d{2}\.0$/, 'expected an API version such as 62.0').default('62.0'),
  SALESFORCE_LOOKBACK_SECONDS: int(600, 0, 86_400),
  SALESFORCE_BULK_THRESHOLD: int(10_000, 0),
  SALESFORCE_MAX_FETCH: int(1_000_000, 2_000),
  SALESFORCE_API_USAGE_STOP_SHARE: num(0.8, 0.05, 1),
  SALESFORCE_USER_ID_FIELD: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default('Email'),

  DRIFT_TOKEN: secret(),
  DRIFT_BASE_URL: url(),
  DRIFT_VERIFICATION_TOKEN: secret(),

  AMPLITUDE_API_KEY: secret(),
  AMPLITUDE_ZONE: z.preprocess(blankToUndefined, z.enum(['us', 'eu'], { error: 'expected us or eu' }).optional()),
  AMPLITUDE_SERVER_URL: url(),
  AMPLITUDE_MIN_ID_LENGTH: int(5, 1, 64),

  WAREHOUSE: z.enum(['duckdb', 'databricks'], { error: 'expected duckdb or databricks' }).default('duckdb'),
  DUCKDB_PATH: str(),
  DUCKDB_MEMORY_LIMIT: memorySize('256MB'),
  /** WAL size that triggers a checkpoint: larger is faster for bulk loads, smaller checkpoints need less memory at once. */
  DUCKDB_CHECKPOINT_THRESHOLD: memorySize('128MB', 1),
  /** DuckDB's worker threads; unset, DuckDB uses every core. */
  DUCKDB_THREADS: optionalInt(1, 1024),
  DATABRICKS_HOST: databricksHost,
  DATABRICKS_HTTP_PATH: z.preprocess(
    blankToUndefined,
    z.string().regex(/^\/sql\//, 'expected the SQL warehouse HTTP path, for example /sql/1.0/warehouses/abc123').optional(),
  ),
  DATABRICKS_TOKEN: secret(),
  DATABRICKS_CLIENT_ID: str(),
  DATABRICKS_CLIENT_SECRET: secret(),
  DATABRICKS_CATALOG: z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a Unity Catalog name').default('novade'),
  DATABRICKS_VOLUME: z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a volume name').default('staging'),

  BIGQUERY_PROJECT: str(),
  BIGQUERY_API_ENDPOINT: url(),
  GOOGLE_APPLICATION_CREDENTIALS: str(),
  SEGMENT_DATASET: z.string().regex(/^[A-Za-z0-9_]+$/, 'expected a BigQuery dataset name').default('segment'),
  SEGMENT_TABLES: list(['tracks', 'identifies', 'pages']),

  WEBHOOK_PORT: int(8080, 1, 65535),
  WEBHOOK_HOST: z.string().default('0.0.0.0'),
  WEBHOOK_SECRET: secret(),
  WEBHOOK_SECRET_HEADER: z.string().regex(/^[A-Za-z0-9-]+$/).default('x-novade-webhook-secret'),
  WEBHOOK_BODY_LIMIT_BYTES: int(1_048_576, 1_024, 64 * 1_048_576),
  WEBHOOK_INGEST_SHARDS: int(4, 1, 64),
  WEBHOOK_INGEST_LINGER_MS: int(20, 0, 1_000),
  WEBHOOK_INGEST_MAX_IN_FLIGHT: int(1, 1, 16),
  WEBHOOK_INGEST_TIMEOUT_MS: int(5_000, 100, 60_000),
  /** Flush cadence of the ingest workflows the webhook starts (unset: the workflow's defaults, 2,000 ms / 1,000 events). */
  WEBHOOK_INGEST_FLUSH_MAX_AGE_MS: optionalInt(50, 60_000),
  WEBHOOK_INGEST_FLUSH_MAX_EVENTS: optionalInt(1, 10_000),

  /** Write keys the Segment-compatible endpoint accepts (the site's analytics.js key, server keys). */
  SEGMENT_WRITE_KEYS: textList('write key', /^[A-Za-z0-9._~-]+$/, 'is letters, digits and . _ ~ - (a Segment write key such as 9xUk3...)'),
  /** Browser origins allowed to send calls (CORS), or `*`. */
  SEGMENT_CORS_ORIGINS: textList('origin', /^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?\/?)$/, 'is * or a scheme and host such as https://www.novade.com'),
  /** Dual tracking: every collected call is re-sent to Segment as well. */
  SEGMENT_FORWARD: onOff('off'),
  SEGMENT_FORWARD_WRITE_KEY: secret(),
  /** https://api.segment.io, or https://events.eu1.segmentapis.com for an EU workspace. */
  SEGMENT_FORWARD_ENDPOINT: url(),
  /** Amplitude group type a Segment group call sets (needs Amplitude's Accounts add-on); unset: group calls are not sent to Amplitude. */
  SEGMENT_AMPLITUDE_GROUP_TYPE: z.preprocess(blankToUndefined, z.string().regex(/^[^\s].{0,99}$/, 'expected a group type name such as company').optional()),

  ALERT_WEBHOOK_URL: url(),
  ALERT_FORMAT: z.enum(['teams', 'slack']).default('teams'),
  ALERT_DEAD_LETTERS_THRESHOLD: int(100, 0),
  ALERT_DEAD_LETTERS_WINDOW: duration('24h'),
  ALERT_BACKFILL_STALL_MINUTES: int(30, 1, 7 * 24 * 60),
  CHECK_FRESHNESS: tableDurations,
  BRONZE_RETENTION: optionalDuration('90d'),
  RETENTION_INTERVAL: duration('24h'),
  APP_METRICS_BIND: hostPort('0.0.0.0:9465'),

  /** The tracking plan's directory (docs/tracking-plan.md); relative to the project root. */
  TRACKING_PLAN_DIR: z.string().min(1).default('tracking-plan'),
  /** A (event, violation type) stops being alerted once none was seen within this window. */
  TRACKING_VIOLATIONS_WINDOW: duration('24h'),
  /** Organize checks the parity of each day once (Segment's warehouse vs novade-sync vs Amplitude). */
  TRACKING_PARITY_DAILY: bool(false),
  TRACKING_PARITY_TOLERANCE: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^\d+(?:\.\d+)?%$/, 'expected a percentage such as 2% or 0.5%')
      .default('2%')
      .transform((v) => Number(v.slice(0, -1)) / 100),
  ),
  /** How long after a day ends its parity is checked: Segment loads its warehouse hours late. */
  TRACKING_PARITY_SETTLE: duration('6h'),

  SANDBOX: z.enum(['auto', 'on', 'off'], { error: 'expected auto, on or off' }).default('auto'),
  SANDBOX_SEED: int(42),
  SANDBOX_SCALE: num(1, 0.0001, 100),
});

export type Env = z.infer<typeof envSchema>;

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
