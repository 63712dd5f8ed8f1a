import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Outcomes } from '../../tracking/plan-files';

/** Writes a small tracking plan into a temp directory; `files` adds or replaces files (relative path -> YAML value or raw text). */
export function writeTestPlan(opts: { outcomes?: Partial<Outcomes>; overrides?: Record<string, Partial<Outcomes>>; files?: Record<string, unknown> } = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-plan-'));
  const files: Record<string, unknown> = {
    'settings.yaml': {
      version: 'test-1',
      outcomes: { unplanned_event: 'allow', unplanned_property: 'keep', schema_violation: 'allow', ...opts.outcomes },
      ...(opts.overrides ? { overrides: opts.overrides } : {}),
    },
    'identify.yaml': {
      description: 'traits',
      owner: 'data',
      traits: { type: 'object', required: ['email'], properties: { email: { type: 'string', format: 'email' }, plan: { type: 'string', enum: ['free', 'pro'] }, seats: { type: 'integer' } } },
    },
    'pages.yaml': {
      description: 'pages',
      owner: 'marketing',
      names: ['Home', { name: 'Pricing', description: '/pricing' }],
      properties: { type: 'object', properties: { path: { type: 'string' }, url: { type: 'string' }, name: { type: 'string' } } },
    },
    'events/signed-up.yaml': {
      name: 'Signed Up',
      description: 'A visitor created an account.',
      owner: 'growth',
      properties: {
        type: 'object',
        required: ['plan', 'seats'],
        properties: {
          plan: { type: 'string', enum: ['free', 'pro'] },
          seats: { type: 'integer', minimum: 1 },
          referrer: { type: 'string', format: 'uri' },
          tags: { type: 'array', items: { type: 'string' } },
          amount: { anyOf: [{ type: 'number' }, { type: 'string', pattern: '^[0-9]+$' }] },
          address: { type: 'object', properties: { city: { type: 'string' } }, additionalProperties: false },
        },
      },
    },
    'events/lead-created.yaml': {
      name: 'Lead Created',
      description: 'A Salesforce lead.',
      owner: 'data',
      source: 'salesforce',
      properties: { type: 'object', required: ['salesforce_lead_id'], properties: { salesforce_lead_id: { type: 'string' } } },
    },
    ...opts.files,
  };
  for (const [rel, value] of Object.entries(files)) {
    if (value === undefined) continue;
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof value === 'string' ? value : stringify(value));
  }
  return dir;
}
