/**
 * The dual-tracking parity report, as pure computation: the same website calls as Segment's
 * warehouse holds them, as novade-sync collected them, and as Amplitude holds them, joined on the
 * Segment messageId (Amplitude's `insert_id` is `seg:<messageId>`), counted per day and event type.
 *
 * Every call is counted once, on one row: the day and event type of novade-sync's copy, else of
 * Segment's, else of Amplitude's. A call whose timestamp falls on another day on another side (an
 * event a second before midnight that Segment, receiving the forwarded copy later, dates after it)
 * is not "missing" there: it is counted on its row and listed as shifted across midnight.
 *
 * Per row: `segment`, `collected` (calls novade-sync received, blocked ones included), `blocked`
 * (refused by the tracking plan: in bronze and dead letters, deliberately not in Amplitude) and
 * `amplitude`; the calls missing on each side; and the verdict: a row is out of tolerance when the
 * calls missing on a side (Segment vs novade-sync, or novade-sync vs Amplitude) exceed `tolerance`
 * times the row's calls.
 *
 * Amplitude's event stream carries events, not identifies (user property updates go through its
 * separate user forwarding): `$identify` rows compare Segment with novade-sync only.
 */

export type ParitySide = 'segment' | 'collected' | 'amplitude';

/** One call as a side holds it. */
export interface ParityCall {
  /** Segment messageId. */
  id: string;
  /** Event time, ISO-8601 UTC: the side's own `timestamp` (Amplitude: event_time). */
  at: string;
  /** As Amplitude names it: the track's event column, `Viewed <page>`, `$identify`. */
  eventType: string;
}

export interface ParityInputs {
  segment: readonly ParityCall[];
  collected: readonly ParityCall[];
  amplitude: readonly ParityCall[];
  /** Calls novade-sync received and the tracking plan blocked (not in silver, not sent to Amplitude). */
  blocked: readonly ParityCall[];
}

export interface ParityOptions {
  /** First and last day reported, YYYY-MM-DD (UTC), both included. */
  from: string;
  to: string;
  /** 0.02 for 2%. */
  tolerance: number;
  /** How many messageIds each list of samples keeps. */
  samples?: number;
  /** Event types Amplitude's event stream never sends back (default `$identify`): not compared on the Amplitude side. */
  notStreamed?: readonly string[];
}

export const NOT_STREAMED_BY_AMPLITUDE: readonly string[] = ['$identify'];

export interface ParityRow {
  day: string;
  eventType: string;
  segment: number;
  collected: number;
  blocked: number;
  amplitude: number;
  /** Collected by novade-sync, not in Segment's warehouse. */
  missingInSegment: number;
  /** In Segment's warehouse, not collected by novade-sync. */
  missingInCollected: number;
  /** Collected and not blocked, not in Amplitude. */
  missingInAmplitude: number;
  /** In Amplitude under a seg: insert_id novade-sync never collected. */
  extraInAmplitude: number;
  shifted: number;
  /** False for event types Amplitude's stream does not send back: its columns say nothing then. */
  amplitudeCompared: boolean;
  /** The larger of the two comparisons' mismatched calls, as a share of the row's calls. */
  difference: number;
  verdict: 'ok' | 'out of tolerance';
}

export interface MissingSample {
  messageId: string;
  day: string;
  eventType: string;
}

export interface ShiftedSample {
  messageId: string;
  eventType: string;
  /** The day each side holding the call dates it. */
  days: Partial<Record<ParitySide, string>>;
}

export interface ParityDay {
  day: string;
  /** The three counts: calls of the event types Amplitude streams back (identifies are in the rows only). */
  segment: number;
  collected: number;
  amplitude: number;
  missingInSegment: number;
  missingInCollected: number;
  /** Missing in Amplitude plus only in Amplitude: the Amplitude comparison's mismatches. */
  amplitudeMismatch: number;
  outOfTolerance: boolean;
}

export interface ParityTotals extends Omit<ParityRow, 'day' | 'eventType' | 'amplitudeCompared'> {
  calls: number;
  rows: number;
  rowsOutOfTolerance: number;
}

export interface ParityReport {
  from: string;
  to: string;
  tolerance: number;
  generatedAt: string;
  rows: ParityRow[];
  /** Per day, all event types together: what the charts draw. */
  days: ParityDay[];
  totals: ParityTotals;
  missing: Record<'segment' | 'collected' | 'amplitude' | 'extraInAmplitude', { count: number; samples: MissingSample[] }>;
  shifted: { count: number; samples: ShiftedSample[] };
}

