/**
 * The batch ids a delivery workflow holds (workflows/segment-delivery.ts), kept compact: an ingest
 * batch id is `<workflowId>:<runId>:<n>` with n counting up within the run, so each run's ids are
 * stored as ranges of n. A destination down for hours leaves thousands of ids pending in a few ranges,
 * small enough to carry across continue-as-new. Plain data and pure functions: workflow state.
 */

/** Inclusive [from, to] ranges, sorted and disjoint. */
export type Ranges = [number, number][];

export interface RunIds {
  /** `<workflowId>:<runId>` of the ingest run. */
  prefix: string;
  /** Every n handed over (pending or delivered): a repeated handover is recognised. */
  seen: Ranges;
  pending: Ranges;
}

export interface BatchIdSet {
  /** Oldest first: deliveries follow the order batches were handed over. */
  runs: RunIds[];
}

export function emptyBatchIdSet(): BatchIdSet {
  return { runs: [] };
}

function split(id: string): { prefix: string; n: number } {
  const at = id.lastIndexOf(':');
  const n = at === -1 ? NaN : Number(id.slice(at + 1));
  // An id of another shape is a run of its own with a single member.
  return Number.isSafeInteger(n) && n >= 0 ? { prefix: id.slice(0, at), n } : { prefix: id, n: -1 };
}

const join = (prefix: string, n: number) => (n === -1 ? prefix : `${prefix}:${n}`);

export function rangesHas(r: Ranges, n: number): boolean {
  for (const [a, b] of r) {
    if (n < a) return false;
    if (n <= b) return true;
  }
  return false;
}

export function rangesAdd(r: Ranges, n: number): void {
  let i = 0;
  while (i < r.length && r[i][1] < n - 1) i++;
  if (i === r.length || r[i][0] > n + 1) {
    r.splice(i, 0, [n, n]);
    return;
  }
  if (n >= r[i][0] && n <= r[i][1]) return;
  if (n === r[i][0] - 1) r[i][0] = n;
  else r[i][1] = n;
  // Joined the next range?
  if (i + 1 < r.length && r[i][1] + 1 >= r[i + 1][0]) {
    r[i][1] = Math.max(r[i][1], r[i + 1][1]);
    r.splice(i + 1, 1);
  }
  // Or the previous one (when n extended r[i] downwards).
  if (i > 0 && r[i - 1][1] + 1 >= r[i][0]) {
    r[i - 1][1] = Math.max(r[i - 1][1], r[i][1]);
    r.splice(i, 1);
  }
}

export function rangesRemove(r: Ranges, n: number): void {
  const i = r.findIndex(([a, b]) => n >= a && n <= b);
  if (i === -1) return;
  const [a, b] = r[i];
  if (a === b) r.splice(i, 1);
  else if (n === a) r[i][0] = n + 1;
  else if (n === b) r[i][1] = n - 1;
  else r.splice(i, 1, [a, n - 1], [n + 1, b]);
}

export function rangesCount(r: Ranges): number {
  return r.reduce((sum, [a, b]) => sum + b - a + 1, 0);
}

/** Adds an id; false when it was handed over before (pending or delivered). */
export function addBatchId(set: BatchIdSet, id: string): boolean {
  const { prefix, n } = split(id);
  let run = set.runs.find((r) => r.prefix === prefix);
  if (!run) set.runs.push((run = { prefix, seen: [], pending: [] }));
  if (rangesHas(run.seen, n)) return false;
  rangesAdd(run.seen, n);
  rangesAdd(run.pending, n);
  return true;
}

/** Up to `max` pending ids, oldest run first, without removing them. */
export function takeBatchIds(set: BatchIdSet, max: number): string[] {
  const out: string[] = [];
  for (const run of set.runs)
    for (const [a, b] of run.pending)
      for (let n = a; n <= b; n++) {
        if (out.length >= max) return out;
        out.push(join(run.prefix, n));
      }
  return out;
}

export function markDelivered(set: BatchIdSet, ids: string[]): void {
  for (const id of ids) {
    const { prefix, n } = split(id);
    const run = set.runs.find((r) => r.prefix === prefix);
    if (run) rangesRemove(run.pending, n);
  }
}

export function pendingCount(set: BatchIdSet): number {
  return set.runs.reduce((sum, r) => sum + rangesCount(r.pending), 0);
}

/**
 * Forgets delivered runs beyond the newest `keep`: an ingest run hands over its batches within
 * minutes, so a repeat of a batch from a run that old cannot come any more (and would only be
 * delivered again, which the destinations deduplicate).
 */
export function pruneBatchIds(set: BatchIdSet, keep: number): void {
  let excess = set.runs.length - keep;
  if (excess <= 0) return;
  set.runs = set.runs.filter((r) => {
    if (excess > 0 && r.pending.length === 0) {
      excess--;
      return false;
    }
    return true;
  });
}
