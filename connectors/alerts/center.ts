import type { Logger } from '../../config/logger';
import type { AlertState, Warehouse } from '../warehouse/types';
import { planReconcile } from './reconcile';
import type { AlertSender } from './sender';
import type { Problem, ReconcileInput } from './types';

export interface AlertCenterOptions {
  warehouse: Pick<Warehouse, 'listAlertStates' | 'saveAlertState'>;
  sender: AlertSender;
  log: Logger;
  /** Temporal Web UI base URL and namespace, for links to runs. */
  uiUrl: string;
  namespace: string;
  now?: () => Date;
}

export interface ReconcileOutcome {
  raised: string[];
  recovered: string[];
  ongoing: string[];
}

export interface ObservedProgress {
  /** The value did not change since this time (or it was first seen then). */
  unchangedSince: Date;
  changed: boolean;
}

/**
 * Alerts with durable deduplication: open problems live in ops.alert_state, so each problem is
 * posted once until it recovers, across runs, workers and restarts. The state row is written
 * before the message goes out and marked notified after, so a crash in between re-sends (at least
 * once) rather than losing the alert.
 */
export class AlertCenter {
  constructor(private readonly opts: AlertCenterOptions) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** Temporal Web UI link of a workflow run (or of the workflow's runs when the run is unknown). */
  linkOf(p: Pick<Problem, 'workflowId' | 'runId'>): string | undefined {
    if (!p.workflowId) return undefined;
    const base = `${this.opts.uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(this.opts.namespace)}/workflows`;
    if (p.runId) return `${base}/${encodeURIComponent(p.workflowId)}/${encodeURIComponent(p.runId)}/history`;
    return `${base}?query=${encodeURIComponent(`WorkflowId="${p.workflowId}"`)}`;
  }

  async reconcile(input: ReconcileInput): Promise<ReconcileOutcome> {
    const { warehouse, sender, log } = this.opts;
    const now = this.now();
    const plan = planReconcile(await warehouse.listAlertStates(input.scope), input.scope, input.problems, now, (p) => this.linkOf(p));
    for (const s of plan.raise) {
      await warehouse.saveAlertState(s);
      await sender.send({ kind: 'alert', key: s.key, title: s.title, detail: s.detail, since: s.since, at: now, link: s.link });
      await warehouse.saveAlertState({ ...s, notifiedAt: now });
    }
    for (const s of plan.ongoing) await warehouse.saveAlertState(s);
    for (const s of plan.recover) {
      if (s.notifiedAt) await sender.send({ kind: 'recovery', key: s.key, title: s.title, detail: s.detail, since: s.since, at: now, link: s.link });
      await warehouse.saveAlertState(s);
    }
    const outcome = { raised: plan.raise.map((s) => s.key), recovered: plan.recover.map((s) => s.key), ongoing: plan.ongoing.map((s) => s.key) };
    if (outcome.raised.length || outcome.recovered.length) log.info({ scope: input.scope, ...outcome, via: sender.target }, 'alerts reconciled');
    return outcome;
  }

  /**
   * Remembers a progress reading (e.g. a backfill's rowsRead) and answers since when it has not
   * changed: how a stall is told apart from slow progress across organize runs.
   */
  async observe(key: string, value: string, title: string): Promise<ObservedProgress> {
    const { warehouse } = this.opts;
    const now = this.now();
    const scope = 'progress';
    const prev = (await warehouse.listAlertStates(scope)).find((s) => s.key === key);
    const changed = !prev || prev.detail !== value;
    const state: AlertState = { key, scope, status: 'observed', title, detail: value, since: changed ? now : prev.since, lastSeen: now };
    await warehouse.saveAlertState(state);
    return { unchangedSince: state.since, changed };
  }
}
