import type { AppConfig } from '../../config/config';
import { amplitudeChecks } from './amplitude';
import { bigqueryChecks } from './bigquery';
import { driftChecks } from './drift';
import { salesforceChecks } from './salesforce';
import { temporalChecks } from './temporal';
import { errorText, fail, withTimeout, type DoctorCheck, type DoctorContext, type ServiceChecks } from './types';
import { warehouseChecks } from './warehouse';
import { webhookChecks } from './webhook';

export const DOCTOR_SERVICES = {
  temporal: temporalChecks,
  salesforce: salesforceChecks,
  drift: driftChecks,
  amplitude: amplitudeChecks,
  warehouse: (ctx) => warehouseChecks(ctx),
  bigquery: bigqueryChecks,
  webhook: webhookChecks,
} satisfies Record<string, ServiceChecks>;

export type DoctorService = keyof typeof DOCTOR_SERVICES;

export interface DoctorOptions {
  /** Per call; default 10 s. */
  timeoutMs?: number;
  /** Only these services; default all. */
  only?: DoctorService[];
  /** Replaces a service's checks (tests: e.g. a Databricks executor on another engine). */
  override?: Partial<Record<DoctorService, ServiceChecks>>;
}

export interface DoctorReport {
  checks: DoctorCheck[];
  /** Required checks that failed: a non-zero exit. */
  failed: DoctorCheck[];
  warnings: DoctorCheck[];
}

/** Every service's checks at once, each bounded in time; a service that throws or hangs is a failed check. */
export async function runDoctor(config: AppConfig, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const ctx: DoctorContext = { config, timeoutMs: opts.timeoutMs ?? 10_000 };
  const names = opts.only ?? (Object.keys(DOCTOR_SERVICES) as DoctorService[]);
  const results = await Promise.all(
    names.map(async (name) => {
      const checks = opts.override?.[name] ?? DOCTOR_SERVICES[name];
      try {
        // Each call inside has its own timeout; this bounds a service's checks as a whole.
        return await withTimeout(checks(ctx), ctx.timeoutMs * 3, `${name} checks`);
      } catch (err) {
        return [fail(name, 'checks ran', errorText(err), 'run `npx novade doctor` again; if it persists, report it with this message')];
      }
    }),
  );
  const checks = results.flat();
  return { checks, failed: checks.filter((c) => !c.ok && c.required), warnings: checks.filter((c) => !c.ok && !c.required) };
}
