import { z } from 'zod';

/**
 * A problem as the flows report it: a stable key (one alert per key until it recovers), the scope
 * that owns the key (a reconcile of a scope resolves its keys that are no longer reported), and
 * what an operator needs to act: what failed and a link to the run.
 */
export const problemSchema = z.object({
  /** Stable across runs, e.g. `sync_failed:salesforce_contact`. */
  key: z.string().min(1).max(300),
  title: z.string().min(1).max(300),
  detail: z.string().max(4000).optional(),
  /** Workflow whose run shows the problem; becomes a Temporal Web UI link. */
  workflowId: z.string().min(1).optional(),
  runId: z.string().min(1).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

export const reconcileInputSchema = z.object({
  /** E.g. `sync:salesforce_contact`, `checks`, `dead_letters`, `backfill`. */
  scope: z.string().min(1).max(200),
  /** Every problem of the scope that holds right now; an empty list means the scope is healthy. */
  problems: z.array(problemSchema),
});
export type ReconcileInput = z.infer<typeof reconcileInputSchema>;

/** One message to a channel: a new problem or a recovery. */
export interface AlertMessage {
  kind: 'alert' | 'recovery';
  key: string;
  title: string;
  detail?: string;
  /** When the problem was first seen. */
  since: Date;
  /** When this message is sent (recovery: when it was seen recovered). */
  at: Date;
  link?: string;
}

export type AlertFormat = 'teams' | 'slack';
