import fs from 'node:fs';

/**
 * What a benchmark needs to tell where the machine's time went: CPU seconds of any process (Linux
 * /proc, so the Go dev server counts too) and Prometheus text read back as numbers, with quantiles
 * estimated from the difference of two histogram scrapes.
 */

/**
 * CPU seconds (user + system) a process and the processes it started have used so far; NaN once it
 * is gone. Its children count because an entry point may run as a child of its own pid (the worker
 * relaunches itself under its heap cap, workers/heap-cap.ts).
 */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const own = ownCpuSeconds(pid);
  if (Number.isNaN(own)) return own;
  let total = own;
  for (const child of childrenOf(pid)) {
    const c = cpuSeconds(child);
    if (!Number.isNaN(c)) total += c;
  }
  return total;
}

function ownCpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Live children of a process, from every one of its threads (Linux /proc/<pid>/task/<tid>/children). */
function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
        } catch {
          return [];
        }
      });
  } catch {
    return [];
  }
}

/** CPU seconds the whole machine has been busy so far (every core, every process: /proc/stat). */
export function machineBusySeconds(): number {
  try {
    const [, ...ticks] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
    return (ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3] - ticks[4]) / 100;
  } catch {
    return NaN;
  }
}

/** Prometheus exposition text as `name{labels}` -> value (label order as exposed). */
export type Scrape = Map<string, number>;

export function parsePrometheus(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    const value = Number(line.slice(cut + 1));
    if (Number.isFinite(value) || line.endsWith('+Inf')) out.set(line.slice(0, cut), value);
  }
  return out;
}

export async function scrape(url: string): Promise<Scrape> {
  try {
    return parsePrometheus(await (await fetch(url)).text());
  } catch {
    return new Map();
  }
}

/** Sum of the series of `name` (every label set) in `after` minus `before`. */
export function delta(before: Scrape, after: Scrape, name: string): number {
  let sum = 0;
  for (const [key, v] of after) if (key === name || key.startsWith(`${name}{`)) sum += v - (before.get(key) ?? 0);
  return sum;
}

/**
 * Quantile of a histogram over the interval between two scrapes, interpolated within its bucket
 * (the usual Prometheus estimate; exact only to the bucket bounds). Label sets are summed.
 */
export function histogramQuantile(before: Scrape, after: Scrape, name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const [key, v] of after) {
    if (!key.startsWith(`${name}_bucket{`)) continue;
    const le = /le="([^"]+)"/.exec(key)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    buckets.set(bound, (buckets.get(bound) ?? 0) + v - (before.get(key) ?? 0));
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      return prevBound + ((bound - prevBound) * (rank - prevCount)) / Math.max(count - prevCount, 1e-9);
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}
