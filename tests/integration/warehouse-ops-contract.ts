import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BronzeTableDef, SilverTableDef, TrackingViolation, Warehouse } from '../../connectors/warehouse/types';
import type { ContractOptions, ContractTarget } from './warehouse-contract';

/**
 * What organize, retention and alerts need from every adapter (organize-ops.ts): run by the
 * DuckDB test and by the Databricks adapter on Spark + Delta, so the statements are checked on
 * both engines, not only as text.
 */
export function warehouseOpsContract(opts: ContractOptions): void {
  const timeout = opts.timeoutMs ?? 60_000;
  const prefix = `${opts.prefix ?? 'ct'}_ops`;

  describe(`Warehouse organize/retention/alerts contract: ${opts.name}`, () => {
    let t: ContractTarget;
    const wh = (): Warehouse => t.warehouse;
    beforeAll(async () => {
      t = await opts.setup();
    }, timeout);
    afterAll(async () => {
      await t?.close();
    });

    const silver: SilverTableDef = {
      name: `${prefix}_contact`,
      columns: [
        { name: 'id', type: 'varchar' },
        { name: 'name', type: 'varchar' },
        { name: 'modstamp', type: 'timestamp' },
      ],
      primaryKey: ['id'],
      versionColumn: 'modstamp',
    };
    const bronze: BronzeTableDef = { name: silver.name, keyColumns: [{ name: 'id', type: 'varchar' }] };
    const rec = (id: string | null, n: number) => ({ keys: { id }, payload: { id, name: `n${n}`, modstamp: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString() } });

    it(
      'answers every bronze version of the next keys missing in silver, key by key, and forgets keys once merged',
      async () => {
        await wh().ensureSchema({ bronze: [bronze], silver: [silver] });
        await wh().appendBronze(bronze, { batchId: 'a', records: [rec('k1', 1), rec('k2', 2), rec('k3', 3), rec(null, 4)] });
        await wh().appendBronze(bronze, { batchId: 'b', records: [rec('k2', 5)] });
        await wh().mergeSilver(silver, [{ id: 'k1', name: 'n1', modstamp: new Date(Date.UTC(2024, 0, 1, 0, 0, 1)) }]);
        const all = await wh().unmergedBronze(bronze, silver, { keys: 10 });
        expect(all.map((r) => [r.key, (r.payload as { name: string }).name])).toEqual([
          ['k2', 'n2'],
          ['k2', 'n5'],
          ['k3', 'n3'],
        ]);
        expect((await wh().unmergedBronze(bronze, silver, { keys: 1 })).map((r) => r.key)).toEqual(['k2', 'k2']);
        expect((await wh().unmergedBronze(bronze, silver, { keys: 1, afterKey: 'k2' })).map((r) => r.key)).toEqual(['k3']);
        await wh().mergeSilver(silver, [{ id: 'k3', name: 'n3', modstamp: new Date(Date.UTC(2024, 0, 1, 0, 0, 3)) }]);
        expect((await wh().unmergedBronze(bronze, silver, { keys: 10 })).map((r) => r.key)).toEqual(['k2', 'k2']);
      },
      timeout,
    );

    it(
      'purges bronze ingested before a date and nothing else',
      async () => {
        const old = new Date(Date.UTC(2020, 0, 1));
        await wh().appendBronze(bronze, { batchId: 'old', ingestedAt: old, records: [rec('k9', 9), rec('k8', 8)] });
        const count = async () => Number((await wh().query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t.table('bronze', bronze.name)}`))[0].n);
        const before = await count();
        expect(await wh().purgeBronze(bronze, new Date(Date.UTC(2021, 0, 1)))).toBe(2);
        expect(await count()).toBe(before - 2);
        expect(await wh().purgeBronze(bronze, new Date(Date.UTC(2021, 0, 1)))).toBe(0);
      },
      timeout,
    );

    it(
      'counts dead letters per flow since a time',
      async () => {
        const since = new Date(Date.now() - 60_000);
        await wh().writeDeadLetters([
          { flow: `${prefix}_a`, stream: 's', recordKey: '1', reason: 'r', payload: {} },
          { flow: `${prefix}_a`, stream: 's', recordKey: '2', reason: 'r', payload: {} },
          { flow: `${prefix}_b`, stream: 's', recordKey: '3', reason: 'r', payload: {} },
        ]);
        const counts = await wh().countDeadLettersSince(since);
        expect([counts[`${prefix}_a`], counts[`${prefix}_b`]]).toEqual([2, 1]);
        expect(await wh().countDeadLettersSince(new Date(Date.now() + 3_600_000))).toEqual({});
      },
      timeout,
    );

    it(
      'records tracking plan violations once each and summarises them per event, type and path since a time',
      async () => {
        const event = `${prefix} Signed Up`;
        const at = (min: number) => new Date(Date.UTC(2026, 5, 1, 10, min));
        const v = (id: string, messageId: string, type: TrackingViolation['type'], path: string, min: number, outcome: TrackingViolation['outcome'] = 'allowed', sample: string | null = 'x') => ({
          id: `${prefix}-${id}`,
          event,
          callType: 'track',
          messageId,
          type,
          path,
          sample,
          detail: "it's \"wrong\"",
          outcome,
          planVersion: '7',
          receivedAt: at(min),
        });
        const rows: TrackingViolation[] = [
          v('1', 'm1', 'wrong_type', '$.properties.seats', 1, 'allowed', 'three'),
          v('2', 'm2', 'wrong_type', '$.properties.seats', 5, 'blocked', 'four'),
          v('3', 'm2', 'unplanned_property', '$.properties.extra', 5, 'omitted', null),
          v('4', 'm3', 'wrong_type', '$.properties.seats', 30),
        ];
        expect(await wh().writeTrackingViolations(rows)).toBe(4);
        // The same call processed again (a retried activity) records nothing more.
        expect(await wh().writeTrackingViolations(rows.slice(0, 2))).toBe(0);
        expect(await wh().writeTrackingViolations([])).toBe(0);
        const summary = (await wh().summarizeTrackingViolations(at(0))).filter((s) => s.event === event);
        expect(summary).toEqual([
          { event, callType: 'track', type: 'wrong_type', path: '$.properties.seats', count: 3, calls: 3, blocked: 1, firstSeen: at(1), lastSeen: at(30), sample: 'x', detail: "it's \"wrong\"" },
          { event, callType: 'track', type: 'unplanned_property', path: '$.properties.extra', count: 1, calls: 1, blocked: 0, firstSeen: at(5), lastSeen: at(5), sample: null, detail: "it's \"wrong\"" },
        ]);
        const recent = (await wh().summarizeTrackingViolations(at(10))).filter((s) => s.event === event);
        expect(recent.map((s) => [s.type, s.count])).toEqual([['wrong_type', 1]]);
        expect(await wh().summarizeTrackingViolations(at(0), { limit: 1 })).toHaveLength(1);
      },
      timeout,
    );

    it(
      'keeps alert state by key: insert, update, list by scope',
      async () => {
        const since = new Date(Date.UTC(2026, 10, 24, 8));
        const later = new Date(Date.UTC(2026, 10, 24, 9));
        const key = `${prefix}:k`;
        await wh().saveAlertState({ key, scope: `${prefix}_scope`, status: 'open', title: "it's \"broken\"", detail: 'line\nbreak', since, lastSeen: since });
        await wh().saveAlertState({ key, scope: `${prefix}_scope`, status: 'resolved', title: "it's \"broken\"", detail: 'line\nbreak', link: 'http://ui/x', since, lastSeen: later, notifiedAt: since, resolvedAt: later });
        expect(await wh().listAlertStates(`${prefix}_scope`)).toEqual([
          { key, scope: `${prefix}_scope`, status: 'resolved', title: "it's \"broken\"", detail: 'line\nbreak', link: 'http://ui/x', since, lastSeen: later, notifiedAt: since, resolvedAt: later },
        ]);
        expect(await wh().listAlertStates(`${prefix}_other`)).toEqual([]);
      },
      timeout,
    );

    it(
      'compacts where the engine supports it',
      async () => {
        const done = await wh().compact({ bronze: [bronze], silver: [silver] });
        expect(done).toEqual(wh().kind === 'databricks' ? [`bronze.${bronze.name}`, `silver.${silver.name}`] : []);
      },
      timeout,
    );
  });
}