export const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
/** Longest range one parity read covers; a longer one is read in parts and merged (each part's report is one Temporal payload). */
export const PARITY_MAX_DAYS = 31;
const DAY_MS = 86_400_000;

export function dayOf(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`not a timestamp: ${JSON.stringify(iso)}`);
  return new Date(t).toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

interface Joined {
  day: string;
  eventType: string;
  segment?: string;
  collected?: string;
  amplitude?: string;
  blocked: boolean;
}

/** The calls of all sides by messageId, each with its reference day and type. */
function join(inputs: ParityInputs): Map<string, Joined> {
  const byId = new Map<string, Joined>();
  const add = (side: ParitySide | 'blocked', calls: readonly ParityCall[]) => {
    for (const c of calls) {
      const day = dayOf(c.at);
      let j = byId.get(c.id);
      if (!j) byId.set(c.id, (j = { day, eventType: c.eventType, blocked: false }));
      if (side === 'blocked') j.blocked = true;
      else j[side] ??= day;
    }
  };
  // Reference order: novade-sync's copy first, then the blocked calls it kept in bronze, Segment's, Amplitude's.
  add('collected', inputs.collected);
  add('blocked', inputs.blocked);
  add('segment', inputs.segment);
  add('amplitude', inputs.amplitude);
  return byId;
}

const emptyCounts = () => ({ segment: 0, collected: 0, blocked: 0, amplitude: 0, missingInSegment: 0, missingInCollected: 0, missingInAmplitude: 0, extraInAmplitude: 0, shifted: 0 });
type Counts = ReturnType<typeof emptyCounts>;

function judge(c: Counts, tolerance: number): { difference: number; verdict: ParityRow['verdict'] } {
  const calls = Math.max(c.segment, c.collected, 1);
  const difference = Math.max(c.missingInSegment + c.missingInCollected, c.missingInAmplitude + c.extraInAmplitude) / calls;
  // A float sum such as 0.02 + 1e-17 must not turn a row at exactly the tolerance into a failure.
  return { difference, verdict: difference <= tolerance + 1e-12 ? 'ok' : 'out of tolerance' };
}

