import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BigQuery } from '@google-cloud/bigquery';
import { createBigQueryClient } from '../../connectors/bigquery/client';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../sandbox/bigquery';
import { segmentColumns } from '../../sandbox/seed/segment-columns';
import { segmentRows } from '../../sandbox/seed/segment';
import { canonicalTimestamp } from '../../connectors/bigquery/timestamp';

/** Issue 4 acceptance: @google-cloud/bigquery queries the emulator's Segment tables with paging. */
describe('BigQuery sandbox emulator', () => {
  let emu: BigQueryEmulator;
  let bq: BigQuery;

  beforeAll(async () => {
    emu = await startBigQueryEmulator({ rowsPerTable: { tracks: 300, identifies: 120, pages: 150 }, seed: 42 });
    bq = createBigQueryClient({ projectId: emu.projectId, apiEndpoint: emu.url });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('serves the Segment dataset with Segment warehouse columns', async () => {
    const [tables] = await bq.dataset(emu.dataset).getTables();
    expect(tables.map((t) => t.id).sort()).toEqual(['identifies', 'pages', 'tracks']);
    for (const table of ['tracks', 'identifies', 'pages'] as const) {
      const [meta] = await bq.dataset(emu.dataset).table(table).getMetadata();
      const fields = (meta.schema.fields as { name: string; type: string }[]).map((f) => `${f.name}:${f.type}`);
      expect(fields).toEqual(segmentColumns(table).map((c) => `${c.name}:${c.type}`));
    }
  });

  it('pages a query job with maxResults and pageToken, every physical row once', async () => {
    const [job] = await bq.createQueryJob({ query: `SELECT id, timestamp, loaded_at FROM \`${emu.projectId}.${emu.dataset}.tracks\` ORDER BY timestamp, id, loaded_at` });
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const [rows, next] = await job.getQueryResults({ maxResults: 70, pageToken, autoPaginate: false });
      expect(rows.length).toBeLessThanOrEqual(70);
      seen.push(...rows.map((r: { id: string }) => r.id));
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
      pages++;
    } while (pageToken);
    expect(pages).toBe(Math.ceil(300 / 70));
    const generated = [...segmentRows(emu.seed, 'tracks')].map((r) => r.id as string);
    expect([...seen].sort()).toEqual([...generated].sort());
    // The duplicate ids Segment warehouses are known to contain.
    expect(new Set(seen).size).toBe(emu.expected.truth('tracks').distinctIds);
    expect(new Set(seen).size).toBeLessThan(seen.length);
  });

  it('holds the generated values, timestamps to the microsecond', async () => {
    const expected = emu.expected.rows('identifies')[7];
    const [rows] = await bq.query({ query: `SELECT * FROM \`${emu.projectId}.${emu.dataset}.identifies\` WHERE id = @id`, params: { id: expected.id } });
    expect(rows.length).toBeGreaterThanOrEqual(1);
    const row = rows.find((r: { loaded_at: { value: string } }) => new Date(r.loaded_at.value).getTime() === new Date(expected.loaded_at as string).getTime());
    expect(row).toBeDefined();
    expect(row.email).toBe(expected.email);
    expect(canonicalTimestamp(row.timestamp.value)).toBe(expected.timestamp);
  });

  it('counts what the generator says, per table and per event', async () => {
    const [rows] = await bq.query({
      query: `SELECT event, COUNT(DISTINCT id) AS n FROM \`${emu.projectId}.${emu.dataset}.tracks\` GROUP BY event`,
    });
    const perEvent = Object.fromEntries(rows.map((r: { event: string | null; n: number }) => [r.event ?? '', r.n]));
    expect(perEvent).toEqual(emu.expected.truth('tracks').perEvent);
  });

  it('reports its process, and stops it on close', async () => {
    const other = await startBigQueryEmulator({ rowsPerTable: 5, dataset: 'segment_other' });
    expect(other.rssMiB()).toBeGreaterThan(10);
    expect(other.url).not.toBe(emu.url);
    await other.close();
    expect(() => process.kill(other.pid, 0)).toThrow();
  });

  it('says so when its port is taken', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await expect(startBigQueryEmulator({ port, rowsPerTable: 1 })).rejects.toThrow(/port is in use/);
    } finally {
      server.close();
    }
  });

  it('caches the loaded database per seed and size, and starts from the cache', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'novade-bq-cache-'));
    try {
      const first = await startBigQueryEmulator({ rowsPerTable: 40, seed: 9, dataDir });
      expect(first.fromCache).toBe(false);
      await first.close();
      const second = await startBigQueryEmulator({ rowsPerTable: 40, seed: 9, dataDir });
      expect(second.fromCache).toBe(true);
      expect(second.loadSeconds).toBe(0);
      const client = createBigQueryClient({ projectId: second.projectId, apiEndpoint: second.url });
      const [rows] = await client.query({ query: `SELECT COUNT(*) AS n FROM \`${second.projectId}.${second.dataset}.pages\`` });
      expect(rows[0].n).toBe(40);
      await second.close();
      const other = await startBigQueryEmulator({ rowsPerTable: 40, seed: 10, dataDir });
      expect(other.fromCache).toBe(false);
      await other.close();
      expect(fs.readdirSync(path.join(dataDir, 'bigquery-emulator')).filter((f) => f.endsWith('.sqlite'))).toHaveLength(2);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
