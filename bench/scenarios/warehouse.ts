import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDuckDBWarehouse } from '../../connectors/warehouse/duckdb/duckdb-warehouse';
import type { BronzeRecord, Row } from '../../connectors/warehouse/types';
import type { BenchScenario } from '../scenario';
import { BENCH_BRONZE, BENCH_COLUMNS, BENCH_SILVER } from '../warehouse-tables';

/**
 * 1,000,000 records through the DuckDB warehouse, the way a flow writes them: each batch appended
 * to bronze (10 typed columns + the JSON payload) and merged into silver on its key, as one flow
 * would write them. Memory is bounded by the batch (BENCH_WAREHOUSE_BATCH), not by the total.
 *
 * The table's seconds and records/s are the warehouse's: time inside appendBronze + mergeSilver and
 * the final close (checkpoint). `wall_s` / `wall_rows_per_s` are end to end, generating the
 * synthetic records included (`generate_s`, the bench's own cost).
 */

const TOTAL = Number(process.env.BENCH_WAREHOUSE_ROWS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_WAREHOUSE_BATCH ?? 50_000);

const columns = BENCH_COLUMNS;
const silver = BENCH_SILVER;
const bronze = BENCH_BRONZE;

const BASE = Date.UTC(2024, 0, 1);

/**
 * How the payload reaches the warehouse: `object` (default), a parsed value the adapter serializes,
 * or `text`, the record's JSON text as received (BronzeRecord.payloadJson, stored without
 * re-serializing). Here `text` saves the adapter's JSON.stringify but the bench then builds the text
 * itself, so the two cost about the same: the gain is for callers that already hold the text.
 */
const PAYLOAD = process.env.BENCH_WAREHOUSE_PAYLOAD === 'text' ? 'text' : 'object';

/** A page of source records (JSON as an API returns it) and the typed silver rows mapped from them. */
function batchOf(start: number, n: number): { records: BronzeRecord[]; rows: Row[] } {
  const records: BronzeRecord[] = new Array<BronzeRecord>(n);
  const rows: Row[] = new Array<Row>(n);
  for (let j = 0; j < n; j++) {
    const i = start + j;
    const created = new Date(BASE + i * 1000);
    const modstamp = new Date(BASE + i * 1000 + 5000);
    const source = {
      id: `003${i.toString(36).padStart(12, '0')}`,
      account_id: `001${(i % 50_000).toString(36).padStart(12, '0')}`,
      email: `person.${i}@example.com`,
      first_name: `First${i % 1000}`,
      last_name: `Last "${i % 777}"`,
      amount: (i % 10_000) / 100,
      score: i % 1_000,
      active: i % 3 !== 0,
      created_at: created.toISOString(),
      system_modstamp: modstamp.toISOString(),
    };
    const url = `/services/data/v61.0/sobjects/Contact/${source.id}`;
    records[j] =
      PAYLOAD === 'text'
        ? {
            keys: source,
            payloadJson:
              `{"attributes":{"type":"Contact","url":"${url}"},"id":"${source.id}","account_id":"${source.account_id}","email":"${source.email}",` +
              `"first_name":"${source.first_name}","last_name":"Last \\"${i % 777}\\"","amount":${source.amount},"score":${source.score},"active":${source.active},` +
              `"created_at":"${source.created_at}","system_modstamp":"${source.system_modstamp}","description":"bench record\\nwith a newline"}`,
          }
        : { keys: source, payload: { attributes: { type: 'Contact', url }, ...source, description: 'bench record\nwith a newline' } };
    rows[j] = { ...source, created_at: created, system_modstamp: modstamp };
  }
  return { records, rows };
}

const scenario: BenchScenario = {
  name: 'warehouse-duckdb-1m',
  description: `DuckDB: ${TOTAL.toLocaleString('en-US')} bronze rows (10 columns + JSON payload) appended and merged into silver, batches of ${BATCH.toLocaleString('en-US')}`,
  async run() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bench-wh-'));
    const memoryLimit = process.env.BENCH_WAREHOUSE_MEMORY ?? '512MB';
    const threads = process.env.BENCH_WAREHOUSE_THREADS ? Number(process.env.BENCH_WAREHOUSE_THREADS) : undefined;
    const wh = await openDuckDBWarehouse({ path: path.join(dir, 'warehouse.duckdb'), memoryLimit, threads, checkpointThreshold: process.env.BENCH_WAREHOUSE_CHECKPOINT });
    try {
      await wh.ensureSchema({ bronze: [bronze], silver: [silver] });
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      let generating = 0;
      let loading = 0;
      let inserted = 0;
      // Generation and loading take turns, so the warehouse's time is measured alone: each batch is
      // made, then appended to bronze and merged into silver side by side (as two activities would).
      // At most one batch is alive at a time.
      for (let start = 0, b = 0; start < TOTAL; start += BATCH, b++) {
        const g = performance.now();
        const { records, rows } = batchOf(start, Math.min(BATCH, TOTAL - start));
        const l = performance.now();
        generating += l - g;
        const [, merged] = await Promise.all([wh.appendBronze(bronze, { batchId: `bench:${b}`, records }), wh.mergeSilver(silver, rows)]);
        inserted += merged.inserted;
        loading += performance.now() - l;
      }
      const q = performance.now();
      const [counts] = await wh.query<{ bronze: number; silver: number }>('SELECT (SELECT COUNT(*) FROM bronze.bench_contact) AS bronze, (SELECT COUNT(*) FROM silver.bench_contact) AS silver');
      // Closing checkpoints what the WAL still holds: part of the cost of loading.
      const c = performance.now();
      await wh.close();
      const closing = performance.now() - c;
      const wall = (performance.now() - t0) / 1000 - (c - q) / 1000;
      const cpu = process.cpuUsage(cpu0);
      if (counts.bronze !== TOTAL || counts.silver !== TOTAL || inserted !== TOTAL)
        throw new Error(`expected ${TOTAL} rows in bronze and silver, got ${counts.bronze} / ${counts.silver} (merge said ${inserted})`);
      const size = fs.statSync(path.join(dir, 'warehouse.duckdb')).size;
      const warehouse = (loading + closing) / 1000;
      return {
        records: TOTAL,
        // The warehouse's own time: inside appendBronze + mergeSilver, plus the final checkpoint.
        seconds: warehouse,
        extra: {
          batch: BATCH,
          payload: PAYLOAD,
          // End to end, generating the records included.
          wall_s: wall.toFixed(2),
          wall_rows_per_s: Math.round(TOTAL / wall),
          generate_s: (generating / 1000).toFixed(2),
          close_s: (closing / 1000).toFixed(2),
          cpu_s: ((cpu.user + cpu.system) / 1e6).toFixed(1),
          db_MiB: Math.round(size / 1048576),
          duckdb_memory_limit: memoryLimit,
        },
      };
    } finally {
      await wh.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default scenario;
