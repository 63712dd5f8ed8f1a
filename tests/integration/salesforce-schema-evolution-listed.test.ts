import { describe, expect, it } from 'vitest';
import { flowSuite, runSourceSync, startFlowWorld } from '../helpers/flow-world';
import { startSalesforceEmulator } from '../../sandbox/salesforce';
import { SEED_AS_OF } from '../../sandbox/seed/salesforce';
import type { SyncSourceSummary } from '../../workflows/sync-source';

/**
 * The default file's objects list built-in fields and start without describe; they still evolve
 * like every other stream. A listed field hidden by field-level security at run time (the
 * emulator's Setup) is left out: the sync goes on, the column keeps its values, the change is
 * recorded. Granted back, the field is read again and the object re-read to fill it.
 */

const suite = flowSuite();

describe('a default-file object whose listed field becomes unreadable', () => {
  it('leaves the field out and goes on, keeps the column and its values, records the change; reads it again once granted back', async () => {
    const clock = { t: SEED_AS_OF + 10 * 60_000 };
    const sf = await startSalesforceEmulator({ port: 0, scale: 0.01, now: () => new Date(clock.t) });
    const w = await startFlowWorld({
      name: 'sf-hide-listed',
      temporalAddress: suite.env.address,
      env: {},
      configure: (config) => (config.salesforce.loginUrl = sf.url),
      closeFirst: [() => sf.close()],
    });
    const run = (): Promise<SyncSourceSummary> => runSourceSync(suite.env, suite.bundle, w, { source: 'salesforce' });
    const wh = w.deps.warehouse;
    const silverContact = async (id: string) => (await wh.query<{ title: string | null; last_name: string }>('SELECT title, last_name FROM silver.salesforce_contact WHERE id = ?', [id]))[0];

    const first = await run();
    expect(first.failed).toEqual([]);
    const contacts = sf.store.records('Contact').filter((c) => typeof c.Title === 'string' && c.Title !== '');
    const [changed, other] = contacts.map((c) => c.Id as string);
    const title = sf.store.get('Contact', changed)!.Title;
    const otherTitle = sf.store.get('Contact', other)!.Title;
    expect(await silverContact(changed)).toMatchObject({ title });

    // Field-level security hides Contact.Title; the contact changes meanwhile.
    sf.store.hideField('Contact', 'Title');
    sf.store.update('Contact', changed, { LastName: 'Hidden-Title' }, { at: clock.t + 1000 });
    clock.t += 30_000;
    const second = await run();
    expect(second.failed).toEqual([]);
    expect(second.streams.find((s) => s.stream === 'salesforce_contact')).toMatchObject({ status: 'succeeded' });
    // The new version is merged; the column keeps the value it had.
    expect(await silverContact(changed)).toEqual({ title, last_name: 'Hidden-Title' });
    expect(await silverContact(other)).toMatchObject({ title: otherTitle });
    const changes = await wh.query('SELECT stream, object_name, field, column_name, change, action FROM ops.schema_changes ORDER BY detected_at');
    expect(changes).toEqual([{ stream: 'salesforce_contact', object_name: 'Contact', field: 'Title', column_name: 'title', change: 'field_gone', action: 'column_kept' }]);
    // The other default objects never described nor changed.
    expect(first.streams.map((s) => s.stream)).toEqual(second.streams.map((s) => s.stream));

    // A run with the field still hidden: nothing more recorded, nothing failing.
    clock.t += 30_000;
    const third = await run();
    expect(third.failed).toEqual([]);
    expect(await wh.query('SELECT field FROM ops.schema_changes')).toHaveLength(1);

    // Granted back, with a new value set while hidden: read again, and the re-read fills it.
    sf.store.showField('Contact', 'Title');
    sf.store.update('Contact', other, { Title: 'Chief Field Officer' }, { at: clock.t + 1000 });
    clock.t += 30_000;
    const fourth = await run();
    expect(fourth.failed).toEqual([]);
    expect(await silverContact(other)).toMatchObject({ title: 'Chief Field Officer' });
    expect(await silverContact(changed)).toEqual({ title, last_name: 'Hidden-Title' });
    const back = await wh.query('SELECT field, change, action FROM ops.schema_changes ORDER BY detected_at');
    expect(back).toEqual([
      { field: 'Title', change: 'field_gone', action: 'column_kept' },
      { field: 'Title', change: 'field_added', action: 'column_reused' },
    ]);
  }, 240_000);
});
