import { z } from 'zod';
import { logger, type Logger } from '../../config/logger';
import { loadNdjson } from '../bigquery/loader';
import { canonicalTimestamp } from '../seed/segment-time';
import type { ReceivedCall } from './types';
import { baseColumns, inferType, warehouseRows, type TableRow, type WarehouseCell, type WarehouseColumnType, type WarehouseRow } from './warehouse-rows';

/**
 * Segment's warehouse sync, against the BigQuery emulator's Segment dataset: received calls wait
 * `delayMs` (Segment loads its warehouses in periodic syncs, so a call shows up late), then every
 * `intervalMs` the due ones are loaded with one load job per table. A table is created on first use
 * with a column per value seen, typed from the value (Segment infers column types from the data); a
 * value that does not fit its column's type is left out, as Segment drops values it cannot cast.
 * A failed load keeps its calls pending for the next round.
 */
export interface WarehouseTarget {
  /** The BigQuery emulator's base URL. */
  url: string;
  projectId: string;
  dataset: string;
}

export const warehouseTimingSchema = z.object({
  /** How long a received call waits before it may be loaded, ms. */
  delayMs: z.number().int().min(0).optional(),
  /** How often due calls are loaded, ms. */
  intervalMs: z.number().int().min(10).optional(),
  /** Also write each track into the table named after its event, as Segment does. */
  eventTables: z.boolean().optional(),
});
export type WarehouseTiming = z.infer<typeof warehouseTimingSchema>;

export interface WarehouseSyncOptions extends WarehouseTarget, WarehouseTiming {
  now?: () => Date;
  log?: Logger;
}

export interface WarehouseStats {
  pending: number;
  /** Calls loaded so far. */
  loaded: number;
  /** Rows loaded per table (a track with event tables counts in both). */
  rows: Record<string, number>;
  /** Columns an existing table lacks, as `table.column`: their values were left out. */
  missingColumns: string[];
  /** Cells left out because their value did not fit the column's type or its column is missing. */
  droppedValues: number;
  failedLoads: number;
  lastError?: string;
  delayMs: number;
  intervalMs: number;
  eventTables: boolean;
}

interface ApiField {
  name: string;
  type: string;
  mode?: string;
}

const BQ_TYPE: Record<string, WarehouseColumnType> = { STRING: 'STRING', TIMESTAMP: 'TIMESTAMP', INTEGER: 'INTEGER', INT64: 'INTEGER', BOOLEAN: 'BOOLEAN', BOOL: 'BOOLEAN', FLOAT: 'FLOAT', FLOAT64: 'FLOAT' };

/** The value as its column's type takes it, or undefined when it cannot be cast. */
export function castCell(value: WarehouseCell, type: WarehouseColumnType): WarehouseCell | undefined {
  switch (type) {
    case 'STRING':
      return String(value);
    case 'INTEGER':
      if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
      return typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : undefined;
    case 'FLOAT':
      if (typeof value === 'number') return value;
      if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
      return undefined;
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return undefined;
    case 'TIMESTAMP':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) return undefined;
      try {
        return canonicalTimestamp(value);
      } catch {
        return undefined;
      }
  }
}

export class WarehouseSync {
  private readonly pending: { call: ReceivedCall; dueAt: number }[] = [];
  /** Known schema per table, column -> type; filled from the emulator on first use. */
  private readonly schemas = new Map<string, Map<string, WarehouseColumnType>>();
  private readonly log: Logger;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private delayMs: number;
  private intervalMs: number;
  private eventTables: boolean;
  private readonly counters = { loaded: 0, droppedValues: 0, failedLoads: 0, rows: {} as Record<string, number>, missingColumns: new Set<string>(), lastError: undefined as string | undefined };

  constructor(private readonly opts: WarehouseSyncOptions) {
    this.log = (opts.log ?? logger()).child({ component: 'sandbox-segment-warehouse' });
    this.now = opts.now ?? (() => new Date());
    this.delayMs = opts.delayMs ?? 0;
    this.intervalMs = opts.intervalMs ?? 1_000;
    this.eventTables = opts.eventTables ?? false;
    this.schedule();
  }

  configure(timing: WarehouseTiming): void {
    if (timing.delayMs !== undefined) this.delayMs = timing.delayMs;
    if (timing.eventTables !== undefined) this.eventTables = timing.eventTables;
    if (timing.intervalMs !== undefined) {
      this.intervalMs = timing.intervalMs;
      this.schedule();
    }
  }

  enqueue(call: ReceivedCall): void {
    this.pending.push({ call, dueAt: this.now().getTime() + this.delayMs });
  }

  /** Loads every pending call now, due or not, and resolves once they are in BigQuery (or the load failed). */
  async flush(): Promise<WarehouseStats> {
    await this.round(true);
    return this.stats();
  }

  stats(): WarehouseStats {
    const c = this.counters;
    return {
      pending: this.pending.length,
      loaded: c.loaded,
      rows: { ...c.rows },
      missingColumns: [...c.missingColumns].sort(),
      droppedValues: c.droppedValues,
      failedLoads: c.failedLoads,
      lastError: c.lastError,
      delayMs: this.delayMs,
      intervalMs: this.intervalMs,
      eventTables: this.eventTables,
    };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private schedule(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => void this.round(false), this.intervalMs);
    this.timer.unref();
  }

