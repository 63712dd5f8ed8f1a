import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import readline from 'node:readline';
import path from 'node:path';
import { z } from 'zod';
import type { BronzeBatch, BronzeTableDef, DeadLetter, JsonValue, Row, SilverTableDef, Warehouse } from '../connectors/warehouse/types';
import type { BackfillCursor } from '../ports/backfill';
import { PermanentError } from '../lib/errors';

/**
 * A parallel backfill over a warehouse that only one worker writes (DuckDB): a lane's step reads and
 * sends on any worker and appends the warehouse writes it would make to a journal in the staging
 * directory (on the volume the workers share with the DuckDB file); the owner then replays the
 * journal, and only then does the lane's cursor move. Every write is idempotent (bronze batch ids,
 * silver merge on id, dead letter ids, a cursor set), so a journal replayed twice, or holding a page
 * twice after a retried attempt, adds nothing.
 */

/** The warehouse calls a backfill step makes. */
export type BackfillWarehouse = Pick<Warehouse, 'ensureSchema' | 'appendBronze' | 'mergeSilver' | 'writeDeadLetters' | 'setSyncState'>;

const opSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('ensureSchema'), tables: z.looseObject({}) }),
  z.object({ op: z.literal('appendBronze'), table: z.looseObject({ name: z.string() }), batch: z.looseObject({ batchId: z.string(), records: z.array(z.unknown()) }) }),
  z.object({ op: z.literal('mergeSilver'), table: z.looseObject({ name: z.string() }), rows: z.array(z.record(z.string(), z.unknown())) }),
  z.object({ op: z.literal('writeDeadLetters'), letters: z.array(z.looseObject({ id: z.string().optional() })) }),
  z.object({ op: z.literal('setSyncState'), stream: z.string(), cursor: z.unknown() }),
]);
type JournalOp = z.infer<typeof opSchema>;

/** The journal of one step of one lane: a retried or resumed attempt of the step appends to the same file. */
export function journalName(runId: string, lane: number, stepCursor: BackfillCursor): string {
  return `${createHash('sha256').update(JSON.stringify([runId, lane, stepCursor])).digest('hex').slice(0, 32)}.ndjson`;
}

const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));

/**
 * Creates the journal (empty) when the step starts, so that a step that wrote nothing (an empty
 * window) leaves a journal too, and a missing one always means the owner cannot see the directory.
 */
export async function openJournal(file: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.appendFile(file, '');
}

/** A stand-in warehouse that records each write durably (fsync) before the step counts its page as acknowledged. */
export function journalWarehouse(file: string): BackfillWarehouse {
  const append = async (op: { op: JournalOp['op'] } & Record<string, unknown>): Promise<void> => {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(file, 'a');
    try {
      // Each record starts on a new line: a record torn by a crash stays alone on its line and is skipped.
      await handle.appendFile(`\n${json(op)}`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  return {
    ensureSchema: async (tables) => append({ op: 'ensureSchema', tables: tables ?? {} }),
    appendBronze: async (table, batch) => {
      await append({ op: 'appendBronze', table, batch: { batchId: batch.batchId, records: batch.records } });
      return { inserted: batch.records.length, alreadyLoaded: false };
    },
    mergeSilver: async (table, rows) => {
      await append({ op: 'mergeSilver', table, rows });
      return { inserted: rows.length, updated: 0, unchanged: 0 };
    },
    writeDeadLetters: async (letters) => {
      await append({ op: 'writeDeadLetters', letters });
      return letters.length;
    },
    setSyncState: async (stream, cursor) => append({ op: 'setSyncState', stream, cursor }),
  };
}

/** Marks a replayed journal, so that a second replay (a retried store) is told apart from a journal that never reached this worker. */
const storedMark = (file: string) => `${file}.stored`;

/**
 * Replays a journal into the warehouse, in order, then removes it. A journal already replayed is a
 * no-op; one that is nowhere is an error naming the likely cause (workers not sharing the directory).
 */
export async function replayJournal(file: string, warehouse: BackfillWarehouse, ensured: Set<string>, progress: () => void = () => undefined): Promise<{ ops: number; alreadyStored: boolean }> {
  // Read a record at a time: a journal holds a step's pages (each twice: bronze and silver), which as one string would be a lane's memory many times over.
  let lines: readline.Interface;
  try {
    const handle = await fs.open(file, 'r');
    lines = readline.createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    if (await exists(storedMark(file))) return { ops: 0, alreadyStored: true };
    throw new PermanentError(
      'ConfigError',
      `The backfill journal ${file} is not on this worker. With a DuckDB warehouse every worker must see the same data directory (DATA_DIR, or DUCKDB_PATH's directory): ` +
        'put the workers on one host sharing that volume, or use Databricks.',
    );
  }
  let ops = 0;
  for await (const line of lines) {
    if (!line) continue;
    let parsed: JournalOp;
    try {
      parsed = opSchema.parse(JSON.parse(line));
    } catch {
      // A record torn by a crash of the attempt that wrote it: that attempt did not count its page, a later one wrote it again.
      continue;
    }
    await apply(parsed, warehouse, ensured);
    ops++;
    progress();
  }
  await fs.writeFile(storedMark(file), '');
  await fs.rm(file, { force: true });
  return { ops, alreadyStored: false };
}

async function apply(op: JournalOp, wh: BackfillWarehouse, ensured: Set<string>): Promise<void> {
  switch (op.op) {
    case 'ensureSchema': {
      const key = JSON.stringify(op.tables);
      if (ensured.has(key)) return;
      await wh.ensureSchema(op.tables as { bronze?: BronzeTableDef[]; silver?: SilverTableDef[] });
      ensured.add(key);
      return;
    }
    case 'appendBronze':
      await wh.appendBronze(op.table as unknown as BronzeTableDef, op.batch as unknown as BronzeBatch);
      return;
    case 'mergeSilver':
      await wh.mergeSilver(op.table as unknown as SilverTableDef, op.rows as Row[]);
      return;
    case 'writeDeadLetters':
      await wh.writeDeadLetters(op.letters as unknown as DeadLetter[]);
      return;
    case 'setSyncState':
      await wh.setSyncState(op.stream, op.cursor as JsonValue);
      return;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Drops the marks of journals replayed more than `maxAgeMs` ago (a store is retried within minutes). */
export async function pruneStoredMarks(dir: string, maxAgeMs = 24 * 3_600_000, now = Date.now()): Promise<void> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.endsWith('.stored')) continue;
    const file = path.join(dir, name);
    const stat = await fs.stat(file).catch(() => undefined);
    if (stat && now - stat.mtimeMs > maxAgeMs) await fs.rm(file, { force: true });
  }
}
