/**
 * A benchmark scenario: one file in bench/scenarios/ default-exports one or an array of these.
 * `npm run bench [name ...]` runs each in its own process so that peak RSS is the scenario's own.
 */
export interface BenchResult {
  /** Records (rows, events, requests) the scenario processed. */
  records: number;
  /** Seconds of the measured part; defaults to the whole run() call. */
  seconds?: number;
  /** Peak RSS in MiB of a process other than this one (e.g. the worker), when that is what matters. */
  peakRssMiB?: number;
  /** Further figures for the table's notes column, e.g. { p99_ms: 12 }. */
  extra?: Record<string, string | number>;
}

export interface BenchScenario {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}
