import type { AlertFormat, AlertMessage } from './types';

/**
 * The JSON each channel's incoming webhook takes. Teams: an Adaptive Card in a `message` envelope,
 * which Teams Workflows ("Post to a channel when a webhook request is received") accept now that
 * Office 365 connectors and their MessageCards are retired. Slack: Block Kit with a `text` fallback.
 */

const SLACK_HEADER_MAX = 150;

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 6) / 10;
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}

export function headline(m: AlertMessage): string {
  return m.kind === 'alert' ? `🔴 ${m.title}` : `✅ Recovered: ${m.title}`;
}

/** What happened and since when, in one line a person reads first. */
export function summaryLine(m: AlertMessage): string {
  return m.kind === 'alert'
    ? `Failing since ${m.since.toISOString()}.`
    : `Was failing from ${m.since.toISOString()} to ${m.at.toISOString()} (${duration(m.at.getTime() - m.since.getTime())}).`;
}

export function teamsPayload(m: AlertMessage): Record<string, unknown> {
  const facts = [
    { title: 'Problem', value: m.key },
    { title: m.kind === 'alert' ? 'Since' : 'Failing since', value: m.since.toISOString() },
    ...(m.kind === 'recovery' ? [{ title: 'Recovered at', value: m.at.toISOString() }] : []),
  ];
  const body: Record<string, unknown>[] = [
    { type: 'TextBlock', text: headline(m), weight: 'Bolder', size: 'Medium', wrap: true, color: m.kind === 'alert' ? 'Attention' : 'Good' },
    { type: 'TextBlock', text: summaryLine(m), wrap: true },
  ];
  if (m.detail) body.push({ type: 'TextBlock', text: m.detail, wrap: true, fontType: 'Monospace', size: 'Small' });
  body.push({ type: 'FactSet', facts });
  return {
    type: 'message',
    summary: headline(m),
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          ...(m.link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open the run in Temporal', url: m.link }] } : {}),
        },
      },
    ],
  };
}

/** Slack mrkdwn treats &, < and > as markup. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function slackPayload(m: AlertMessage): Record<string, unknown> {
  const head = headline(m);
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: head.length > SLACK_HEADER_MAX ? `${head.slice(0, SLACK_HEADER_MAX - 1)}…` : head, emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: slackEscape(summaryLine(m)) } },
  ];
  if (m.detail) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: '```' + slackEscape(m.detail.slice(0, 2900)) + '```' } });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `problem \`${slackEscape(m.key)}\`` }] });
  if (m.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the run in Temporal' }, url: m.link }] });
  const text = `${head}: ${summaryLine(m)}${m.link ? ` ${m.link}` : ''}`;
  return { text, blocks };
}

export function alertPayload(format: AlertFormat, m: AlertMessage): Record<string, unknown> {
  return format === 'slack' ? slackPayload(m) : teamsPayload(m);
}
