import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../config/config';
import type { ViolationsReport } from '../../activities/tracking-types';
import { draftPlanFiles, type DraftStats } from '../../tracking/draft';
import { addDays, DAY_RE, mergeParity, PARITY_MAX_DAYS, type ParityReport } from '../../tracking/parity';
import { formatTable } from '../cli-context';
import { readThroughWorker } from './read';

/** The CLI's side of `tracking plan draft`, `tracking violations` and `tracking parity`. */

export function checkDays(from: string, to: string): void {
  for (const [flag, v] of [
    ['--from', from],
    ['--to', to],
  ] as const)
    if (!DAY_RE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw new Error(`${flag} expects a day, YYYY-MM-DD, got "${v}".`);
  if (from > to) throw new Error(`--from ${from} is after --to ${to}.`);
}

export interface DraftWritten {
  dir: string;
  files: string[];
  events: number;
  pages: number;
}

/** Writes the draft into `dir`, which must be new or empty unless `force`. */
export function writeDraft(stats: DraftStats, dir: string, force: boolean): DraftWritten {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0 && !force)
    throw new Error(`${dir} is not empty: pass --out <new dir>, or --force to overwrite the files the draft writes there.`);
  const files = draftPlanFiles(stats);
  for (const [rel, text] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
  return { dir, files: [...files.keys()], events: stats.events.length, pages: stats.pages.length };
}

export async function draftFromWarehouse(client: Client, config: AppConfig, input: { from: string; to: string; perSubject?: number }, timeoutMs: number): Promise<DraftStats> {
  checkDays(input.from, input.to);
  return readThroughWorker<DraftStats>(client, config, 'trackingDraftWorkflow', input, timeoutMs);
}

export async function readViolations(client: Client, config: AppConfig, sinceSeconds: number, timeoutMs: number): Promise<ViolationsReport> {
  return readThroughWorker<ViolationsReport>(client, config, 'trackingViolationsWorkflow', { sinceSeconds, limit: 1_000 }, timeoutMs);
}

const WORDS: Record<string, string> = {
  unplanned_event: 'unplanned event',
  unplanned_property: 'unplanned property',
  missing_required: 'missing required',
  wrong_type: 'wrong type',
  value_not_allowed: 'value not allowed',
};

export function renderViolations(r: ViolationsReport): string {
  if (r.rows.length === 0) return `No tracking plan violation since ${r.since}.`;
  const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return [
    `Tracking plan violations since ${time(r.since)}:`,
    '',
    formatTable(
      ['event', 'violation', 'path', 'calls', 'blocked', 'last seen', 'sample', 'detail'],
      r.rows.map((v) => [v.event, WORDS[v.type] ?? v.type, v.path, v.calls.toLocaleString('en-US'), v.blocked.toLocaleString('en-US'), time(v.lastSeen), v.sample ?? '-', v.detail ?? '']),
    ),
  ].join('\n');
}

/** The parity of a range, one worker read per PARITY_MAX_DAYS (each result is one Temporal payload), merged. */
export async function parityFromWorker(client: Client, config: AppConfig, opts: { from: string; to: string; tolerance: number }, timeoutMs: number): Promise<ParityReport> {
  checkDays(opts.from, opts.to);
  const parts: ParityReport[] = [];
  for (let from = opts.from; from <= opts.to; from = addDays(from, PARITY_MAX_DAYS)) {
    const last = addDays(from, PARITY_MAX_DAYS - 1);
    parts.push(await readThroughWorker<ParityReport>(client, config, 'trackingParityWorkflow', { from, to: last < opts.to ? last : opts.to, tolerance: opts.tolerance }, timeoutMs));
  }
  return parts.length === 1 ? parts[0] : mergeParity(parts, opts);
}
