import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarehouseHooks } from '../../connectors/warehouse/hooks';
import { OPS_TABLES } from '../../connectors/warehouse/ops-tables';
import { MIGRATIONS } from '../../connectors/warehouse/migrations';
import type { BronzeTableDef, Row, SilverTableDef, Warehouse } from '../../connectors/warehouse/types';
import { PermanentError } from '../../lib/errors';

/**
 * The behaviour every Warehouse adapter must have, run against DuckDB, against the Databricks
 * adapter on local Spark + Delta, and against a real Databricks workspace when one is configured.
 */
export interface ContractTarget {
  /** The warehouse under test; `hooks` is live: tests set and clear its members. */
  warehouse: Warehouse;
  hooks: WarehouseHooks;
  /** Replaces `warehouse` by a fresh adapter instance on the same storage (no in-memory caches). */
  reopen(): Promise<void>;
  /** Runs a statement bypassing the adapter (to plant bad data for the checks). */
  exec(sql: string): Promise<unknown>;
  /** `silver.x` as the engine wants it in hand-written SQL. */
  table(layer: 'bronze' | 'silver' | 'ops', name: string): string;
  close(): Promise<void>;
}

export interface ContractOptions {
  name: string;
  setup(): Promise<ContractTarget>;
  /** Per-test timeout: Spark runs each statement in about a second. */
  timeoutMs?: number;
  /** Table names get this prefix, so runs on a shared workspace do not collide. */
  prefix?: string;
  /** Rows of the "large" batches: enough to need several statements / chunks on the adapter. */
  largeRows?: number;
}

const silverDef = (name: string): SilverTableDef => ({
  name,
  columns: [
    { name: 'id', type: 'varchar' },
    { name: 'name', type: 'varchar' },
    { name: 'amount', type: 'double' },
    { name: 'count', type: 'bigint' },
    { name: 'active', type: 'boolean' },
    { name: 'meta', type: 'json' },
    { name: 'modstamp', type: 'timestamp' },
  ],
  primaryKey: ['id'],
  versionColumn: 'modstamp',
});
const bronzeDef = (name: string): BronzeTableDef => ({ name, keyColumns: [{ name: 'id', type: 'varchar' }] });

const ts = (n: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, n));

/** Values that break naive quoting, parameter binding or encodings. */
export const NASTY_STRINGS: string[] = [
  `it's "quoted" \`back\``,
  'line one\nline two\r\nline three\ttabbed',
  'unicode: é ß 中文 العربية 🚀👩‍👩‍👧 \u0301 \u200b',
  "'); DROP TABLE silver.x; --",
  'markers :p0 ?, $1 and ${x} %s',
  'back\\slash \\n not a newline \\u0041',
  '',
  ' leading and trailing spaces ',
  'x'.repeat(100_000),
];

/** Equality that, for long texts, reports where they differ instead of printing both. */
function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (typeof actual === 'string' && typeof expected === 'string' && actual !== expected && (actual.length > 200 || expected.length > 200)) {
    let i = 0;
    while (i < actual.length && actual[i] === expected[i]) i++;
    expect.fail(`${what}: lengths ${actual.length} vs ${expected.length}, first difference at ${i}: ${JSON.stringify(actual.slice(i, i + 40))} vs ${JSON.stringify(expected.slice(i, i + 40))}`);
  }
  expect(actual, what).toEqual(expected);
}