  /** One load round; rounds never overlap, so a flush waits for the round in progress. */
  private round(all: boolean): Promise<void> {
    const next = this.running.then(() => this.load(all));
    this.running = next.catch(() => undefined);
    return next;
  }

  private async load(all: boolean): Promise<void> {
    const now = this.now().getTime();
    const due = all ? this.pending.splice(0) : takeDue(this.pending, now);
    if (due.length === 0) return;
    const loadedAt = this.now();
    const byTable = new Map<string, WarehouseRow[]>();
    for (const { call } of due) {
      for (const { table, row } of warehouseRows(call, loadedAt, { eventTables: this.eventTables }) as TableRow[]) {
        const list = byTable.get(table) ?? [];
        list.push(row);
        byTable.set(table, list);
      }
    }
    try {
      for (const [table, rows] of byTable) {
        const schema = await this.ensureColumns(table, rows);
        const lines = rows.map((row) => JSON.stringify(this.fit(row, schema)));
        await loadNdjson(this.opts, table, lines.join('\n'));
        this.counters.rows[table] = (this.counters.rows[table] ?? 0) + rows.length;
      }
      this.counters.loaded += due.length;
    } catch (err) {
      // Tables loaded before the failure get their rows again on the retry: Segment's warehouses hold duplicate ids too.
      this.counters.failedLoads += 1;
      this.counters.lastError = (err as Error).message;
      this.pending.unshift(...due);
      this.log.warn({ err: (err as Error).message, calls: due.length }, 'loading received calls into the BigQuery emulator failed; retrying next round');
    }
  }

  private fit(row: WarehouseRow, schema: Map<string, WarehouseColumnType>): WarehouseRow {
    const out: WarehouseRow = {};
    for (const [column, value] of Object.entries(row)) {
      const type = schema.get(column);
      const cast = type === undefined ? undefined : castCell(value, type);
      if (cast === undefined) this.counters.droppedValues += 1;
      else out[column] = cast;
    }
    return out;
  }

  /**
   * The table's schema; a table that does not exist yet is created with a column for every value of
   * these rows. goccy/bigquery-emulator cannot add a column to an existing table (tables.patch and
   * ALTER TABLE change only its metadata), so a value for a column the table lacks is left out and
   * the column is listed in the stats, where Segment would have widened the table.
   */
  private async ensureColumns(table: string, rows: WarehouseRow[]): Promise<Map<string, WarehouseColumnType>> {
    const known = this.schemas.get(table) ?? (await this.readSchema(table));
    if (known) {
      for (const row of rows) for (const column of Object.keys(row)) if (!known.has(column)) this.counters.missingColumns.add(`${table}.${column}`);
      this.schemas.set(table, known);
      return known;
    }
    const schema = new Map(baseColumns(table).map((c) => [c.name, c.type]));
    for (const row of rows) for (const [column, value] of Object.entries(row)) if (!schema.has(column)) schema.set(column, inferType(value));
    const created = await this.createTable(table, [...schema].map(([name, type]) => ({ name, type, mode: 'NULLABLE' })));
    // Someone else created it meanwhile: its own schema is the one rows must fit.
    const actual = created ? schema : ((await this.readSchema(table)) ?? schema);
    this.schemas.set(table, actual);
    return actual;
  }

  private tableUrl(table?: string): string {
    const base = `${this.opts.url}/bigquery/v2/projects/${this.opts.projectId}/datasets/${this.opts.dataset}/tables`;
    return table === undefined ? base : `${base}/${encodeURIComponent(table)}`;
  }

  private async readSchema(table: string): Promise<Map<string, WarehouseColumnType> | undefined> {
    const res = await fetch(this.tableUrl(table));
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    if (!res.ok) throw new Error(`BigQuery emulator: reading the schema of ${table} failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    const body = (await res.json()) as { schema?: { fields?: ApiField[] } };
    return new Map((body.schema?.fields ?? []).map((f) => [f.name, BQ_TYPE[f.type.toUpperCase()] ?? 'STRING']));
  }

  /** False when the table already existed. */
  private async createTable(table: string, fields: ApiField[]): Promise<boolean> {
    const body = {
      tableReference: { projectId: this.opts.projectId, datasetId: this.opts.dataset, tableId: table },
      schema: { fields },
      timePartitioning: { type: 'DAY', field: 'timestamp' },
    };
    const res = await fetch(this.tableUrl(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok && res.status !== 409) throw new Error(`BigQuery emulator: creating table ${table} failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    await res.arrayBuffer().catch(() => undefined);
    return res.ok;
  }
}

/** Removes and returns the due entries, keeping the others in order (the delay may have changed between them). */
function takeDue<T extends { dueAt: number }>(pending: T[], now: number): T[] {
  const due: T[] = [];
  const rest: T[] = [];
  for (const p of pending) (p.dueAt <= now ? due : rest).push(p);
  pending.splice(0, pending.length, ...rest);
  return due;
}
