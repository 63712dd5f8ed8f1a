import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log line. */
const REDACT = [
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.apiKey',
  '*.api_key',
  '*.password',
  '*.clientSecret',
  '*.client_secret',
  '*.secret',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'env.DATABRICKS_TOKEN',
  'env.AMPLITUDE_API_KEY',
  'env.DRIFT_TOKEN',
  'env.SALESFORCE_PASSWORD',
  'env.SALESFORCE_CLIENT_SECRET',
  'env.WEBHOOK_SECRET',
  'env.TEMPORAL_API_KEY',
];

export interface LoggerOptions {
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  name?: string;
  /** stderr keeps stdout for a command's output (e.g. `demo --json`). Default stdout. */
  destination?: 'stdout' | 'stderr';
}

/** JSON in production or when piped; pretty when a person is watching a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const format = opts.format ?? (process.env.LOG_FORMAT as LoggerOptions['format']) ?? 'auto';
  const fd = opts.destination === 'stderr' ? 2 : 1;
  const tty = fd === 2 ? process.stderr.isTTY : process.stdout.isTTY;
  const pretty = format === 'pretty' || (format === 'auto' && tty && process.env.NODE_ENV !== 'production');
  return pino({
    name: opts.name ?? 'novade-sync',
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    transport: pretty
      ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: fd } }
      : undefined,
  }, pretty ? undefined : pino.destination(fd));
}

let root: Logger | undefined;
/** The process-wide logger; components take `log.child({ component })`. */
export function logger(): Logger {
  root ??= createLogger();
  return root;
}

/** Makes `log` the process-wide logger, for commands that keep stdout for their own output. */
export function setRootLogger(log: Logger): void {
  root = log;
}