export function warehouseContract(opts: ContractOptions): void {
  const timeout = opts.timeoutMs ?? 60_000;
  const prefix = opts.prefix ?? 'ct';
  const large = opts.largeRows ?? 3000;

  describe(`Warehouse contract: ${opts.name}`, () => {
    let t: ContractTarget;
    const wh = (): Warehouse => t.warehouse;
    beforeAll(async () => {
      t = await opts.setup();
    });
    afterAll(async () => {
      await t?.close();
    });

    const count = async (sql: string): Promise<number> => Number((await wh().query<{ n: number }>(sql))[0].n);

    it(
      'creates the schema idempotently, applying each migration once',
      async () => {
        const s = silverDef(`${prefix}_schema`);
        const b = bronzeDef(`${prefix}_schema`);
        await wh().ensureSchema({ bronze: [b], silver: [s] });
        await wh().ensureSchema({ bronze: [b], silver: [s] });
        await t.reopen();
        await wh().ensureSchema({ bronze: [b], silver: [s] });
        const migrations = await wh().query(`SELECT version FROM ${t.table('ops', 'schema_migrations')} ORDER BY version`);
        expect(migrations.map((m) => Number(m.version))).toEqual(MIGRATIONS.map((m) => m.version));
        for (const table of OPS_TABLES) await wh().query(`SELECT * FROM ${t.table('ops', table.name)} LIMIT 1`);
        const row = await wh().query(`SELECT * FROM ${t.table('silver', s.name)} LIMIT 1`);
        expect(row).toEqual([]);
        // A column added to a definition appears on the next ensureSchema.
        const grown: SilverTableDef = { ...s, columns: [...s.columns, { name: 'added_later', type: 'varchar' }] };
        await wh().ensureSchema({ silver: [grown] });
        await wh().mergeSilver(grown, [{ id: 'g', modstamp: ts(1), added_later: 'yes' }]);
        expect((await wh().lookupSilver(grown, ['g']))[0].added_later).toBe('yes');
      },
      timeout,
    );

    it(
      'appends a batch once: the same batch id again adds nothing, even from a fresh adapter',
      async () => {
        const b = bronzeDef(`${prefix}_append`);
        await wh().ensureSchema({ bronze: [b] });
        const batch = { batchId: 'batch:1', records: [0, 1, 2].map((i) => ({ keys: { id: `k${i}` }, payload: { id: `k${i}`, i } })) };
        expect(await wh().appendBronze(b, batch)).toEqual({ inserted: 3, alreadyLoaded: false });
        expect(await wh().appendBronze(b, batch)).toEqual({ inserted: 0, alreadyLoaded: true });
        await t.reopen();
        expect(await wh().appendBronze(b, batch)).toEqual({ inserted: 0, alreadyLoaded: true });
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('bronze', b.name)}`)).toBe(3);
        const rows = await wh().query(`SELECT id, _row, _batch_id, _payload FROM ${t.table('bronze', b.name)} ORDER BY _row`);
        expect(rows.map((r) => [r.id, Number(r._row), r._batch_id, r._payload])).toEqual([
          ['k0', 0, 'batch:1', '{"id":"k0","i":0}'],
          ['k1', 1, 'batch:1', '{"id":"k1","i":1}'],
          ['k2', 2, 'batch:1', '{"id":"k2","i":2}'],
        ]);
        // An empty batch is recorded too, so its retry is recognised.
        expect(await wh().appendBronze(b, { batchId: 'batch:empty', records: [] })).toEqual({ inserted: 0, alreadyLoaded: false });
        expect(await wh().appendBronze(b, { batchId: 'batch:empty', records: [] })).toEqual({ inserted: 0, alreadyLoaded: true });
      },
      timeout,
    );

    it(
      'merges on the primary key: duplicates in one batch keep the newest, older versions never overwrite',
      async () => {
        const s = silverDef(`${prefix}_merge`);
        await wh().ensureSchema({ silver: [s] });
        const first = await wh().mergeSilver(s, [
          { id: 'a', name: 'a-v1', modstamp: ts(1) },
          { id: 'a', name: 'a-v3', modstamp: ts(3) },
          { id: 'a', name: 'a-v2', modstamp: ts(2) },
          { id: 'b', name: 'b-first', modstamp: ts(5) },
          { id: 'b', name: 'b-second-same-version', modstamp: ts(5) },
          { id: 'c', name: 'c-no-version', modstamp: null },
        ]);
        expect(first).toEqual({ inserted: 3, updated: 0, unchanged: 3 });
        const byId = async () => new Map((await wh().lookupSilver(s, ['a', 'b', 'c', 'missing'])).map((r) => [r.id, r]));
        let rows = await byId();
        expect(rows.size).toBe(3);
        expect(rows.get('a')?.name).toBe('a-v3');
        expect(rows.get('b')?.name).toBe('b-second-same-version');
        expect(rows.get('a')?._deleted).toBe(false);
        expect(rows.get('a')?._merged_at).toBeInstanceOf(Date);

        const second = await wh().mergeSilver(s, [
          { id: 'a', name: 'a-v0-late', modstamp: ts(0) },
          { id: 'b', name: 'b-v6', modstamp: ts(6) },
          { id: 'c', name: 'c-v1', modstamp: ts(1) },
          { id: 'd', name: 'd', modstamp: ts(1) },
        ]);
        expect(second).toEqual({ inserted: 1, updated: 2, unchanged: 1 });
        rows = await byId();
        expect(rows.get('a')?.name).toBe('a-v3');
        expect(rows.get('b')?.name).toBe('b-v6');
        expect(rows.get('c')?.name).toBe('c-v1');
        // Re-merging the same rows is a no-op.
        expect(await wh().mergeSilver(s, [{ id: 'b', name: 'b-v6', modstamp: ts(6) }])).toEqual({ inserted: 0, updated: 0, unchanged: 1 });
      },
      timeout,
    );

    it(
      'keeps deletes as flags',
      async () => {
        const s = silverDef(`${prefix}_delete`);
        await wh().mergeSilver(s, [{ id: 'x', name: 'alive', modstamp: ts(1) }]);
        await wh().mergeSilver(s, [{ id: 'x', name: 'gone', modstamp: ts(2), is_deleted: true }], { deleted: (r) => r.is_deleted === true });
        let [row] = await wh().lookupSilver(s, ['x']);
        expect(row).toMatchObject({ id: 'x', name: 'gone', _deleted: true });
        // A delete of a key never seen is kept too; a row's own `_deleted` is the default flag.
        await wh().mergeSilver(s, [{ id: 'y', name: 'born deleted', modstamp: ts(1), _deleted: true }]);
        [row] = await wh().lookupSilver(s, ['y']);
        expect(row._deleted).toBe(true);
        await wh().mergeSilver(s, [{ id: 'x', name: 'back', modstamp: ts(3) }]);
        [row] = await wh().lookupSilver(s, ['x']);
        expect(row).toMatchObject({ name: 'back', _deleted: false });
      },
      timeout,
    );

    it(
      'round-trips quotes, newlines, unicode, very long strings and nulls exactly',
      async () => {
        const s = silverDef(`${prefix}_values`);
        const b = bronzeDef(`${prefix}_values`);
        await wh().ensureSchema({ bronze: [b], silver: [s] });
        const rows: Row[] = NASTY_STRINGS.map((str, i) => ({
          id: `v${i}:${str.slice(0, 40)}`,
          name: str,
          amount: [0.1, -1.5e300, 3, 2 ** 52 + 0.5, -0.25, 1e-300, 42, 7, 8][i],
          count: [0, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 123456789012, 5, 6, 7, 8][i],
          active: i % 2 === 0,
          meta: { text: str, list: [1, 'two', null, { deep: true }], n: i },
          modstamp: new Date(Date.UTC(2024, 1, 29, 23, 59, 59, i)),
        }));
        rows.push({ id: 'nulls', name: null, amount: null, count: null, active: null, meta: null, modstamp: null });
        expect(await wh().mergeSilver(s, rows)).toMatchObject({ inserted: rows.length });
        const back = new Map((await wh().lookupSilver(s, rows.map((r) => String(r.id)))).map((r) => [r.id, r]));
        expect(back.size).toBe(rows.length);
        for (const r of rows) {
          const got = back.get(String(r.id));
          expect(got, String(r.id)).toBeDefined();
          for (const col of s.columns) expectSame(got?.[col.name], r[col.name], `${String(r.id).slice(0, 20)}.${col.name}`);
        }

        const payloads = NASTY_STRINGS.map((str, i) => ({ id: `p${i}`, text: str, arr: [str, null], nested: { 'key "with" quotes': str } }));
        await wh().appendBronze(b, { batchId: 'nasty', records: payloads.map((p, i) => ({ keys: { id: i === 0 ? null : NASTY_STRINGS[i] }, payload: p })) });
        const stored = await wh().query(`SELECT id, _payload FROM ${t.table('bronze', b.name)} ORDER BY _row`);
        expect(stored).toHaveLength(payloads.length);
        stored.forEach((r, i) => {
          expectSame(r._payload, JSON.stringify(payloads[i]), `payload ${i}`);
          expectSame(r.id, i === 0 ? null : NASTY_STRINGS[i], `bronze key ${i}`);
        });
      },
      timeout * 2,
    );

    it(
      'stores payloadJson text exactly as given, and refuses a batch holding invalid JSON',
      async () => {
        const b = bronzeDef(`${prefix}_raw`);
        await wh().ensureSchema({ bronze: [b] });
        // Texts JSON.stringify would not write back the same: spacing, 1.0, escapes, key order.
        const texts = Array.from({ length: large }, (_, i) => `{ "id": "r${i}",\n  "n": 1.0, "s": "\\u00e9 ${NASTY_STRINGS[i % NASTY_STRINGS.length].replace(/[\\"\u0000-\u001f]/g, ' ')}", "z": [ ] }`);
        const records = texts.map((payloadJson, i) => ({ keys: { id: `r${i}` }, payloadJson }));
        const broken = records.map((r, i) => (i === 7 ? { ...r, payloadJson: '{"id": "r7", "cut": ' } : r));
        const err = await wh().appendBronze(b, { batchId: 'raw:1', records: broken }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(PermanentError);
        expect(String((err as Error).message)).toMatch(/Record 7 of the batch: payloadJson is not valid JSON/);
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('bronze', b.name)}`)).toBe(0);
        // What lenient parsers take but JSON does not.
        for (const lax of ['{"n": NaN}', '{"n": -Infinity}', '[1, 2, ]', '{"a": 1, }'])
          await expect(wh().appendBronze(b, { batchId: 'raw:lax', records: [...records.slice(0, 3), { keys: { id: 'lax' }, payloadJson: lax }] })).rejects.toThrow(
            /Record 3 of the batch: payloadJson is not valid JSON/,
          );
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('bronze', b.name)}`)).toBe(0);
        // The same words inside strings are plain text.
        texts[1] = '{"note": "NaN, Infinity, [a, ] {b, }", "esc": "\\ud83d\\ude80"}';
        records[1] = { keys: { id: 'r1' }, payloadJson: texts[1] };

        expect(await wh().appendBronze(b, { batchId: 'raw:1', records })).toEqual({ inserted: large, alreadyLoaded: false });
        const stored = await wh().query(`SELECT _payload FROM ${t.table('bronze', b.name)} ORDER BY _row`);
        expect(stored.map((r) => r._payload)).toEqual(texts);
        // Later batches are checked too, with committed rows beside them, whatever their ingestion time.
        for (const ingestedAt of [new Date(), new Date(0)])
          await expect(wh().appendBronze(b, { batchId: `raw:${ingestedAt.getTime()}`, ingestedAt, records: [{ keys: { id: 'lax' }, payloadJson: '{"n": NaN}' }] })).rejects.toThrow(
            /Record 0 of the batch: payloadJson is not valid JSON/,
          );
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('bronze', b.name)}`)).toBe(large);
      },
      timeout * 2,
    );

    it(
      'a failure mid-batch leaves no partial batch visible, and the retry loads it whole',
      async () => {
        const s = silverDef(`${prefix}_atomic`);
        const b = bronzeDef(`${prefix}_atomic`);
        await wh().ensureSchema({ bronze: [b], silver: [s] });
        const records = Array.from({ length: large }, (_, i) => ({ keys: { id: `r${i}` }, payload: { i, text: `record ${i}` } }));
        const rows: Row[] = records.map((_, i) => ({ id: `r${i}`, name: `row ${i}`, count: i, modstamp: ts(1) }));
        t.hooks.beforeCommit = () => {
          throw new Error('injected failure before commit');
        };
        try {
          await expect(wh().appendBronze(b, { batchId: 'atomic:1', records })).rejects.toThrow('injected failure');
          await expect(wh().mergeSilver(s, rows)).rejects.toThrow('injected failure');
        } finally {
          t.hooks.beforeCommit = undefined;
        }
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('bronze', b.name)}`)).toBe(0);
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('silver', s.name)}`)).toBe(0);

        // A bad value halfway through fails the whole call, with a message naming the column.
        const bad = rows.map((r, i) => (i === Math.floor(large / 2) ? { ...r, count: 'not a number' } : r));
        await expect(wh().mergeSilver(s, bad)).rejects.toThrow(PermanentError);
        await expect(wh().mergeSilver(s, bad)).rejects.toThrow(/count/);
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('silver', s.name)}`)).toBe(0);

        expect(await wh().appendBronze(b, { batchId: 'atomic:1', records })).toEqual({ inserted: large, alreadyLoaded: false });
        expect(await wh().mergeSilver(s, rows)).toEqual({ inserted: large, updated: 0, unchanged: 0 });
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('bronze', b.name)}`)).toBe(large);
        expect(await count(`SELECT COUNT(DISTINCT _row) AS n FROM ${t.table('bronze', b.name)}`)).toBe(large);
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('silver', s.name)}`)).toBe(large);
      },
      timeout * 3,
    );

    it(
      'keeps sync state, run audit and dead letters',
      async () => {
        const stream = `${prefix}_stream`;
        expect(await wh().getSyncState(stream)).toBeUndefined();
        await wh().setSyncState(stream, { ts: '2024-01-01T00:00:00Z', id: "003'x" });
        await wh().setSyncState(stream, { ts: '2024-02-01T00:00:00Z', id: '003y', list: [1, null] });
        expect(await wh().getSyncState(stream)).toEqual({ ts: '2024-02-01T00:00:00Z', id: '003y', list: [1, null] });

        const flow = `${prefix}_flow`;
        const started = new Date(Date.UTC(2024, 5, 1, 12, 0, 0, 123));
        await wh().recordRun({ runId: `${prefix}-run-1`, flow, stream, startedAt: started, status: 'running', read: 0, written: 0, sent: 0, rejected: 0, cursorBefore: null });
        await wh().recordRun({
          runId: `${prefix}-run-1`,
          flow,
          stream,
          startedAt: started,
          finishedAt: new Date(started.getTime() + 5000),
          status: 'failed',
          read: 10,
          written: 8,
          sent: 7,
          rejected: 2,
          cursorBefore: null,
          cursorAfter: { page: 2 },
          apiCallsUsed: 3,
          error: 'Amplitude said "no"\nsecond line',
        });
        await wh().recordRun({ runId: `${prefix}-run-2`, flow, stream, startedAt: new Date(started.getTime() + 60_000), status: 'running', read: 0, written: 0, sent: 0, rejected: 0 });
        const runs = await wh().listRuns({ flow });
        expect(runs.map((r) => r.runId)).toEqual([`${prefix}-run-2`, `${prefix}-run-1`]);
        expect(runs[1]).toEqual({
          runId: `${prefix}-run-1`,
          flow,
          stream,
          startedAt: started,
          finishedAt: new Date(started.getTime() + 5000),
          status: 'failed',
          read: 10,
          written: 8,
          sent: 7,
          rejected: 2,
          cursorBefore: null,
          cursorAfter: { page: 2 },
          apiCallsUsed: 3,
          error: 'Amplitude said "no"\nsecond line',
        });
        expect(await wh().listRuns({ flow, limit: 1 })).toHaveLength(1);

        const letters = [
          { flow, stream, recordKey: 'k1', reason: 'invalid email', payload: { email: 'nope' } },
          { flow, stream, recordKey: 'k2', reason: 'no user id', payload: null, id: `${prefix}-dl-2` },
        ];
        expect(await wh().writeDeadLetters(letters)).toBe(2);
        expect(await wh().writeDeadLetters(letters)).toBe(0);
        expect(await wh().writeDeadLetters([])).toBe(0);
        expect(await wh().countDeadLetters({ flow })).toBe(2);
        expect(await wh().countDeadLetters()).toBeGreaterThanOrEqual(2);
        const stored = await wh().query(`SELECT record_key, reason, payload FROM ${t.table('ops', 'dead_letters')} WHERE flow = ? ORDER BY record_key`, [flow]);
        expect(stored.map((r) => [r.record_key, r.reason, r.payload])).toEqual([
          ['k1', 'invalid email', '{"email":"nope"}'],
          ['k2', 'no user id', 'null'],
        ]);
      },
      timeout,
    );

    it(
      'runs the data-quality checks and records their results',
      async () => {
        const s = silverDef(`${prefix}_checks`);
        const b = bronzeDef(`${prefix}_checks`);
        const empty = silverDef(`${prefix}_checks_empty`);
        await wh().ensureSchema({ bronze: [b], silver: [s, empty] });
        await wh().appendBronze(b, { batchId: 'c1', records: ['a', 'b', 'c'].map((id) => ({ keys: { id }, payload: { id } })) });
        await wh().mergeSilver(s, ['a', 'b'].map((id) => ({ id, modstamp: ts(1) })));
        await t.exec(`INSERT INTO ${t.table('silver', s.name)} (id, _deleted, _merged_at) VALUES ('a', false, TIMESTAMP '2020-01-01 00:00:00')`);

        const results = await wh().runChecks([s, empty], { freshnessSeconds: { [s.name]: 3600, [empty.name]: 60 } });
        const get = (table: string, check: string) => results.find((r) => r.table === `silver.${table}` && r.check === check)!;
        expect(results).toHaveLength(8);
        expect(get(s.name, 'duplicate_keys')).toMatchObject({ passed: false, observed: 1 });
        expect(get(s.name, 'null_keys')).toMatchObject({ passed: true, observed: 0 });
        expect(get(s.name, 'bronze_silver_reconciliation')).toMatchObject({ passed: false, observed: 1 });
        expect(get(s.name, 'freshness').passed).toBe(true);
        expect(get(s.name, 'freshness').observed).toBeLessThan(3600);
        expect(get(empty.name, 'freshness')).toMatchObject({ passed: false, observed: -1 });
        expect(get(empty.name, 'bronze_silver_reconciliation')).toMatchObject({ passed: true });
        expect(get(empty.name, 'duplicate_keys')).toMatchObject({ passed: true, observed: 0 });

        const missing = await wh().runChecks([silverDef(`${prefix}_never_created`)]);
        expect(missing.every((r) => !r.passed && r.observed === -1)).toBe(true);

        await wh().recordChecks?.(results);
        await wh().recordChecks?.(results);
        expect(await count(`SELECT COUNT(*) AS n FROM ${t.table('ops', 'check_results')} WHERE table_name = 'silver.${s.name}'`)).toBe(4);
      },
      timeout * 2,
    );
  });
}
