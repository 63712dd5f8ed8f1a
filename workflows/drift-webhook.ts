import { defineSignal, setHandler, workflowInfo } from '@temporalio/workflow';
import type { DriftTargets } from '../mappings/drift-records';
import { activities, type SyncActivityOverrides } from './sync-stream';

/**
 * The fast path of Drift webhooks: what the webhook names (a conversation, a contact, a meeting, a
 * playbook goal) is read from Drift now and pushed through the same page pipeline as the poll, as a
 * targeted read that leaves the streams' cursors alone. One workflow per Drift entity (the webhook
 * handler picks the id), fed by signal-with-start: a burst of events for one conversation, or a
 * duplicate delivery, joins the run in progress instead of starting another. Nothing is counted
 * twice: silver versions and deterministic insert_ids make a re-read of the same state a no-op, and
 * the 5-minute poll stays the source of truth for anything a webhook missed.
 */

export const driftWebhookSignal = defineSignal<[DriftTargets]>('driftWebhookEvent');

export interface DriftWebhookInput {
  activityOverrides?: SyncActivityOverrides;
}

export interface DriftWebhookSummary {
  batches: number;
  read: number;
  sent: number;
  written: number;
}

/** Streams in dependency order: contacts first, so the events find the visitor's email. */
function streamsFor(t: DriftTargets): string[] {
  const streams: string[] = [];
  const conversations = (t.conversationIds?.length ?? 0) > 0;
  if (conversations || (t.contactIds?.length ?? 0) > 0) streams.push('drift_contacts');
  if (conversations) streams.push('drift_conversations', 'drift_messages');
  if ((t.meetings?.length ?? 0) > 0) streams.push('drift_meetings');
  if ((t.goals?.length ?? 0) > 0) streams.push('drift_playbook_goals');
  return streams;
}

function merge(all: DriftTargets[]): DriftTargets {
  const uniq = <T>(xs: T[], key: (x: T) => string) => [...new Map(xs.map((x) => [key(x), x])).values()];
  return {
    conversationIds: uniq(all.flatMap((t) => t.conversationIds ?? []), String),
    contactIds: uniq(all.flatMap((t) => t.contactIds ?? []), String),
    meetings: uniq(all.flatMap((t) => t.meetings ?? []), (m) => m.eventId),
    goals: uniq(all.flatMap((t) => t.goals ?? []), (g) => String(g.id)),
  };
}

export async function driftWebhookWorkflow(input: DriftWebhookInput = {}): Promise<DriftWebhookSummary> {
  const pending: DriftTargets[] = [];
  setHandler(driftWebhookSignal, (targets) => {
    pending.push(targets);
  });
  const { syncStreamPage } = activities(input.activityOverrides);
  const summary: DriftWebhookSummary = { batches: 0, read: 0, sent: 0, written: 0 };
  // Signals that arrive while a batch is read are taken by the next batch; the run ends once none wait.
  while (pending.length > 0) {
    const targets = merge(pending.splice(0));
    const runId = `${workflowInfo().workflowId}/${workflowInfo().runId}/${summary.batches}`;
    for (const stream of streamsFor(targets)) {
      const page = await syncStreamPage({ stream, runId, cursor: targets, mode: 'targeted', page: summary.batches });
      summary.read += page.read;
      summary.sent += page.sent;
      summary.written += page.written;
    }
    summary.batches++;
  }
  return summary;
}
