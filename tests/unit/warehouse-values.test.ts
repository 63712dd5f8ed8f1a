import { describe, expect, it } from 'vitest';
import { deadLetterCells, deadLetterId, payloadText, syncRunCells, syncRunOf } from '../../connectors/warehouse/records';
import { SerialQueue } from '../../connectors/warehouse/serial-queue';
import { decodeCell, decodeLoose, encodeCell, toDate } from '../../connectors/warehouse/values';
import { PermanentError } from '../../lib/errors';

describe('warehouse cell encoding', () => {
  it('writes one canonical text per type', () => {
    expect(encodeCell('c', 'varchar', 'x')).toBe('x');
    expect(encodeCell('c', 'varchar', 12)).toBe('12');
    expect(encodeCell('c', 'varchar', true)).toBe('true');
    expect(encodeCell('c', 'varchar', new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(encodeCell('c', 'bigint', 42)).toBe('42');
    expect(encodeCell('c', 'bigint', 9007199254740993n)).toBe('9007199254740993');
    expect(encodeCell('c', 'bigint', ' -7 ')).toBe('-7');
    expect(encodeCell('c', 'bigint', false)).toBe('0');
    expect(encodeCell('c', 'double', 0.1)).toBe('0.1');
    expect(encodeCell('c', 'double', '1e300')).toBe('1e+300');
    expect(encodeCell('c', 'double', 'NaN')).toBe('NaN');
    expect(encodeCell('c', 'double', 5n)).toBe('5');
    expect(encodeCell('c', 'boolean', 'false')).toBe('false');
    expect(encodeCell('c', 'boolean', 1)).toBe('true');
    expect(encodeCell('c', 'timestamp', '2024-01-01T10:00:00+02:00')).toBe('2024-01-01T08:00:00.000Z');
    expect(encodeCell('c', 'timestamp', '2024-01-01 10:00:00')).toBe('2024-01-01T10:00:00.000Z');
    expect(encodeCell('c', 'timestamp', '2024-01-01')).toBe('2024-01-01T00:00:00.000Z');
    expect(encodeCell('c', 'timestamp', 0)).toBe('1970-01-01T00:00:00.000Z');
    expect(encodeCell('c', 'json', { a: [1, null] })).toBe('{"a":[1,null]}');
    expect(encodeCell('c', 'json', 'text')).toBe('"text"');
    expect(encodeCell('c', 'json', null)).toBeNull();
    expect(encodeCell('c', 'varchar', undefined)).toBeNull();
  });

  it('refuses values a column cannot hold, naming the column', () => {
    expect(() => encodeCell('amount', 'bigint', 1.5)).toThrow(/Column "amount" \(bigint\) cannot take number 1.5/);
    expect(() => encodeCell('amount', 'bigint', '12abc')).toThrow(PermanentError);
    expect(() => encodeCell('ratio', 'double', 'abc')).toThrow(/ratio/);
    expect(() => encodeCell('ratio', 'double', '')).toThrow(/ratio/);
    expect(() => encodeCell('flag', 'boolean', 'yes')).toThrow(/flag/);
    expect(() => encodeCell('at', 'timestamp', 'not a date')).toThrow(/at/);
    expect(() => encodeCell('at', 'timestamp', {})).toThrow(/at/);
    expect(() => encodeCell('name', 'varchar', { a: 1 })).toThrow(/name/);
    expect(() => encodeCell('meta', 'json', { big: 1n })).toThrow(/meta/);
    expect(() => encodeCell('meta', 'json', () => 1)).toThrow(/not representable/);
    expect(() => encodeCell('long', 'varchar', Symbol('x') as unknown as string)).toThrow(/long/);
    expect(() => toDate('x', 'y'.repeat(100))).toThrow(/\.\.\./);
  });

  it('reads engine values back in one JS shape', () => {
    expect(decodeCell('bigint', 5n)).toBe(5);
    expect(decodeCell('bigint', 9007199254740993n)).toBe(9007199254740993n);
    expect(decodeCell('bigint', '12')).toBe(12);
    expect(decodeCell('bigint', 3)).toBe(3);
    expect(decodeCell('double', '1.5')).toBe(1.5);
    expect(decodeCell('boolean', 'true')).toBe(true);
    expect(decodeCell('boolean', false)).toBe(false);
    expect(decodeCell('timestamp', '2024-01-01 00:00:00.123456')).toEqual(new Date('2024-01-01T00:00:00.123Z'));
    expect(decodeCell('timestamp', new Date(5))).toEqual(new Date(5));
    expect(decodeCell('json', '{"a":1}')).toEqual({ a: 1 });
    expect(decodeCell('json', { a: 1 })).toEqual({ a: 1 });
    expect(decodeCell('varchar', 5)).toBe('5');
    expect(decodeCell('varchar', undefined)).toBeNull();
    expect(decodeLoose(7n)).toBe(7);
    expect(decodeLoose(undefined)).toBeNull();
    expect(decodeLoose([1])).toEqual([1]);
  });
});

describe('ops records', () => {
  it('round-trips a sync run through its cells', () => {
    const run = { runId: 'r', flow: 'f', stream: 's', startedAt: new Date(1000), status: 'running' as const, read: 1, written: 2, sent: 3, rejected: 4 };
    const cells = syncRunCells(run, new Date(2000));
    const names = ['run_id', 'flow', 'stream', 'started_at', 'finished_at', 'status', 'read_count', 'written_count', 'sent_count', 'rejected_count', 'cursor_before', 'cursor_after', 'api_calls_used', 'error', 'updated_at'];
    const raw = Object.fromEntries(names.map((n, i) => [n, cells[i]]));
    expect(syncRunOf(raw)).toEqual(run);
  });

  it('identifies dead letters by content when no id is given', () => {
    const l = { flow: 'f', stream: 's', recordKey: 'k', reason: 'r', payload: { a: 1 } };
    const [a] = deadLetterCells([l], new Date(0));
    const [b] = deadLetterCells([{ ...l }], new Date(1));
    expect(a[0]).toBe(b[0]);
    expect(deadLetterId({ ...l, id: 'given' }, '{}')).toBe('given');
    expect(payloadText(undefined)).toBe('null');
  });
});

describe('SerialQueue', () => {
  it('runs tasks one at a time, in order, surviving failures', async () => {
    const q = new SerialQueue();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => () =>
      new Promise<string>((resolve, reject) => {
        log.push(`start ${name}`);
        setTimeout(() => {
          log.push(`end ${name}`);
          if (fail) reject(new Error(name));
          else resolve(name);
        }, ms);
      });
    const a = q.run(task('a', 20));
    const b = q.run(task('b', 1, true));
    const c = q.run(task('c', 1));
    expect(q.size).toBe(3);
    await expect(a).resolves.toBe('a');
    await expect(b).rejects.toThrow('b');
    await expect(c).resolves.toBe('c');
    await q.drain();
    expect(q.size).toBe(0);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });
});