export function computeParity(inputs: ParityInputs, opts: ParityOptions): ParityReport {
  if (!DAY_RE.test(opts.from) || !DAY_RE.test(opts.to)) throw new Error('from and to are days, YYYY-MM-DD');
  const keep = opts.samples ?? 20;
  const notStreamed = new Set(opts.notStreamed ?? NOT_STREAMED_BY_AMPLITUDE);
  const rows = new Map<string, Counts & { day: string; eventType: string; amplitudeCompared: boolean }>();
  const missing: ParityReport['missing'] = {
    segment: { count: 0, samples: [] },
    collected: { count: 0, samples: [] },
    amplitude: { count: 0, samples: [] },
    extraInAmplitude: { count: 0, samples: [] },
  };
  const shifted: ParityReport['shifted'] = { count: 0, samples: [] };
  const note = (list: { count: number; samples: MissingSample[] }, id: string, j: Joined) => {
    list.count++;
    if (list.samples.length < keep) list.samples.push({ messageId: id, day: j.day, eventType: j.eventType });
  };

  for (const [id, j] of join(inputs)) {
    if (j.day < opts.from || j.day > opts.to) continue;
    const key = `${j.day}\u0000${j.eventType}`;
    let r = rows.get(key);
    const compared = !notStreamed.has(j.eventType);
    if (!r) rows.set(key, (r = { day: j.day, eventType: j.eventType, amplitudeCompared: compared, ...emptyCounts() }));
    const collected = j.collected !== undefined || j.blocked;
    if (j.segment !== undefined) r.segment++;
    if (collected) r.collected++;
    if (j.blocked) r.blocked++;
    if (j.amplitude !== undefined) r.amplitude++;
    if (collected && j.segment === undefined) {
      r.missingInSegment++;
      note(missing.segment, id, j);
    }
    if (!collected && j.segment !== undefined) {
      r.missingInCollected++;
      note(missing.collected, id, j);
    }
    if (compared && collected && !j.blocked && j.amplitude === undefined) {
      r.missingInAmplitude++;
      note(missing.amplitude, id, j);
    }
    if (compared && !collected && j.amplitude !== undefined) {
      r.extraInAmplitude++;
      note(missing.extraInAmplitude, id, j);
    }
    const days = { segment: j.segment, collected: j.collected, amplitude: j.amplitude };
    const seen = Object.values(days).filter((d): d is string => d !== undefined);
    if (seen.some((d) => d !== seen[0])) {
      r.shifted++;
      shifted.count++;
      if (shifted.samples.length < keep)
        shifted.samples.push({ messageId: id, eventType: j.eventType, days: Object.fromEntries(Object.entries(days).filter(([, d]) => d !== undefined)) });
    }
  }

  const out: ParityRow[] = [...rows.values()]
    .sort((a, b) => (a.day === b.day ? a.eventType.localeCompare(b.eventType) : a.day < b.day ? -1 : 1))
    .map((r) => ({ ...r, ...judge(r, opts.tolerance) }));
  const totals = out.reduce<Counts>((t, r) => {
    for (const k of Object.keys(t) as (keyof Counts)[]) t[k] += r[k];
    return t;
  }, emptyCounts());
  const callsOf = (r: ParityRow) => Math.max(r.segment, r.collected, r.amplitudeCompared ? r.amplitude : 0);
  const days = daysBetween(opts.from, opts.to).map((day) => {
    const of = out.filter((r) => r.day === day);
    const sum = (f: (r: ParityRow) => number, rows = of) => rows.reduce((n, r) => n + f(r), 0);
    // The three lines count what all three sides hold: the types Amplitude streams back.
    const shared = of.filter((r) => r.amplitudeCompared);
    return {
      day,
      segment: sum((r) => r.segment, shared),
      collected: sum((r) => r.collected, shared),
      amplitude: sum((r) => r.amplitude, shared),
      missingInSegment: sum((r) => r.missingInSegment),
      missingInCollected: sum((r) => r.missingInCollected),
      amplitudeMismatch: sum((r) => r.missingInAmplitude + r.extraInAmplitude),
      outOfTolerance: of.some((r) => r.verdict !== 'ok'),
    };
  });
  return {
    from: opts.from,
    to: opts.to,
    tolerance: opts.tolerance,
    generatedAt: new Date().toISOString(),
    rows: out,
    days,
    totals: { ...totals, ...judge(totals, opts.tolerance), calls: out.reduce((n, r) => n + callsOf(r), 0), rows: out.length, rowsOutOfTolerance: out.filter((r) => r.verdict !== 'ok').length },
    missing,
    shifted,
  };
}

/**
 * Merges the reports of consecutive windows (a long range is computed a week at a time to bound
 * memory). Each call belongs to exactly one window (its reference day), so rows never overlap.
 */
export function mergeParity(parts: ParityReport[], opts: ParityOptions): ParityReport {
  const keep = opts.samples ?? 20;
  const rows = parts.flatMap((p) => p.rows);
  const sum = (k: keyof ParityTotals) => rows.reduce((n, r) => n + (r[k as keyof ParityRow] as number), 0);
  const counts = emptyCounts();
  for (const k of Object.keys(counts) as (keyof Counts)[]) counts[k] = sum(k);
  const list = (k: keyof ParityReport['missing']) => ({ count: parts.reduce((n, p) => n + p.missing[k].count, 0), samples: parts.flatMap((p) => p.missing[k].samples).slice(0, keep) });
  return {
    from: opts.from,
    to: opts.to,
    tolerance: opts.tolerance,
    generatedAt: new Date().toISOString(),
    rows,
    days: parts.flatMap((p) => p.days),
    totals: { ...counts, ...judge(counts, opts.tolerance), calls: rows.reduce((n, r) => n + Math.max(r.segment, r.collected, r.amplitudeCompared ? r.amplitude : 0), 0), rows: rows.length, rowsOutOfTolerance: rows.filter((r) => r.verdict !== 'ok').length },
    missing: { segment: list('segment'), collected: list('collected'), amplitude: list('amplitude'), extraInAmplitude: list('extraInAmplitude') },
    shifted: { count: parts.reduce((n, p) => n + p.shifted.count, 0), samples: parts.flatMap((p) => p.shifted.samples).slice(0, keep) },
  };
}
