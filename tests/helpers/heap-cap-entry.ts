import v8 from 'node:v8';
import { relaunchUnderHeapCap } from '../../workers/heap-cap';

/** An entry point started like the worker, for tests/unit/heap-cap.test.ts: says its heap limit, pid and DuckDB allocator setting, and with WAIT set drains on SIGTERM. */
if (!relaunchUnderHeapCap(Number(process.env.CAP_MB))) {
  // The handler goes in before the line the test waits for: on a busy machine the test's SIGTERM can
  // arrive between the two, and would then kill this process outright (exit 143, not 3).
  if (process.env.WAIT) {
    const keepAlive = setInterval(() => undefined, 1000);
    process.once('SIGTERM', () => {
      clearInterval(keepAlive);
      process.stdout.write('drained\n');
      process.exitCode = 3;
    });
  }
  process.stdout.write(`limit ${Math.round(v8.getHeapStatistics().heap_size_limit / 1048576)} pid ${process.pid}\n`);
  process.stdout.write(`allocator ${process.env.DUCKDB_JE_MALLOC_CONF ?? '(unset)'}\n`);
}
