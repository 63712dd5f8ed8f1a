import type { AppConfig } from '../../config/config';

/**
 * One line of `npx novade doctor`: what was checked, whether it passed, and how to fix it when not.
 * `required` checks decide the exit code; the others are advice (e.g. no worker polling yet).
 */
export interface DoctorCheck {
  service: string;
  check: string;
  ok: boolean;
  required: boolean;
  detail: string;
  /** What to do about a failure; empty when the check passed. */
  fix: string;
}

export interface DoctorContext {
  config: AppConfig;
  /** Each service's checks give up after this long (a hung endpoint must not hang the doctor). */
  timeoutMs: number;
}

/** A service's checks: one or more results, never a throw (failures are results too). */
export type ServiceChecks = (ctx: DoctorContext) => Promise<DoctorCheck[]>;

export const pass = (service: string, check: string, detail: string, required = true): DoctorCheck => ({ service, check, ok: true, required, detail, fix: '' });

export const fail = (service: string, check: string, detail: string, fix: string, required = true): DoctorCheck => ({ service, check, ok: false, required, detail, fix });

/** The service label: says when a service runs against its local emulator rather than the real one. */
export function serviceLabel(config: AppConfig, service: 'salesforce' | 'drift' | 'amplitude' | 'bigquery'): string {
  return config.sandboxed.includes(service) ? `${service} (sandbox)` : service;
}

/** What to do when a sandboxed service's emulator does not answer. */
export const SANDBOX_FIX = 'the sandbox emulators run with `npm start` (or `npm run sandbox`); set the service\'s variables in .env to use the real one';

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Rejects after `ms` with a message naming what timed out. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A failed fetch in words: its timeout, or the network error underneath "fetch failed". */
export function fetchErrorText(err: unknown, timeoutMs: number): string {
  const name = (err as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const cause = (err as { cause?: unknown })?.cause;
  return cause ? `${errorText(err)} (${errorText(cause)})` : errorText(err);
}
