import type { Problem } from '../connectors/alerts/types';
import type { DraftStats } from '../tracking/draft';
import type { ParityReport } from '../tracking/parity';

/** What crosses the workflow/activity boundary of the tracking plan's flows: small summaries. */

export interface DraftInput {
  from: string;
  to: string;
  perSubject?: number;
}

export interface ViolationsInput {
  /** Violations of calls received within the last this many seconds. */
  sinceSeconds: number;
  limit?: number;
}

/** ops.tracking_violations per (event, type, path), dates as ISO text. */
export interface ViolationSummaryRow {
  event: string;
  callType: string;
  type: string;
  path: string;
  count: number;
  calls: number;
  blocked: number;
  firstSeen: string;
  lastSeen: string;
  sample: string | null;
  detail: string | null;
}

export interface ViolationsReport {
  since: string;
  rows: ViolationSummaryRow[];
}

export interface ParityInput {
  from: string;
  to: string;
  /** 0.02 for 2%. */
  tolerance: number;
  samples?: number;
}

export interface RecentViolations {
  windowSeconds: number;
  /** One per (event, violation type): what organize alerts on. */
  problems: Problem[];
  /** Calls with a violation per (event, type), for the organize summary. */
  byEventType: { event: string; type: string; calls: number; blocked: number }[];
}

export type DailyParityResult =
  | { ran: false; reason: string }
  | { ran: true; from: string; to: string; rowsOutOfTolerance: number; rows: number; missing: Record<'segment' | 'collected' | 'amplitude' | 'extraInAmplitude', number>; problems: Problem[] };

export interface TrackingActivities {
  draftTrackingPlan(input: DraftInput): Promise<DraftStats>;
  trackingViolations(input: ViolationsInput): Promise<ViolationsReport>;
  trackingParity(input: ParityInput): Promise<ParityReport>;
  /** Organize: the violations of the last TRACKING_VIOLATIONS_WINDOW as problems, and the metrics. */
  recentTrackingViolations(): Promise<RecentViolations>;
  /** Organize: the parity of the days due since the last run (TRACKING_PARITY_DAILY), once each. */
  dailyTrackingParity(): Promise<DailyParityResult>;
}
