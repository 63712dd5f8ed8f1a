import { describe, expect, it } from 'vitest';
import type { SfFieldSpec } from '../../mappings/salesforce-fields';
import { knownField, planSchemaEvolution, type EvolutionInput } from '../../streams/schema-evolution';

const now = new Date('2025-06-01T00:00:00Z');
const base: SfFieldSpec[] = [
  { field: 'Id', kind: 'id', required: true },
  { field: 'Name', kind: 'text' },
  { field: 'Seats__c', kind: 'double' },
  { field: 'SystemModstamp', kind: 'datetime', required: true },
];
const plan = (over: Partial<EvolutionInput>) =>
  planSchemaEvolution({ stream: 's', object: 'Thing__c', known: { version: 3, fields: base.map(knownField) }, specs: base, unreadable: [], silverColumns: ['id', 'name', 'seats', 'system_modstamp', '_deleted', '_merged_at'], now, ...over });

describe('planSchemaEvolution', () => {
  it('nothing changed: nothing recorded, no re-read, version kept', () => {
    const p = plan({});
    expect(p).toMatchObject({ changes: [], addColumns: [], reread: false, stop: [], next: { version: 3 } });
  });

  it('a new field: a nullable column, a re-read filling it, the version moves', () => {
    const p = plan({ specs: [...base, { field: 'Region__c', kind: 'text' }] });
    expect(p.addColumns).toEqual([{ name: 'region', type: 'varchar', nullable: true }]);
    expect(p.fill).toEqual(['region']);
    expect(p.reread).toBe(true);
    expect(p.next.version).toBe(4);
    expect(p.changes[0]).toMatchObject({ change: 'field_added', field: 'Region__c', column: 'region', toType: 'text/varchar', action: 'column_added' });
  });

  it('change ids are deterministic per stream schema version: a retried run records nothing new, a later one does', () => {
    const specs = [...base, { field: 'Region__c', kind: 'text' as const }];
    expect(plan({ specs }).changes[0].id).toBe(plan({ specs }).changes[0].id);
    expect(plan({ specs, known: { version: 4, fields: base.map(knownField) } }).changes[0].id).not.toBe(plan({ specs }).changes[0].id);
  });

  it('a field gone: recorded with why, column kept, nothing re-read', () => {
    const hidden = plan({ specs: base.filter((f) => f.field !== 'Seats__c') });
    expect(hidden.changes).toMatchObject([{ change: 'field_gone', field: 'Seats__c', column: 'seats', action: 'column_kept' }]);
    expect(hidden.changes[0].detail).toMatch(/field-level security/);
    expect(hidden).toMatchObject({ addColumns: [], reread: false });
    const dropped = plan({ specs: base.filter((f) => f.field !== 'Seats__c'), listed: ['Id', 'Name', 'SystemModstamp'] });
    expect(dropped.changes[0].detail).toMatch(/removed from config\/streams.yaml/);
  });

  it('a type change that moves the column type stops the stream, applies nothing, remembers the old schema', () => {
    const p = plan({ specs: base.map((f) => (f.field === 'Seats__c' ? { field: 'Seats__c', kind: 'text' as const } : f)) });
    expect(p.stop).toHaveLength(1);
    expect(p.stop[0]).toMatchObject({ change: 'type_changed', field: 'Seats__c', fromType: 'double/double', toType: 'text/varchar', action: 'stream_stopped' });
    expect(p.stop[0].detail).toMatch(/all_except: \[Seats__c\]/);
    expect(p.stop[0].detail).toMatch(/rename or drop silver\.s\.seats/);
    expect(p).toMatchObject({ addColumns: [], reread: false, next: { version: 3 } });
    expect(p.next.fields.find((f) => f.field === 'Seats__c')?.type).toBe('double');
  });

  it('a type change with the old column dropped by the operator: recreated with the new type and re-read', () => {
    const p = plan({ specs: base.map((f) => (f.field === 'Seats__c' ? { field: 'Seats__c', kind: 'text' as const } : f)), silverColumns: ['id', 'name', 'system_modstamp'] });
    expect(p.stop).toEqual([]);
    expect(p.changes).toMatchObject([{ change: 'field_added', field: 'Seats__c', action: 'column_recreated' }]);
    expect(p.addColumns).toEqual([{ name: 'seats', type: 'varchar', nullable: true }]);
    expect(p.reread).toBe(true);
  });

  it('a type change within the same column type (lookup → text) is recorded and goes on', () => {
    const known = [...base, { field: 'Owner__c', kind: 'ref' as const }].map(knownField);
    const p = plan({ known: { version: 1, fields: known }, specs: [...base, { field: 'Owner__c', kind: 'text' }], silverColumns: ['id', 'name', 'seats', 'system_modstamp', 'owner'] });
    expect(p.stop).toEqual([]);
    expect(p.changes).toMatchObject([{ change: 'type_changed', action: 'compatible', fromType: 'ref/varchar', toType: 'text/varchar' }]);
    expect(p.reread).toBe(false);
  });

  it('first time remembered: a fresh table is created whole; an existing one only gains what it lacks', () => {
    expect(plan({ known: undefined, silverColumns: undefined })).toMatchObject({ changes: [], reread: false, next: { version: 0 } });
    const p = plan({ known: undefined, specs: [...base, { field: 'Region__c', kind: 'text' }] });
    expect(p.changes.map((c) => c.field)).toEqual(['Region__c']);
    expect(p.reread).toBe(true);
  });
});
