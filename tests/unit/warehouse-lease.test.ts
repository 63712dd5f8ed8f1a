import { describe, expect, it } from 'vitest';
import type { WarehouseConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { WarehouseInUseError, type Warehouse } from '../../connectors/warehouse';
import { openWarehouseWhenFree } from '../../workers/warehouse-lease';

const config: WarehouseConfig = { kind: 'duckdb', path: '/data/warehouse.duckdb' };
const warehouse = { close: async () => {} } as unknown as Warehouse;
const inUse = () => new WarehouseInUseError('/data/warehouse.duckdb', 'The DuckDB warehouse /data/warehouse.duckdb is in use by another process');

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger({ level: 'info' });
  for (const level of ['info', 'warn'] as const)
    (log as unknown as Record<string, unknown>)[level] = (_obj: unknown, msg: string) => void lines.push({ level, msg });
  return { log, lines };
}

describe('openWarehouseWhenFree', () => {
  it('opens at once when the file is free, saying nothing', async () => {
    const { log, lines } = recordingLog();
    await expect(openWarehouseWhenFree(config, log, { open: async () => warehouse })).resolves.toBe(warehouse);
    expect(lines).toEqual([]);
  });

  it('waits as a standby while another process holds the file, says so once, then takes over', async () => {
    const { log, lines } = recordingLog();
    let tries = 0;
    const open = async () => {
      if (++tries < 4) throw inUse();
      return warehouse;
    };
    await expect(openWarehouseWhenFree(config, log, { open, retryMs: 5 })).resolves.toBe(warehouse);
    expect(tries).toBe(4);
    expect(lines.map((l) => l.level)).toEqual(['warn', 'info']);
    expect(lines[0].msg).toMatch(/^standby: another worker holds the DuckDB warehouse/);
    expect(lines[1].msg).toMatch(/takes over the flows/);
  });

  it('repeats the standby message every logEveryMs while it waits', async () => {
    const { log, lines } = recordingLog();
    let tries = 0;
    const open = async () => {
      if (++tries < 6) throw inUse();
      await new Promise((r) => setTimeout(r, 0));
      return warehouse;
    };
    await openWarehouseWhenFree(config, log, { open, retryMs: 10, logEveryMs: 15 });
    expect(lines.filter((l) => l.level === 'warn').length).toBeGreaterThanOrEqual(2);
  });

  it('ends the wait with undefined on a shutdown signal, without opening anything', async () => {
    const { log } = recordingLog();
    const stop = new AbortController();
    let tries = 0;
    const waiting = openWarehouseWhenFree(config, log, {
      open: async () => {
        tries++;
        throw inUse();
      },
      retryMs: 60_000,
      signal: stop.signal,
    });
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(tries).toBe(1);
  });

  it('fails at once on any other error (a wrong path is not a busy file)', async () => {
    const { log } = recordingLog();
    const open = async () => {
      throw new Error('Cannot open the DuckDB warehouse /nope/x.duckdb: IO Error');
    };
    await expect(openWarehouseWhenFree(config, log, { open, retryMs: 1 })).rejects.toThrow(/Cannot open the DuckDB warehouse/);
  });
});
