import { randomBytes } from 'node:crypto';

/**
 * Names of the Databricks staging tables (`ops._stg_<purpose>_<time>_<random>`). A load drops its
 * staging table whatever happens, but a worker killed mid-load cannot: the creation time in the
 * name lets the next run tell an abandoned table from one a concurrent load is still filling.
 */

export const STAGING_PREFIX = '_stg_';

/** Creation time (epoch ms, base 36) and 48 random bits: unique across concurrent attempts. */
export function stagingToken(now: number): string {
  return `${now.toString(36)}_${randomBytes(6).toString('hex')}`;
}

export function stagingTableName(purpose: string, token: string): string {
  return `${STAGING_PREFIX}${purpose.slice(0, 80)}_${token}`;
}

const TIMED = /^_stg_.+_([0-9a-z]{6,11})_[0-9a-f]{12}$/;

/** Creation time written in a staging table's name, or undefined for a name without one. */
export function stagingCreatedAt(name: string): number | undefined {
  const m = TIMED.exec(name.toLowerCase());
  if (!m) return undefined;
  const t = parseInt(m[1], 36);
  return Number.isSafeInteger(t) ? t : undefined;
}

/**
 * The staging tables among `names` abandoned for longer than `maxAgeMs`. Tables without a time in
 * their name (made by another tool, or with a fixed token) are never touched.
 */
export function abandonedStagingTables(names: readonly string[], now: number, maxAgeMs: number): string[] {
  return names.filter((n) => {
    const at = stagingCreatedAt(n);
    return at !== undefined && now - at > maxAgeMs;
  });
}
