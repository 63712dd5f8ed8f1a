import type { Row, Warehouse } from '../connectors/warehouse/types';
import { compareVersions } from './pipeline';
import type { StreamDeclaration } from './types';

/**
 * The organize flow's catch-up, free of Temporal: bronze records whose key has no silver row (a
 * run that failed between bronze and silver, or a source that only appends) are parsed with the
 * stream's schema and merged. Nothing is sent to Amplitude here: this is the warehouse's own
 * consistency, and the sync flows own delivery. Records that fail the schema stay in bronze; they
 * were dead-lettered when received, and the reconciliation check keeps reporting them.
 */
export interface CatchUpResult {
  stream: string;
  scanned: number;
  merged: number;
  invalid: number;
}

export async function catchUpStream(
  warehouse: Warehouse,
  decl: StreamDeclaration,
  /** batchSize: keys per page (all of a key's bronze versions come together). */
  opts: { batchSize?: number; progress?: (done: CatchUpResult) => void } = {},
): Promise<CatchUpResult> {
  const keys = opts.batchSize ?? 5_000;
  await warehouse.ensureSchema({ bronze: [decl.bronze], silver: [decl.silver] });
  const result: CatchUpResult = { stream: decl.name, scanned: 0, merged: 0, invalid: 0 };
  const pk = decl.silver.primaryKey[0];
  const version = decl.silver.versionColumn;
  let afterKey: string | undefined;
  for (;;) {
    const page = await warehouse.unmergedBronze(decl.bronze, decl.silver, { afterKey, keys });
    if (page.length === 0) break;
    result.scanned += page.length;
    const newest = new Map<string, Row>();
    for (const r of page) {
      const parsed = decl.schema.safeParse(r.payload);
      if (!parsed.success) {
        result.invalid += 1;
        continue;
      }
      const row = decl.toRow(parsed.data as Record<string, unknown>);
      const key = String(row[pk]);
      const prev = newest.get(key);
      if (!prev || compareVersions(row[version], prev[version]) >= 0) newest.set(key, row);
    }
    if (newest.size > 0) {
      const merge = await warehouse.mergeSilver(decl.silver, [...newest.values()], { deleted: (row) => row._deleted === true });
      result.merged += merge.inserted + merge.updated;
    }
    const pageKeys = new Set(page.map((r) => r.key));
    afterKey = page[page.length - 1].key;
    opts.progress?.({ ...result });
    if (pageKeys.size < keys) break;
  }
  return result;
}
