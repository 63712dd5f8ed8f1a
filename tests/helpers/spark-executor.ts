import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { RawRow } from '../../connectors/warehouse/dialect';
import type { ExecuteOptions, SqlExecutor } from '../../connectors/warehouse/databricks/sql-executor';
import { SPARK_PYTHON } from './paths';

/**
 * Runs the Databricks adapter's SQL on local Spark 3.5 + Delta Lake (tests/helpers/spark_sql_server.py),
 * standing in for the @databricks/sql driver in the dialect tests. The JVM takes 20-60 s to start:
 * start one per test file.
 */

interface Reply {
  id?: number;
  ready?: boolean;
  version?: string;
  columns?: string[];
  types?: string[];
  rows?: unknown[][];
  error?: string;
  errorClass?: string | null;
}

export class SparkSqlError extends Error {
  constructor(
    message: string,
    readonly errorClass: string | null,
    readonly sql: string,
  ) {
    super(message);
    this.name = 'SparkSqlError';
  }
}

export function sparkAvailable(): boolean {
  return fs.existsSync(SPARK_PYTHON);
}

export class SparkExecutor implements SqlExecutor {
  /** Every statement run, in order: what the tests assert the adapter generates. */
  readonly statements: { sql: string; params?: Record<string, string> | readonly unknown[] }[] = [];
  private next = 1;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private exited?: Error;
  /** Lets a test fail the n-th statement from now (`failAt(0)`: the next one). */
  private failCountdown?: { left: number; match?: RegExp };

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly version: string,
  ) {}

  static async start(opts: { timeoutMs?: number } = {}): Promise<SparkExecutor> {
    if (!sparkAvailable())
      throw new Error(`Spark + Delta Lake is not installed at ${SPARK_PYTHON}: run \`npm run setup -- --for-tests\` (npm test does it) to run the Databricks dialect tests.`);
    const script = path.join(__dirname, 'spark_sql_server.py');
    const child = spawn(SPARK_PYTHON, [script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8000);
    });
    const lines = readline.createInterface({ input: child.stdout });
    const ready = await new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`Spark did not start within ${opts.timeoutMs ?? 150_000} ms. stderr:\n${stderr}`));
      }, opts.timeoutMs ?? 150_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`Spark exited with code ${code} while starting. stderr:\n${stderr}`));
      });
      const onLine = (line: string) => {
        if (!line.startsWith('{')) return;
        lines.off('line', onLine);
        clearTimeout(timer);
        resolve(JSON.parse(line) as Reply);
      };
      lines.on('line', onLine);
    });
    const executor = new SparkExecutor(child, ready.version ?? '?');
    child.removeAllListeners('exit');
    lines.on('line', (line) => executor.onLine(line));
    child.on('exit', (code) => {
      executor.exited = new Error(`Spark exited (code ${code}). stderr:\n${stderr}`);
      for (const p of executor.pending.values()) p.reject(executor.exited);
      executor.pending.clear();
    });
    return executor;
  }

  private onLine(line: string): void {
    if (!line.startsWith('{')) return;
    const reply = JSON.parse(line) as Reply;
    if (reply.id === undefined) return;
    const p = this.pending.get(reply.id);
    this.pending.delete(reply.id);
    p?.resolve(reply);
  }

  /** Makes the statement `after` statements from now (matching `match`, if given) fail, once. */
  failAfter(after: number, match?: RegExp): void {
    this.failCountdown = { left: after, match };
  }

  async execute(sql: string, params?: Record<string, string> | readonly unknown[], _opts?: ExecuteOptions): Promise<RawRow[]> {
    if (this.exited) throw this.exited;
    this.statements.push({ sql, params });
    const f = this.failCountdown;
    if (f && (!f.match || f.match.test(sql))) {
      if (f.left === 0) {
        this.failCountdown = undefined;
        throw new Error(`injected failure before: ${sql.slice(0, 80)}`);
      }
      f.left--;
    }
    const id = this.next++;
    const hasParams = Array.isArray(params) ? params.length > 0 : params !== undefined && Object.keys(params).length > 0;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${JSON.stringify({ id, sql, params: hasParams ? params : null })}\n`);
    });
    if (reply.error !== undefined) throw new SparkSqlError(reply.error, reply.errorClass ?? null, sql);
    const columns = reply.columns ?? [];
    const types = reply.types ?? [];
    return (reply.rows ?? []).map((cells) => {
      const row: RawRow = {};
      columns.forEach((c, i) => {
        const v = cells[i];
        row[c] = types[i] === 'timestamp' && typeof v === 'string' ? new Date(v) : v;
      });
      return row;
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    await gone;
    clearTimeout(timer);
  }
}
