import { afterEach, describe, expect, it } from 'vitest';
import { createWarehouse, type Warehouse } from '../../connectors/warehouse';

describe('DuckDB threads setting', () => {
  let wh: Warehouse | undefined;
  afterEach(async () => {
    await wh?.close();
    wh = undefined;
  });

  it('opens DuckDB with the configured thread count', async () => {
    wh = await createWarehouse({ kind: 'duckdb', path: ':memory:', threads: 1 });
    const [row] = await wh.query<{ t: string | number }>("SELECT current_setting('threads') AS t");
    expect(Number(row.t)).toBe(1);
  });

  it('leaves DuckDB its own default (every core) when none is configured', async () => {
    wh = await createWarehouse({ kind: 'duckdb', path: ':memory:' });
    const [row] = await wh.query<{ t: string | number }>("SELECT current_setting('threads') AS t");
    expect(Number(row.t)).toBeGreaterThanOrEqual(1);
    expect(Number(row.t)).toBe((await import('node:os')).availableParallelism());
  });
});
