import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDuckDBWarehouse } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import type { BronzeRecord } from '../../connectors/warehouse/types';
import { catchUpStream } from '../../streams/catch-up';
import { STREAM_DECLARATIONS } from '../../streams/registry';
import type { BenchScenario } from '../scenario';

/**
 * The organize catch-up on DuckDB: BENCH_ORGANIZE_ROWS Salesforce Contact records in bronze with no
 * silver row (a source that only appends, or every merge lost), found, parsed with the stream's
 * schema and merged by `catchUpStream`, then the four checks on the table. Only catch-up and
 * checks are timed, not loading bronze.
 */

const TOTAL = Number(process.env.BENCH_ORGANIZE_ROWS ?? 200_000);
const LOAD_BATCH = 50_000;
const KEYS_PER_PAGE = Number(process.env.BENCH_ORGANIZE_KEYS ?? 5_000);
const BASE = Date.UTC(2025, 0, 1);

function records(start: number, n: number): BronzeRecord[] {
  const out: BronzeRecord[] = new Array<BronzeRecord>(n);
  for (let j = 0; j < n; j++) {
    const i = start + j;
    const Id = `003${i.toString(36).padStart(12, '0')}AAA`;
    out[j] = {
      keys: { id: Id },
      payload: {
        attributes: { type: 'Contact', url: `/services/data/v62.0/sobjects/Contact/${Id}` },
        Id,
        AccountId: `001${(i % 20_000).toString(36).padStart(12, '0')}AAA`,
        FirstName: `First${i % 1000}`,
        LastName: `Last ${i % 777}`,
        Email: `person.${i}@example.com`,
        Title: i % 5 === 0 ? 'Site Manager' : null,
        IsDeleted: false,
        CreatedDate: new Date(BASE + i * 1000).toISOString(),
        LastModifiedDate: new Date(BASE + i * 1000 + 5000).toISOString(),
        SystemModstamp: new Date(BASE + i * 1000 + 5000).toISOString(),
      },
    };
  }
  return out;
}

const scenario: BenchScenario = {
  name: 'organize-catch-up',
  description: `Organize on DuckDB: ${TOTAL.toLocaleString('en-US')} Contact records in bronze missing in silver, caught up ${KEYS_PER_PAGE.toLocaleString('en-US')} keys a page, then checked`,
  async run() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-organize-'));
    const wh = await openDuckDBWarehouse({ path: path.join(dir, 'warehouse.duckdb'), memoryLimit: process.env.BENCH_WAREHOUSE_MEMORY ?? '512MB' });
    const decl = STREAM_DECLARATIONS.get('salesforce_contact')!;
    try {
      await wh.ensureSchema({ bronze: [decl.bronze], silver: [decl.silver] });
      for (let start = 0, b = 0; start < TOTAL; start += LOAD_BATCH, b++)
        await wh.appendBronze(decl.bronze, { batchId: `bench:${b}`, records: records(start, Math.min(LOAD_BATCH, TOTAL - start)) });

      const t0 = performance.now();
      const result = await catchUpStream(wh, decl, { batchSize: KEYS_PER_PAGE });
      const catchUp = (performance.now() - t0) / 1000;
      const t1 = performance.now();
      const checks = await wh.runChecks([decl.silver]);
      const checking = (performance.now() - t1) / 1000;
      if (result.merged !== TOTAL || result.invalid !== 0) throw new Error(`expected ${TOTAL} merged, got ${JSON.stringify(result)}`);
      const failed = checks.filter((c) => !c.passed);
      if (failed.length) throw new Error(`checks failed after the catch-up: ${JSON.stringify(failed)}`);
      return {
        records: TOTAL,
        seconds: catchUp + checking,
        extra: { catch_up_s: catchUp.toFixed(2), checks_s: checking.toFixed(2), keys_per_page: KEYS_PER_PAGE },
      };
    } finally {
      await wh.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default scenario;
