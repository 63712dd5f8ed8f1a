import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { temporal } from '@temporalio/proto';
import { historyFromJson } from './history-json';

/**
 * Recorded workflow histories (tests/fixtures/histories, written by scripts/record-history.ts) and
 * their manifest: a history holds no workflow id, and workflows that derive ids from their own (child
 * workflows of a source sync) only replay under the id they ran with.
 */

type History = temporal.api.history.v1.IHistory;

export const HISTORIES_DIR = path.resolve(__dirname, '../fixtures/histories');
export const MANIFEST_FILE = 'manifest.json';

const manifestEntrySchema = z.object({
  file: z.string().regex(/^[\w.@-]+\.json$/),
  workflowId: z.string().min(1),
  workflowType: z.string().min(1),
  /** Short commit of the code that ran it; `-modified` when workflows/ had uncommitted changes. */
  commit: z.string().min(1),
  /** patched() ids whose marker the history holds: the branches this history takes on replay. */
  patches: z.array(z.string()),
});
export type ManifestEntry = z.infer<typeof manifestEntrySchema>;

/** The manifest of `dir` by file name; empty when there is none yet. */
export function readManifest(dir: string): Map<string, ManifestEntry> {
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file)) return new Map();
  const entries = z.array(manifestEntrySchema).parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  return new Map(entries.map((e) => [e.file, e]));
}

export interface HistoryFixture extends ManifestEntry {
  history: History;
}

/** Every history of `dir` with its manifest entry; a history missing from the manifest (or the reverse) is an error, not skipped. */
export function loadHistoryFixtures(dir = HISTORIES_DIR): HistoryFixture[] {
  const manifest = readManifest(dir);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && f !== MANIFEST_FILE);
  const unlisted = files.filter((f) => !manifest.has(f));
  const missing = [...manifest.keys()].filter((f) => !files.includes(f));
  if (unlisted.length || missing.length)
    throw new Error(`${path.join(dir, MANIFEST_FILE)} is out of date: not listed ${JSON.stringify(unlisted)}, listed but absent ${JSON.stringify(missing)}; record with scripts/record-history.ts`);
  return files.sort().map((f) => ({ ...(manifest.get(f) as ManifestEntry), history: historyFromJson(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'))) }));
}

/** The patched() ids recorded as markers in a history, in order. */
export function historyMarkers(history: History): string[] {
  const ids: string[] = [];
  for (const e of history.events ?? []) {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') continue;
    for (const payloads of Object.values(marker.details ?? {})) {
      for (const p of payloads.payloads ?? []) {
        const value: unknown = p.data ? JSON.parse(Buffer.from(p.data).toString('utf8')) : undefined;
        const id = typeof value === 'string' ? value : (value as { id?: unknown } | undefined)?.id;
        if (typeof id === 'string') ids.push(id);
      }
    }
  }
  return ids;
}
