import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertSender, alertPayload, planReconcile, type AlertMessage } from '../../connectors/alerts';
import { createLogger } from '../../config/logger';
import { PermanentError, TransientError } from '../../lib/errors';
import type { AlertState } from '../../connectors/warehouse/types';

const since = new Date('2026-11-24T08:00:00.000Z');
const at = new Date('2026-11-24T09:30:00.000Z');
const alert: AlertMessage = {
  kind: 'alert',
  key: 'sync_failed:salesforce',
  title: 'salesforce sync failed after its retries (salesforce_contact)',
  detail: 'salesforce_contact: INVALID_SESSION_ID <expired> & more',
  since,
  at,
  link: 'http://localhost:8233/namespaces/default/workflows/salesforce-sync/abc/history',
};

describe('alert formats', () => {
  it('Teams: an Adaptive Card in a message envelope, with what failed, since when and a link to the run', () => {
    const p = alertPayload('teams', alert) as { type: string; attachments: { contentType: string; content: Record<string, unknown> }[] };
    expect(p.type).toBe('message');
    expect(p.attachments).toHaveLength(1);
    expect(p.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = p.attachments[0].content as { type: string; version: string; body: { type: string; text?: string; facts?: { title: string; value: string }[] }[]; actions: { type: string; url: string }[] };
    expect(card.type).toBe('AdaptiveCard');
    const text = JSON.stringify(card.body);
    expect(text).toContain(alert.title);
    expect(text).toContain('Failing since 2026-11-24T08:00:00.000Z');
    expect(text).toContain('INVALID_SESSION_ID');
    expect(card.body.find((b) => b.type === 'FactSet')?.facts).toContainEqual({ title: 'Problem', value: 'sync_failed:salesforce' });
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open the run in Temporal', url: alert.link }]);
  });

  it('Teams recovery says how long it was failing; no link, no action', () => {
    const p = alertPayload('teams', { ...alert, kind: 'recovery', link: undefined }) as { attachments: { content: Record<string, unknown> }[] };
    const text = JSON.stringify(p.attachments[0].content);
    expect(text).toContain('Recovered: ');
    expect(text).toContain('Was failing from 2026-11-24T08:00:00.000Z to 2026-11-24T09:30:00.000Z (90 min)');
    expect(p.attachments[0].content).not.toHaveProperty('actions');
  });

  it('Slack: Block Kit with a text fallback, escaped mrkdwn, a header under 150 characters and a button to the run', () => {
    const long = { ...alert, title: 'x'.repeat(300) };
    const p = alertPayload('slack', long) as { text: string; blocks: { type: string; text?: { text: string }; elements?: { url?: string; text?: unknown }[] }[] };
    expect(p.text).toContain('Failing since 2026-11-24T08:00:00.000Z');
    expect(p.text).toContain(alert.link);
    const header = p.blocks.find((b) => b.type === 'header')!;
    expect(header.text!.text.length).toBeLessThanOrEqual(150);
    expect(JSON.stringify(p.blocks)).toContain('&lt;expired&gt; &amp; more');
    expect(p.blocks.find((b) => b.type === 'actions')!.elements![0].url).toBe(alert.link);
  });
});

describe('planReconcile (deduplication)', () => {
  const open = (key: string, notified = true): AlertState => ({ key, scope: 's', status: 'open', title: key, since, lastSeen: since, ...(notified ? { notifiedAt: since } : {}) });
  const p = (key: string) => ({ key, title: `t ${key}` });

  it('raises new problems once, keeps open ones quiet, recovers the ones that went away', () => {
    const plan = planReconcile([open('a'), open('b'), { ...open('c'), scope: 'other' }], 's', [p('b'), p('d')], at, () => undefined);
    expect(plan.raise.map((s) => s.key)).toEqual(['d']);
    expect(plan.raise[0]).toMatchObject({ status: 'open', since: at, lastSeen: at });
    expect(plan.ongoing.map((s) => [s.key, s.since, s.lastSeen])).toEqual([['b', since, at]]);
    // Another scope's open alert is not this reconcile's business.
    expect(plan.recover.map((s) => [s.key, s.status, s.resolvedAt])).toEqual([['a', 'resolved', at]]);
  });

  it('re-raises an open problem that was never notified (a crash between saving and sending)', () => {
    const plan = planReconcile([open('a', false)], 's', [p('a')], at, () => undefined);
    expect(plan.raise.map((s) => [s.key, s.since])).toEqual([['a', since]]);
  });

  it('a resolved problem that comes back is a new alert with a new since', () => {
    const plan = planReconcile([{ ...open('a'), status: 'resolved', resolvedAt: since }], 's', [p('a')], at, () => undefined);
    expect(plan.raise.map((s) => [s.key, s.since])).toEqual([['a', at]]);
  });
});

describe('AlertSender against a local webhook receiver', () => {
  let server: http.Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function receiver(answer: (n: number) => { status: number; headers?: Record<string, string> }) {
    const got: { body: unknown; type: string | undefined }[] = [];
    server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => {
        got.push({ body: JSON.parse(data), type: req.headers['content-type'] });
        const a = answer(got.length);
        res.writeHead(a.status, a.headers).end(a.status === 200 ? '1' : 'nope');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`, got };
  }
  const log = createLogger({ level: 'silent' });

  it('posts the chosen format as JSON', async () => {
    const r = await receiver(() => ({ status: 200 }));
    await new AlertSender({ url: r.url, format: 'slack', log }).send(alert);
    expect(r.got).toHaveLength(1);
    expect(r.got[0].type).toBe('application/json');
    expect(r.got[0].body).toEqual(alertPayload('slack', alert));
  });

  it('429 and 5xx are transient (honouring Retry-After); 4xx is a configuration error naming the settings', async () => {
    const r = await receiver((n) => (n === 1 ? { status: 429, headers: { 'retry-after': '7' } } : n === 2 ? { status: 502 } : { status: 404 }));
    const sender = new AlertSender({ url: r.url, format: 'teams', log });
    const first = await sender.send(alert).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(TransientError);
    expect((first as TransientError).retryAfterMs).toBe(7000);
    await expect(sender.send(alert)).rejects.toBeInstanceOf(TransientError);
    const third = await sender.send(alert).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(PermanentError);
    expect((third as PermanentError).kind).toBe('ConfigError');
    expect((third as Error).message).toMatch(/HTTP 404.*ALERT_WEBHOOK_URL.*ALERT_FORMAT/);
  });

  it('an unreachable webhook is transient; without a URL the alert goes to the log', async () => {
    const r = await receiver(() => ({ status: 200 }));
    await new Promise<void>((res) => server!.close(() => res()));
    server = undefined;
    await expect(new AlertSender({ url: r.url, format: 'teams', log, timeoutMs: 2000 }).send(alert)).rejects.toBeInstanceOf(TransientError);
    const lines: string[] = [];
    const capture = createLogger({ level: 'info', format: 'json' });
    const spy = { ...capture, error: (o: unknown, m: string) => lines.push(`error ${m} ${JSON.stringify(o)}`), info: (o: unknown, m: string) => lines.push(`info ${m}`) } as unknown as typeof log;
    const logged = new AlertSender({ format: 'teams', log: spy });
    expect(logged.target).toBe('log');
    await logged.send(alert);
    await logged.send({ ...alert, kind: 'recovery' });
    expect(lines[0]).toMatch(/^error 🔴 salesforce sync failed.*Failing since 2026-11-24T08:00:00.000Z/);
    expect(lines[0]).toContain(alert.link);
    expect(lines[1]).toMatch(/^info ✅ Recovered: /);
  });
});
