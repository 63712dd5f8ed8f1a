import { describe, expect, it } from 'vitest';
import { exportTime, toExportEvent } from '../../sandbox/amplitude/export-format';
import { OutboundQueue, type AttemptOutcome } from '../../sandbox/amplitude/outbound-queue';
import type { IngestedEvent } from '../../sandbox/amplitude/types';

describe('Amplitude export event format', () => {
  it('writes times as UTC "YYYY-MM-DD HH:MM:SS.mmm"', () => {
    expect(exportTime(Date.UTC(2022, 1, 28, 20, 7, 1, 795))).toBe('2022-02-28 20:07:01.795');
  });

  it('carries the documented export fields, null where Amplitude has no value', () => {
    const ingested: IngestedEvent = {
      uuid: '0b1f4c1e-0000-4000-8000-000000000001',
      endpoint: 'httpapi',
      apiKey: 'k',
      event: { event_type: 'Opportunity Won', user_id: 'user-00001', time: Date.UTC(2026, 0, 2, 3, 4, 5, 6), insert_id: 'sf:1', event_properties: { amount: 10 }, platform: 'Salesforce', country: 'SG' },
      eventType: 'Opportunity Won',
      userId: 'user-00001',
      insertId: 'sf:1',
      amplitudeId: 100_000_001,
      eventTime: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      clientEventTime: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      serverReceivedTime: Date.UTC(2026, 0, 2, 3, 5, 0, 0),
      serverUploadTime: Date.UTC(2026, 0, 2, 3, 5, 0, 0),
      userPropertiesAfter: { plan: 'pro' },
    };
    const out = toExportEvent(ingested, Date.UTC(2026, 0, 2, 3, 5, 1, 0));
    expect(out).toMatchObject({
      uuid: ingested.uuid,
      $insert_id: 'sf:1',
      event_type: 'Opportunity Won',
      user_id: 'user-00001',
      device_id: null,
      amplitude_id: 100_000_001,
      session_id: -1,
      event_time: '2026-01-02 03:04:05.006',
      client_event_time: '2026-01-02 03:04:05.006',
      server_received_time: '2026-01-02 03:05:00.000',
      server_upload_time: '2026-01-02 03:05:00.000',
      processed_time: '2026-01-02 03:05:01.000',
      event_properties: { amount: 10 },
      user_properties: { plan: 'pro' },
      groups: {},
      platform: 'Salesforce',
      country: 'SG',
      city: null,
    });
    for (const field of ['uuid', '$insert_id', 'event_type', 'user_id', 'device_id', 'amplitude_id', 'session_id', 'event_id', 'event_time', 'client_event_time', 'client_upload_time', 'server_received_time', 'server_upload_time', 'processed_time', 'event_properties', 'user_properties', 'group_properties', 'groups', 'data', 'app', 'library', 'platform', 'os_name', 'os_version', 'version_name', 'device_type', 'device_family', 'language', 'country', 'region', 'city', 'dma', 'ip_address', 'location_lat', 'location_lng', 'paying']) {
      expect(out).toHaveProperty([field]);
    }
  });
});

describe('outbound delivery queue (event streaming, Drift webhooks)', () => {
  it('bounds concurrency, retries on the schedule, and flush() waits for the end', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const calls = new Map<number, number>();
    const queue = new OutboundQueue<number>({
      concurrency: 2,
      retryDelaysMs: [5, 5],
      attempt: async (n): Promise<AttemptOutcome> => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight -= 1;
        const tries = (calls.get(n) ?? 0) + 1;
        calls.set(n, tries);
        // Item 0 fails twice then succeeds; item 1 always fails; the rest succeed at once.
        if (n === 0) return tries < 3 ? { ok: false, status: 500 } : { ok: true, status: 200 };
        if (n === 1) return { ok: false, status: 400 };
        return { ok: true, status: 200 };
      },
    });
    for (let i = 0; i < 6; i++) queue.enqueue(i);
    await queue.flush(5_000);
    expect(maxInFlight).toBe(2);
    expect(queue.stats()).toEqual({ enqueued: 6, delivered: 5, failed: 1, pending: 0, attempts: 10 });
    expect(queue.failures).toEqual([{ item: 1, attempts: 3, lastStatus: 400, lastError: undefined }]);
  });

  it('flush() rejects when deliveries are still pending at its deadline', async () => {
    const queue = new OutboundQueue<number>({ concurrency: 1, retryDelaysMs: [60_000], attempt: async () => ({ ok: false, status: 503 }) });
    queue.enqueue(1);
    await expect(queue.flush(50)).rejects.toThrow(/still pending/);
    queue.close();
    expect(queue.stats().pending).toBe(0);
  });
});
