import { describe, expect, it } from 'vitest';
import { ApiUsage } from '../../sandbox/salesforce/api-usage';
import { SalesforceApiError } from '../../sandbox/salesforce/errors';
import { runQuery } from '../../sandbox/salesforce/query-engine';
import { Sessions } from '../../sandbox/salesforce/sessions';
import { SalesforceStore } from '../../sandbox/salesforce/store';
import { generateSalesforceSeed } from '../../sandbox/seed/salesforce';

const START = Date.UTC(2026, 0, 5, 9, 0, 0);

function newStore() {
  let now = START;
  const store = new SalesforceStore(generateSalesforceSeed({ seed: 7, scale: 0.02 }), () => new Date(now));
  return { store, setNow: (ms: number) => (now = ms) };
}

function apiError(fn: () => unknown): SalesforceApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SalesforceApiError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('Salesforce store mutations', () => {
  it('create gives a new 18-character id and CreatedDate = LastModifiedDate = SystemModstamp = now, in whole seconds', () => {
    const { store, setNow } = newStore();
    setNow(START + 1_234);
    const id = store.create('Contact', { FirstName: 'Zoë', LastName: 'Ng', Email: 'zoe@example.com' });
    expect(id).toMatch(/^003[0-9A-Za-z]{15}$/);
    expect(store.get('Contact', id)).toMatchObject({ Name: 'Zoë Ng', Full_Name__c: 'Zoë Ng', IsDeleted: false, CreatedDate: '2026-01-05T09:00:01.000+0000', SystemModstamp: '2026-01-05T09:00:01.000+0000' });
  });

  it('update advances SystemModstamp and LastModifiedDate; touch advances SystemModstamp only', () => {
    const { store, setNow } = newStore();
    const id = store.records('Contact')[0].Id as string;
    setNow(START + 60_000);
    store.update('Contact', id, { Title: 'CEO' });
    expect(store.get('Contact', id)).toMatchObject({ Title: 'CEO', LastModifiedDate: '2026-01-05T09:01:00.000+0000', SystemModstamp: '2026-01-05T09:01:00.000+0000' });
    setNow(START + 120_000);
    store.touch('Contact', id);
    expect(store.get('Contact', id)).toMatchObject({ LastModifiedDate: '2026-01-05T09:01:00.000+0000', SystemModstamp: '2026-01-05T09:02:00.000+0000' });
  });

  it('delete sets IsDeleted and bumps SystemModstamp: the record leaves query and stays in queryAll', () => {
    const { store } = newStore();
    const id = store.records('Lead')[3].Id as string;
    store.delete('Lead', id);
    const soql = `SELECT Id, IsDeleted FROM Lead WHERE Id = '${id}'`;
    expect(runQuery(store, soql, { includeDeleted: false }).totalSize).toBe(0);
    expect(runQuery(store, soql, { includeDeleted: true }).rows[0]).toMatchObject({ IsDeleted: true, SystemModstamp: START });
    expect(apiError(() => store.update('Lead', id, { Title: 'x' })).errorCode).toBe('ENTITY_IS_DELETED');
  });

  it('a change can be given an earlier SystemModstamp, like a transaction that commits late', () => {
    const { store } = newStore();
    const id = store.create('Account', { Name: 'Late Commit Pte Ltd' }, { at: new Date(START - 30_000) });
    expect(store.get('Account', id)?.SystemModstamp).toBe('2026-01-05T08:59:30.000+0000');
  });

  it('createMany creates N records that share one SystemModstamp (a bulk import)', () => {
    const { store } = newStore();
    const ids = store.createMany('Contact', 500, { fields: (i) => ({ Title: `Imported ${i}` }) });
    expect(ids).toHaveLength(500);
    expect([...ids].sort()).toEqual(ids);
    const stamps = new Set(ids.map((id) => store.get('Contact', id)?.SystemModstamp));
    expect(stamps).toEqual(new Set(['2026-01-05T09:00:00.000+0000']));
    expect(store.get('Contact', ids[499])?.Title).toBe('Imported 499');
  });

  it('a formula field (Account_Name__c) changes with its Account while the Contact SystemModstamp does not', () => {
    const { store, setNow } = newStore();
    const contact = store.records('Contact').find((c) => c.AccountId !== null);
    const contactId = contact?.Id as string;
    const before = store.get('Contact', contactId);
    setNow(START + 3_600_000);
    store.update('Account', contact?.AccountId as string, { Name: 'Renamed Holdings' });
    const after = store.get('Contact', contactId);
    expect(after?.Account_Name__c).toBe('Renamed Holdings');
    expect(after?.SystemModstamp).toBe(before?.SystemModstamp);
  });

  it('rejects what the sObject API rejects: unknown or read-only fields, missing required fields, too long values', () => {
    const { store } = newStore();
    expect(apiError(() => store.create('Contact', { LastName: 'x', Nope__c: 1 })).errorCode).toBe('INVALID_FIELD');
    expect(apiError(() => store.create('Contact', { LastName: 'x', SystemModstamp: '2024-01-01T00:00:00Z' })).errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    expect(apiError(() => store.create('Contact', { LastName: 'x', Full_Name__c: 'y' })).errorCode).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    const missing = apiError(() => store.create('Lead', { LastName: 'x' }));
    expect([missing.status, missing.errorCode, missing.fields]).toEqual([400, 'REQUIRED_FIELD_MISSING', ['Company']]);
    expect(apiError(() => store.create('Contact', { LastName: 'x'.repeat(81) })).errorCode).toBe('STRING_TOO_LONG');
    expect(apiError(() => store.update('Contact', '003000000000000AAA', { Title: 'x' })).status).toBe(404);
  });

  it('changing StageName keeps Probability, IsClosed, IsWon and ForecastCategoryName consistent', () => {
    const { store } = newStore();
    const id = store.create('Opportunity', { Name: 'Big deal', StageName: 'Prospecting', CloseDate: '2026-03-31', Amount: 120_000 });
    store.update('Opportunity', id, { StageName: 'Closed Won' });
    expect(store.get('Opportunity', id)).toMatchObject({ StageName: 'Closed Won', Probability: 100, IsClosed: true, IsWon: true, ForecastCategoryName: 'Closed' });
  });
});

describe('Opportunities moving through stages over time', () => {
  it('advancing the clock applies due stage changes, each with a new SystemModstamp', () => {
    const { store } = newStore();
    const pending = store.pendingStageChanges();
    expect(pending.length).toBeGreaterThan(10);
    const first = pending[0];
    expect(store.advance(first.at - START - 1)).toEqual([]);
    const applied = store.advance(1);
    expect(applied.map((c) => c.id)).toContain(first.opportunityId);
    const opp = store.get('Opportunity', first.opportunityId);
    expect(opp?.StageName).toBe(first.stage);
    expect(opp?.SystemModstamp).toBe(new Date(Math.floor(first.at / 1000) * 1000).toISOString().replace('Z', '+0000'));
    const later = store.advance(365 * 86_400_000);
    expect(later.length).toBeGreaterThan(10);
    expect(store.records('Opportunity').filter((o) => !o.IsClosed && !o.IsDeleted)).toEqual([]);
  });

  it('is deterministic: two stores from the same seed and clock change the same way', () => {
    const a = newStore().store;
    const b = newStore().store;
    expect(a.advance(30 * 86_400_000)).toEqual(b.advance(30 * 86_400_000));
  });
});

describe('Sessions and API usage', () => {
  it('a session expires after N calls; setExpiry gives every session N more calls', () => {
    const sessions = new Sessions(2);
    const token = sessions.issue(0);
    expect([sessions.use(token), sessions.use(token), sessions.use(token)]).toEqual([true, true, false]);
    expect(sessions.use(token)).toBe(false);
    const other = sessions.issue(0);
    sessions.use(other);
    sessions.setExpiry(1);
    expect([sessions.use(other), sessions.use(other)]).toEqual([true, false]);
    sessions.setExpiry(undefined);
    const forever = sessions.issue(0);
    for (let i = 0; i < 100; i++) sessions.use(forever);
    expect(sessions.use(forever)).toBe(true);
    expect(sessions.use('made-up')).toBe(false);
  });

  it('API usage counts calls over a rolling 24 hours and refuses past the max', () => {
    const usage = new ApiUsage(3);
    expect([usage.tryUse(0), usage.tryUse(1_000), usage.tryUse(2_000), usage.tryUse(3_000)]).toEqual([true, true, true, false]);
    expect(usage.used(3_000)).toBe(3);
    expect(usage.used(24 * 3_600_000 + 500)).toBe(2);
    expect(usage.tryUse(24 * 3_600_000 + 500)).toBe(true);
  });
});
