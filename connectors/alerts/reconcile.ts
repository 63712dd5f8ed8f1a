import type { AlertState } from '../warehouse/types';
import type { Problem } from './types';

/**
 * Deduplication as a pure function of the stored state and what a scope reports now: a problem
 * already open is not alerted again, a new one is, and an open one no longer reported recovers.
 */
export interface ReconcilePlan {
  /** Problems to alert: new, or open but never notified (a previous attempt stopped before sending). */
  raise: AlertState[];
  /** Still open and already notified: only their last_seen / detail move. */
  ongoing: AlertState[];
  /** Open and no longer reported: send a recovery (when the alert had gone out) and close. */
  recover: AlertState[];
}

export function planReconcile(stored: readonly AlertState[], scope: string, problems: readonly Problem[], now: Date, linkOf: (p: Problem) => string | undefined): ReconcilePlan {
  const open = new Map(stored.filter((s) => s.scope === scope && s.status === 'open').map((s) => [s.key, s]));
  const reported = new Map<string, Problem>();
  for (const p of problems) reported.set(p.key, p);
  const plan: ReconcilePlan = { raise: [], ongoing: [], recover: [] };
  for (const p of reported.values()) {
    const prev = open.get(p.key);
    const link = linkOf(p) ?? prev?.link;
    const next: AlertState = {
      key: p.key,
      scope,
      status: 'open',
      title: p.title,
      since: prev?.since ?? now,
      lastSeen: now,
      ...(p.detail !== undefined ? { detail: p.detail } : prev?.detail !== undefined ? { detail: prev.detail } : {}),
      ...(link !== undefined ? { link } : {}),
      ...(prev?.notifiedAt ? { notifiedAt: prev.notifiedAt } : {}),
    };
    if (prev?.notifiedAt) plan.ongoing.push(next);
    else plan.raise.push(next);
  }
  for (const s of open.values()) if (!reported.has(s.key)) plan.recover.push({ ...s, status: 'resolved', resolvedAt: now, lastSeen: now });
  return plan;
}
