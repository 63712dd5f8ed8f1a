import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { duckdbDialect as d } from '../../connectors/warehouse/dialect';
import { openDuckDBWarehouse } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import { Params, dedupedSilverSource, silverMergeSql } from '../../connectors/warehouse/sql';
import { SYS, bronzeTable, silverTable } from '../../connectors/warehouse/table-defs';
import type { BenchScenario } from '../scenario';
import { BENCH_BRONZE, BENCH_COLUMNS, BENCH_SILVER } from '../warehouse-tables';

/**
 * DuckDB's own floor for the `warehouse` bench: the same tables (created by the adapter), the same
 * silver MERGE statement and the same ~400-byte payload texts, but every batch is generated inside
 * DuckDB, so no JavaScript touches a row. What it measures is only DuckDB: bronze INSERT … SELECT
 * and commit, silver MERGE and commit, and the final checkpoint. No adapter can load faster than
 * this on the same machine, so it says how much of the `warehouse` bench's time is ours.
 *
 * Knobs: BENCH_WAREHOUSE_ROWS, _BATCH, _MEMORY as in the `warehouse` scenario, and
 * BENCH_FLOOR_DISABLED_COMPRESSION (e.g. `fsst,dictionary`) to see what compressing the texts costs.
 */

const TOTAL = Number(process.env.BENCH_WAREHOUSE_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_WAREHOUSE_BATCH ?? 50_000);
const DISABLED = process.env.BENCH_FLOOR_DISABLED_COMPRESSION;

const columns = BENCH_COLUMNS;
const silver = BENCH_SILVER;
const bronze = BENCH_BRONZE;

/** The `warehouse` bench's records, written in SQL: same keys, same payload text shape. */
function batchSql(start: number, n: number): string {
  const iso = (col: string) => `strftime(${col}, '%Y-%m-%dT%H:%M:%S.000Z')`;
  return (
    `SELECT *, '{"attributes":{"type":"Contact","url":"/services/data/v61.0/sobjects/Contact/' || id || '"},"id":"' || id || '","account_id":"' || account_id || ` +
    `'","email":"' || email || '","first_name":"' || first_name || '","last_name":"Last \\"' || (i % 777) || '\\"","amount":' || amount || ',"score":' || score || ` +
    `',"active":' || active || ',"created_at":"' || ${iso('created_at')} || '","system_modstamp":"' || ${iso('system_modstamp')} || '","description":"bench record\\nwith a newline"}' AS payload ` +
    `FROM (SELECT i, '003' || lpad(to_base(i, 36), 12, '0') AS id, '001' || lpad(to_base(i % 50000, 36), 12, '0') AS account_id, 'person.' || i || '@example.com' AS email, ` +
    `'First' || (i % 1000) AS first_name, 'Last "' || (i % 777) || '"' AS last_name, (i % 10000) / 100 AS amount, i % 1000 AS score, i % 3 <> 0 AS active, ` +
    `TIMESTAMP '2024-01-01' + to_seconds(i) AS created_at, TIMESTAMP '2024-01-01' + to_seconds(i + 5) AS system_modstamp FROM range(${start}, ${start + n}) r(i))`
  );
}

const scenario: BenchScenario = {
  name: 'warehouse-floor-duckdb-1m',
  description: `DuckDB alone (rows made in SQL, no JavaScript per row): ${TOTAL.toLocaleString('en-US')} rows appended to bronze and merged into silver, batches of ${BATCH.toLocaleString('en-US')}`,
  async run() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-floor-'));
    const file = path.join(dir, 'warehouse.duckdb');
    const memoryLimit = process.env.BENCH_WAREHOUSE_MEMORY ?? '512MB';
    // The adapter creates the schema, so the tables are exactly the ones the `warehouse` bench fills.
    const wh = await openDuckDBWarehouse({ path: file, memoryLimit });
    await wh.ensureSchema({ bronze: [bronze], silver: [silver] });
    await wh.close();

    const instance = await DuckDBInstance.create(file, { memory_limit: memoryLimit, checkpoint_threshold: '128MB' });
    const conn = await instance.connect();
    try {
      if (DISABLED) await conn.run(`SET disabled_compression_methods = '${DISABLED.replace(/'/g, '')}'`);
      const bronzeCols = bronzeTable(bronze).columns.map((c) => c.name);
      const select = bronzeCols.map((c) =>
        c === SYS.payload ? 'payload' : c === SYS.ingestedAt ? 'now()::TIMESTAMP' : c === SYS.batchId ? '$batch' : c === SYS.row ? `i - $start` : d.quote(c),
      );
      const silverCols = [...columns.map((c) => d.quote(c.name)), `false AS ${d.quote(SYS.deleted)}`, `i AS ${d.quote(SYS.ord)}`];
      const p = new Params(d);
      const merge = p.statement(silverMergeSql(d, silver, dedupedSilverSource(d, silver, `(SELECT ${silverCols.join(', ')} FROM temp.main.batch)`), p.cast('timestamp', new Date().toISOString())));
      let generating = 0;
      let bronzeMs = 0;
      let mergeMs = 0;
      const t0 = performance.now();
      for (let start = 0, b = 0; start < TOTAL; start += BATCH, b++) {
        const g = performance.now();
        await conn.run(`CREATE OR REPLACE TEMP TABLE batch AS ${batchSql(start, Math.min(BATCH, TOTAL - start))}`);
        const l = performance.now();
        generating += l - g;
        await conn.run(`INSERT INTO ${d.table('bronze', bronze.name)} (${bronzeCols.map(d.quote).join(', ')}) SELECT ${select.join(', ')} FROM temp.main.batch`, { batch: `floor:${b}`, start });
        const m = performance.now();
        bronzeMs += m - l;
        await conn.run(merge.sql, merge.params);
        mergeMs += performance.now() - m;
      }
      const c = performance.now();
      await conn.run('CHECKPOINT');
      const checkpointMs = performance.now() - c;
      const wall = (performance.now() - t0) / 1000;
      const counts = (await conn.runAndReadAll(`SELECT (SELECT COUNT(*) FROM bronze.bench_contact) AS b, (SELECT COUNT(*) FROM silver.bench_contact) AS s, (SELECT AVG(length(${d.quote(SYS.payload)})) FROM bronze.bench_contact) AS len`)).getRowObjectsJS()[0];
      if (Number(counts.b) !== TOTAL || Number(counts.s) !== TOTAL) throw new Error(`expected ${TOTAL} rows in bronze and silver, got ${counts.b} / ${counts.s}`);
      const seconds = (bronzeMs + mergeMs + checkpointMs) / 1000;
      return {
        records: TOTAL,
        // DuckDB's own time: bronze inserts, silver merges, the final checkpoint (not the SQL generation).
        seconds,
        extra: {
          batch: BATCH,
          bronze_s: (bronzeMs / 1000).toFixed(2),
          merge_s: (mergeMs / 1000).toFixed(2),
          checkpoint_s: (checkpointMs / 1000).toFixed(2),
          generate_in_sql_s: (generating / 1000).toFixed(2),
          wall_s: wall.toFixed(2),
          payload_bytes: Math.round(Number(counts.len)),
          db_MiB: Math.round(fs.statSync(file).size / 1048576),
          disabled_compression: DISABLED ?? 'none',
        },
      };
    } finally {
      conn.closeSync();
      instance.closeSync();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default scenario;
