import pino, { type DestinationStream, type Logger } from 'pino';
import { SECRET_SETTINGS } from './env';

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
  ...SECRET_SETTINGS.map((s) => `env.${s}`),
];

export interface LoggerOptions {
  level?: string;
  format?: 'auto' | 'json' | 'pretty';
  name?: string;
  /** stderr keeps stdout for a command's output (e.g. `demo --json`). Default stdout. */
  destination?: 'stdout' | 'stderr';
  /** Lines go here instead (JSON), e.g. a test that reads every line. */
  stream?: DestinationStream;
}

/** JSON in production or when piped; pretty when a person is watching a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const format = opts.format ?? (process.env.LOG_FORMAT as LoggerOptions['format']) ?? 'auto';
  const fd = opts.destination === 'stderr' ? 2 : 1;
  const tty = fd === 2 ? process.stderr.isTTY : process.stdout.isTTY;
  const pretty = !opts.stream && (format === 'pretty' || (format === 'auto' && tty && process.env.NODE_ENV !== 'production'));
  return pino({
    name: opts.name ?? 'novade-sync',
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    transport: pretty
      ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', destination: fd } }
      : undefined,
  }, pretty ? undefined : (opts.stream ?? pino.destination(fd)));
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
