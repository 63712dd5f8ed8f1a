import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createLogger } from '../../config/logger';
import { runDemo } from '../../client/demo/run';
import type { DemoStack } from '../../client/demo/stack';
import { encryptionCodec } from '../../lib/codec/data-converter';
import { segmentRows } from '../../sandbox/seed/segment';
import { ENCRYPTED_ENCODING } from '../../lib/codec/encryption-codec';

/**
 * The whole demo (Salesforce and Drift syncs, Segment backfill, Amplitude webhook, organize) with payload
 * encryption on, a planted email and a planted secret: no raw history the Temporal API serves holds the
 * email (nor a Segment user the backfill carried), and no log line holds the email or the secret.
 */

const PLANTED_EMAIL = `planted.pii.${randomBytes(4).toString('hex')}@novade-test.example`;
const PLANTED_SECRET = `planted-webhook-secret-${randomBytes(8).toString('hex')}`;
const KEY_B64 = randomBytes(32).toString('base64');
const CODEC_KEYS = `privacy-test:${KEY_B64}`;

type RawHistory = { workflowId: string; workflowType: string; events: temporal.api.history.v1.IHistoryEvent[]; bytes: Buffer };

async function rawHistory(client: Client, workflowId: string, runId: string | undefined, workflowType: string): Promise<RawHistory> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    // The service's own answer, before any codec: what Temporal stores.
    const page = await client.connection.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId, runId }, nextPageToken });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return { workflowId, workflowType, events, bytes: Buffer.from(temporal.api.history.v1.History.encode({ events }).finish()) };
}

async function rawHistories(client: Client): Promise<RawHistory[]> {
  const out: RawHistory[] = [];
  for await (const wf of client.workflow.list()) out.push(await rawHistory(client, wf.workflowId, wf.runId, wf.type));
  return out;
}

const encoding = (p: Payload) => Buffer.from(p.metadata?.encoding ?? []).toString();

describe('privacy of a full demo run', () => {
  it('keeps planted personal data out of histories and planted secrets and emails out of logs', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', stream: { write: (s: string) => void lines.push(s) } });
    // Anything printed outside the logger counts too.
    const printed: string[] = [];
    const [out, err] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (printed.push(String(chunk)), out(chunk, ...rest))) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (printed.push(String(chunk)), err(chunk, ...rest))) as typeof process.stderr.write;

    let backfillEmail = '';
    const findings: { histories: RawHistory[]; control: boolean; decodedSignalHasEmail: boolean; decodedSegmentHasEmail: boolean; segmentStatus: number; amplitudeGotEmail: number } = {
      histories: [],
      control: false,
      decodedSignalHasEmail: false,
      decodedSegmentHasEmail: false,
      segmentStatus: 0,
      amplitudeGotEmail: 0,
    };
    let report;
    try {
      report = await runDemo({
        log,
        env: { TEMPORAL_CODEC_KEYS: CODEC_KEYS, WEBHOOK_SECRET: PLANTED_SECRET },
        onStack: async (stack: DemoStack) => {
          stack.sf.store.create('Contact', { FirstName: 'Planted', LastName: 'Person', Email: PLANTED_EMAIL });
          // A Segment user of the week the backfill reads.
          for (const row of segmentRows(stack.bq.seed, 'identifies')) {
            if (row.user_id && String(row.timestamp) >= '2024-01-01' && String(row.timestamp) < '2024-01-07') {
              backfillEmail = String(row.user_id);
              break;
            }
          }
        },
        beforeStop: async (stack: DemoStack) => {
          findings.amplitudeGotEmail = stack.amp.store.count({ userId: PLANTED_EMAIL.toLowerCase() });
          // A website call carrying the email: the Segment collection path is covered too (200 = in Temporal).
          const call = { type: 'identify', userId: 'planted-website-user', messageId: `planted-${randomBytes(4).toString('hex')}`, traits: { email: PLANTED_EMAIL } };
          const auth = `Basic ${Buffer.from(`${stack.websiteWriteKey}:`).toString('base64')}`;
          findings.segmentStatus = (await fetch(`${stack.webhook.url}/v1/identify`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(call) })).status;
          // The detector finds the email when a client without the codec writes it.
          const plain = new Client({ connection: stack.client.connection });
          const control = await plain.workflow.start('syncSourceWorkflow', { taskQueue: 'privacy-control-no-worker', workflowId: `privacy-control-${Date.now()}`, args: [{ planted: PLANTED_EMAIL }] });
          // Read by id: visibility may list the control a moment after it started.
          findings.control = (await rawHistory(stack.client, control.workflowId, control.firstExecutionRunId, 'syncSourceWorkflow')).bytes.includes(PLANTED_EMAIL);
          await control.terminate('privacy test control');
          findings.histories = (await rawHistories(stack.client)).filter((h) => h.workflowId !== control.workflowId);
          // The email did go through Temporal: a webhook signal decodes to it with the codec.
          const codec = encryptionCodec(stack.config.temporal.codec!);
          for (const h of findings.histories.filter((x) => x.workflowType === 'amplitudeIngestWorkflow' || x.workflowType === 'pushIngestWorkflow'))
            for (const e of h.events) {
              const payloads = e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? [];
              for (const p of await codec.decode(payloads as Payload[])) {
                const text = JSON.stringify(defaultPayloadConverter.fromPayload(p));
                if (h.workflowType === 'amplitudeIngestWorkflow' && text.includes(PLANTED_EMAIL.toLowerCase())) findings.decodedSignalHasEmail = true;
                if (h.workflowType === 'pushIngestWorkflow' && text.includes(PLANTED_EMAIL)) findings.decodedSegmentHasEmail = true;
              }
            }
        },
      });
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }

    expect(report.ok, JSON.stringify(report.flows.map((f) => [f.flow, f.problems]))).toBe(true);
    expect(findings.amplitudeGotEmail).toBeGreaterThan(0);
    expect(findings.control).toBe(true);
    expect(findings.decodedSignalHasEmail).toBe(true);
    expect(findings.segmentStatus).toBe(200);
    expect(findings.decodedSegmentHasEmail).toBe(true);
    expect(backfillEmail).toMatch(/@/);

    const types = new Set(findings.histories.map((h) => h.workflowType));
    for (const t of ['syncSourceWorkflow', 'amplitudeIngestWorkflow', 'pushIngestWorkflow', 'segmentBackfillWorkflow', 'organizeWorkflow']) expect(types).toContain(t);
    for (const h of findings.histories) {
      for (const needle of [PLANTED_EMAIL, PLANTED_EMAIL.toLowerCase(), backfillEmail, PLANTED_SECRET]) expect(h.bytes.includes(needle), `${h.workflowType} ${h.workflowId} holds ${needle}`).toBe(false);
      // Every input, signal and result payload is ciphertext.
      for (const e of h.events) {
        const payloads = [
          ...(e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
          ...(e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? []),
          ...(e.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
          ...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
          ...(e.workflowExecutionCompletedEventAttributes?.result?.payloads ?? []),
        ] as Payload[];
        for (const p of payloads) expect(encoding(p), `${h.workflowType} event ${e.eventId}`).toBe(ENCRYPTED_ENCODING);
      }
    }

    const text = [...lines, ...printed].join('');
    expect(lines.length).toBeGreaterThan(0);
    for (const needle of [PLANTED_SECRET, PLANTED_EMAIL, PLANTED_EMAIL.toLowerCase(), backfillEmail, KEY_B64]) expect(text.includes(needle), `a log line holds ${needle}`).toBe(false);
  }, 900_000);
});
