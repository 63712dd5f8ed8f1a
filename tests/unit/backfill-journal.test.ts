import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journalName, journalWarehouse, openJournal, pruneStoredMarks, replayJournal, type BackfillWarehouse } from '../../streams/backfill-journal';
import { PermanentError } from '../../lib/errors';

/** A warehouse that records the calls the replay makes. */
function recorder(): BackfillWarehouse & { calls: [string, unknown][] } {
  const calls: [string, unknown][] = [];
  return {
    calls,
    ensureSchema: async (t) => void calls.push(['ensureSchema', t]),
    appendBronze: async (table, batch) => {
      calls.push(['appendBronze', [table.name, batch.batchId, batch.records.length]]);
      return { inserted: batch.records.length, alreadyLoaded: false };
    },
    mergeSilver: async (table, rows) => {
      calls.push(['mergeSilver', [table.name, rows.map((r) => r.id)]]);
      return { inserted: rows.length, updated: 0, unchanged: 0 };
    },
    writeDeadLetters: async (letters) => {
      calls.push(['writeDeadLetters', letters.map((l) => l.id)]);
      return letters.length;
    },
    setSyncState: async (stream, cursor) => void calls.push(['setSyncState', [stream, cursor]]),
  };
}

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'journal-'));
  dirs.push(d);
  return d;
};

describe('backfill journal (a lane step on any worker, its warehouse writes replayed by the owner)', () => {
  it('replays the writes in order, skips a record torn by a crash, and is a no-op when replayed again', async () => {
    const dir = tmp();
    const file = path.join(dir, journalName('run', 1, { windowStart: '2024-01-01T00:00:00.000Z', table: 0 }));
    await openJournal(file);
    const j = journalWarehouse(file);
    const silver = { name: 'segment_tracks', columns: [], primaryKey: ['id'], versionColumn: 'seen_at' };
    await j.ensureSchema({ silver: [silver] });
    await j.appendBronze({ name: 'segment_tracks', keyColumns: [] }, { batchId: 'b1', records: [{ keys: { id: 'a' }, payload: { id: 'a', n: 1n } }] });
    // A crash mid-write leaves half a record; the retried attempt writes the page again after it.
    fs.appendFileSync(file, '\n{"op":"mergeSilver","table":{"na');
    await j.mergeSilver(silver, [{ id: 'a' }, { id: 'b' }]);
    await j.ensureSchema({ silver: [silver] });
    await j.writeDeadLetters([{ flow: 'segment', stream: 'segment_tracks', recordKey: 'c', reason: 'r', payload: {}, id: 'dl1' }]);
    await j.setSyncState('segment_backfill:run#lane1', { windowStart: 'x', table: 1 });

    const wh = recorder();
    const ensured = new Set<string>();
    expect(await replayJournal(file, wh, ensured)).toEqual({ ops: 6, alreadyStored: false });
    expect(wh.calls).toEqual([
      ['ensureSchema', { silver: [silver] }],
      ['appendBronze', ['segment_tracks', 'b1', 1]],
      ['mergeSilver', ['segment_tracks', ['a', 'b']]],
      ['writeDeadLetters', ['dl1']],
      ['setSyncState', ['segment_backfill:run#lane1', { windowStart: 'x', table: 1 }]],
    ]);
    expect(fs.existsSync(file)).toBe(false);
    // A retried store of the same journal (its first answer lost) writes nothing again.
    expect(await replayJournal(file, recorder(), ensured)).toEqual({ ops: 0, alreadyStored: true });
  });

  it('an empty window leaves an empty journal; a journal that is nowhere says the workers must share the directory', async () => {
    const dir = tmp();
    const empty = path.join(dir, 'empty.ndjson');
    await openJournal(empty);
    expect(await replayJournal(empty, recorder(), new Set())).toEqual({ ops: 0, alreadyStored: false });
    const err = await replayJournal(path.join(dir, 'elsewhere.ndjson'), recorder(), new Set()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/not on this worker.*same data directory/);
  });

  it('names a journal by backfill, lane and step cursor, and prunes old marks only', async () => {
    const c = { windowStart: '2024-01-01T00:00:00.000Z', table: 0 };
    expect(journalName('run', 0, c)).toBe(journalName('run', 0, { ...c }));
    expect(new Set([journalName('run', 0, c), journalName('run', 1, c), journalName('run', 0, { ...c, after: { timestamp: 't', id: 'i' } }), journalName('other', 0, c)]).size).toBe(4);
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'old.ndjson.stored'), '');
    fs.writeFileSync(path.join(dir, 'new.ndjson.stored'), '');
    fs.writeFileSync(path.join(dir, 'pending.ndjson'), '');
    const past = new Date(Date.now() - 2 * 86_400_000);
    fs.utimesSync(path.join(dir, 'old.ndjson.stored'), past, past);
    await pruneStoredMarks(dir);
    expect(fs.readdirSync(dir).sort()).toEqual(['new.ndjson.stored', 'pending.ndjson']);
  });
});
