import { compoundName, SEED_ID_BASE, type SalesforceSeed, type StagePlanStep } from '../seed/salesforce';
import { person } from '../seed/people';
import { SalesforceApiError } from './errors';
import { KEY_PREFIX, sfId, toId18 } from './ids';
import { OrgSchema } from './org-schema';
import { SOBJECT_NAMES, stageFields, type FieldDef, type FieldType, type FieldValue, type FormulaContext, type SObjectName, type StoredRecord } from './schema';
import { isSfDate, parseSfDateTime, toSfDate, toSfDateTime, truncateToSecond } from './time';

/** A compound field's REST value: `{ street, city, ... }` for an address, `{ latitude, longitude }` for a geolocation. */
export type CompoundValue = Record<string, FieldValue>;
/** A record as the REST API shows it (datetimes formatted), without `attributes`. */
export type ApiRecord = Record<string, FieldValue | CompoundValue>;
export type FieldInput = Record<string, unknown>;

export interface MutationOptions {
  /** The SystemModstamp to give the change (default: the emulator clock). An earlier time emulates
   * a transaction that commits with a timestamp below what a reader has already seen. */
  at?: Date | number;
}

export interface StoreChange {
  object: SObjectName;
  id: string;
  kind: 'create' | 'update' | 'delete' | 'stage';
  systemModstamp: number;
}

/** The integration user every API session runs as; owner of records created through the API. */
export const INTEGRATION_USER_ID = sfId(KEY_PREFIX.User, SEED_ID_BASE + 1);

const DAY = 86_400_000;
const REQUIRED: Record<SObjectName, string[]> = {
  Account: ['Name'],
  Contact: ['LastName'],
  Lead: ['LastName', 'Company'],
  Opportunity: ['Name', 'StageName', 'CloseDate'],
  Project__c: ['Name'],
};

/**
 * The org's records, with the mutations tests need. Records are immutable objects: a change
 * replaces the record, so query cursors and bulk jobs keep the snapshot they were opened on.
 *
 * The clock is the emulator's `now()` plus whatever `advance()` added. Open opportunities follow
 * the seed's stage plan, measured from the moment the store was created: advancing the clock (or
 * just waiting) makes them change stage, each change with a fresh SystemModstamp.
 */
export class SalesforceStore {
  private readonly tables = {} as Record<SObjectName, Map<string, StoredRecord>>;
  private readonly nextNumber = {} as Record<SObjectName, number>;
  private offsetMs = 0;
  private readonly plan: StagePlanStep[];
  private planCursor = 0;
  private generated = 0;
  readonly startedAt: number;
  /** Every change since start, oldest first (for tests and the sandbox UI). */
  readonly changes: StoreChange[] = [];
  /** The org's objects and fields, which tests may change at run time (see `addField`). */
  readonly schema = new OrgSchema();

  constructor(
    private readonly seed: SalesforceSeed,
    private readonly clock: () => Date = () => new Date(),
  ) {
    for (const name of SOBJECT_NAMES) {
      this.tables[name] = new Map(seed.records[name].map((r) => [r.Id as string, r]));
      this.nextNumber[name] = SEED_ID_BASE + seed.records[name].length;
    }
    this.plan = seed.stagePlan;
    this.startedAt = clock().getTime();
  }

  /** The emulator's current time, epoch ms. */
  now(): number {
    return this.clock().getTime() + this.offsetMs;
  }

  /** Moves the emulator clock forward and applies the stage changes that fell due. */
  advance(ms: number): StoreChange[] {
    if (ms < 0) throw new Error('The emulator clock only moves forward');
    this.offsetMs += ms;
    return this.tick();
  }

  /** Applies the stage changes due by now; the emulator calls it before answering any request. */
  tick(): StoreChange[] {
    const now = this.now();
    const applied: StoreChange[] = [];
    while (this.planCursor < this.plan.length && this.startedAt + this.plan[this.planCursor].afterMs <= now) {
      const step = this.plan[this.planCursor++];
      const current = this.tables.Opportunity.get(step.opportunityId);
      if (!current || current.IsDeleted || current.IsClosed) continue;
      const at = truncateToSecond(this.startedAt + step.afterMs);
      const closing = step.stage.startsWith('Closed');
      this.replace('Opportunity', { ...current, StageName: step.stage, ...stageFields(step.stage), ...(closing ? { CloseDate: toSfDate(at) } : {}), LastModifiedDate: at, SystemModstamp: at });
      const change: StoreChange = { object: 'Opportunity', id: step.opportunityId, kind: 'stage', systemModstamp: at };
      this.changes.push(change);
      applied.push(change);
    }
    return applied;
  }

  /** Stage changes still to come, for tests that want to wait for the next one. */
  pendingStageChanges(): { opportunityId: string; at: number; stage: string }[] {
    return this.plan.slice(this.planCursor).map((s) => ({ opportunityId: s.opportunityId, at: this.startedAt + s.afterMs, stage: s.stage }));
  }

  formulaContext(): FormulaContext {
    const now = this.now();
    return { now, record: (object, id) => this.tables[object].get(id) };
  }

  /** Stored records of an object in Id order; the recycle bin only when asked. */
  records(object: SObjectName, opts: { includeDeleted?: boolean } = {}): StoredRecord[] {
    const all = [...this.tables[object].values()];
    return opts.includeDeleted ? all : all.filter((r) => !r.IsDeleted);
  }

  count(object: SObjectName, opts: { includeDeleted?: boolean } = {}): number {
    if (opts.includeDeleted) return this.tables[object].size;
    let n = 0;
    for (const r of this.tables[object].values()) if (!r.IsDeleted) n++;
    return n;
  }

  stored(object: SObjectName, id: string): StoredRecord | undefined {
    const id18 = toId18(id);
    return id18 ? this.tables[object].get(id18) : undefined;
  }

  /** The record with every field (formulas included), datetimes as the REST API writes them. */
  get(object: SObjectName, id: string): ApiRecord | undefined {
    const record = this.stored(object, id);
    return record ? toApiRecord(record, this.schema.get(object).fields, this.formulaContext()) : undefined;
  }

  create(object: SObjectName, fields: FieldInput, opts: MutationOptions = {}): string {
    const at = this.stampOf(opts);
    const record = this.buildNew(object, fields, at);
    this.replace(object, record);
    this.changes.push({ object, id: record.Id as string, kind: 'create', systemModstamp: at });
    return record.Id as string;
  }

  /**
   * A bulk import: `count` new records that all share one CreatedDate and SystemModstamp, the
   * ties an incremental sync must page through without losing or repeating any.
   */
  createMany(object: SObjectName, count: number, opts: MutationOptions & { fields?: (i: number) => FieldInput } = {}): string[] {
    const at = this.stampOf(opts);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const record = this.buildNew(object, { ...this.sampleFields(object), ...(opts.fields?.(i) ?? {}) }, at);
      this.replace(object, record);
      ids.push(record.Id as string);
      this.changes.push({ object, id: record.Id as string, kind: 'create', systemModstamp: at });
    }
    return ids;
  }

  update(object: SObjectName, id: string, fields: FieldInput, opts: MutationOptions = {}): void {
    const current = this.live(object, id);
    const at = this.stampOf(opts);
    const values = this.coerce(object, fields, 'update');
    const next: Record<string, FieldValue> = { ...current, ...values };
    derive(object, next, values);
    next.LastModifiedDate = at;
    next.SystemModstamp = at;
    this.replace(object, next);
    this.changes.push({ object, id: current.Id as string, kind: 'update', systemModstamp: at });
  }

  /** A system change (e.g. a recalculation job): bumps SystemModstamp, not LastModifiedDate. */
  touch(object: SObjectName, id: string, opts: MutationOptions = {}): void {
    const current = this.live(object, id);
    const at = this.stampOf(opts);
    this.replace(object, { ...current, SystemModstamp: at });
    this.changes.push({ object, id: current.Id as string, kind: 'update', systemModstamp: at });
  }

  /**
   * Lead conversion (Salesforce's convertLead): the one way IsConverted and the Converted* fields
   * change, since the API refuses to update them.
   */
  convertLead(id: string, into: { contactId?: string | null; accountId?: string | null; opportunityId?: string | null }, opts: MutationOptions = {}): void {
    const current = this.live('Lead', id);
    if (current.IsConverted === true) throw new SalesforceApiError(400, 'INVALID_STATUS', 'This lead was already converted');
    const at = this.stampOf(opts);
    this.replace('Lead', {
      ...current,
      IsConverted: true,
      Status: 'Closed - Converted',
      ConvertedDate: toSfDate(at),
      ConvertedContactId: into.contactId ?? null,
      ConvertedAccountId: into.accountId ?? null,
      ConvertedOpportunityId: into.opportunityId ?? null,
      LastModifiedDate: at,
      SystemModstamp: at,
    });
    this.changes.push({ object: 'Lead', id: current.Id as string, kind: 'update', systemModstamp: at });
  }

  /** Moves the record to the recycle bin: visible only to queryAll, with IsDeleted = true. */
  delete(object: SObjectName, id: string, opts: MutationOptions = {}): void {
    const current = this.live(object, id);
    const at = this.stampOf(opts);
    this.replace(object, { ...current, IsDeleted: true, LastModifiedDate: at, SystemModstamp: at });
    this.changes.push({ object, id: current.Id as string, kind: 'delete', systemModstamp: at });
  }

  private live(object: SObjectName, id: string): StoredRecord {
    const current = this.stored(object, id);
    if (!current) throw new SalesforceApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    if (current.IsDeleted) throw new SalesforceApiError(404, 'ENTITY_IS_DELETED', 'entity is deleted');
    return current;
  }

  private replace(object: SObjectName, record: StoredRecord): void {
    this.tables[object].set(record.Id as string, record);
  }

  private stampOf(opts: MutationOptions): number {
    const at = opts.at === undefined ? this.now() : typeof opts.at === 'number' ? opts.at : opts.at.getTime();
    return truncateToSecond(at);
  }

  private buildNew(object: SObjectName, fields: FieldInput, at: number): StoredRecord {
    const values = this.coerce(object, fields, 'create');
    const missing = REQUIRED[object].filter((name) => values[name] === undefined || values[name] === null || values[name] === '');
    if (missing.length > 0) throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing);
    const record: Record<string, FieldValue> = {};
    for (const field of this.schema.storedFields(object)) {
      if (field.formula || field.components) continue;
      record[field.name] = field.type === 'boolean' ? false : null;
    }
    Object.assign(record, values);
    record.Id = sfId(this.schema.get(object).keyPrefix, this.nextNumber[object]++);
    record.OwnerId ??= INTEGRATION_USER_ID;
    record.IsDeleted = false;
    record.CreatedDate = record.LastModifiedDate = record.SystemModstamp = at;
    if (object === 'Lead') record.Status ??= 'Open - Not Contacted';
    derive(object, record, values);
    return record;
  }

  /** Plausible fields for generated records, from the shared people world past the seeded ones. */
  private sampleFields(object: SObjectName): FieldInput {
    const p = person(this.seed.seed, 1_000_000 + this.generated++);
    switch (object) {
      case 'Account':
        return { Name: p.company };
      case 'Contact':
        return { FirstName: p.firstName, LastName: p.lastName.slice(0, 80), Email: p.email, Title: p.title, Phone: p.phone, MailingCountry: p.country };
      case 'Lead':
        return { FirstName: p.firstName, LastName: p.lastName.slice(0, 80), Email: p.email, Title: p.title, Company: p.company, Country: p.country };
      case 'Opportunity':
        return { Name: `${p.company} - Novade`, StageName: 'Prospecting', CloseDate: toSfDate(this.now() + 30 * DAY) };
      case 'Project__c':
        return { Name: `${p.company} - ${p.country} site`.slice(0, 80), Status__c: 'Planning' };
    }
  }

  /**
   * Adds a field, as an admin does in Setup. Existing records hold null, unless `values` (by record
   * id) gives theirs: set without moving SystemModstamp, as for a field that already held data
   * before the integration user could see it, or a new formula.
   */
  addField(object: SObjectName, field: Omit<FieldDef, 'label' | 'nillable' | 'createable' | 'updateable'> & Partial<FieldDef>, values: Record<string, unknown> = {}): FieldDef {
    const def: FieldDef = {
      label: field.name.replace(/__c$/, '').replace(/_/g, ' '),
      nillable: field.type !== 'boolean',
      createable: field.formula === undefined,
      updateable: field.formula === undefined,
      ...field,
    };
    this.schema.addField(object, def);
    for (const [id, raw] of Object.entries(values)) {
      const current = this.live(object, id);
      this.replace(object, { ...current, [def.name]: coerceValue(def, raw) });
    }
    return def;
  }

  /** Field-level security removes the integration user's read access: describe omits it, SOQL refuses it. */
  hideField(object: SObjectName, name: string): FieldDef {
    return this.schema.hideField(object, name);
  }

  showField(object: SObjectName, name: string): FieldDef {
    return this.schema.showField(object, name);
  }

  /**
   * Changes a field's type in Setup. Stored values are converted where they can be (a number to
   * text, numeric text to a number) and cleared where they cannot, without moving SystemModstamp.
   */
  retypeField(object: SObjectName, name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
    const wasDateTime = this.schema.storedFields(object).find((f) => f.name.toLowerCase() === name.toLowerCase())?.type === 'datetime';
    const next = this.schema.retypeField(object, name, type, extra);
    for (const record of this.tables[object].values()) {
      const value = record[next.name];
      if (value === undefined || value === null) continue;
      let converted: FieldValue;
      try {
        converted = coerceValue({ ...next, nillable: true }, wasDateTime && typeof value === 'number' ? toSfDateTime(value) : value);
      } catch {
        converted = null;
      }
      if (converted !== value) this.replace(object, { ...record, [next.name]: converted });
    }
    return next;
  }

  /** Checks names, writability, types and lengths the way the sObject REST API does. */
  private coerce(object: SObjectName, fields: FieldInput, mode: 'create' | 'update'): Record<string, FieldValue> {
    const def = this.schema.get(object);
    const out: Record<string, FieldValue> = {};
    for (const [name, raw] of Object.entries(fields)) {
      if (name === 'attributes') continue;
      const field = def.byLowerName.get(name.toLowerCase());
      if (!field) throw new SalesforceApiError(400, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${object}`, [name]);
      if (mode === 'create' ? !field.createable : !field.updateable) {
        throw new SalesforceApiError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${field.name}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, [field.name]);
      }
      out[field.name] = coerceValue(field, raw);
    }
    return out;
  }
}

function coerceValue(field: FieldDef, raw: unknown): FieldValue {
  if (raw === null || raw === undefined || raw === '') {
    if (!field.nillable && field.type !== 'boolean') throw new SalesforceApiError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${field.name}]`, [field.name]);
    return field.type === 'boolean' ? false : null;
  }
  const bad = () => new SalesforceApiError(400, 'INVALID_TYPE_ON_FIELD_IN_RECORD', `${field.label}: value not of required type: ${JSON.stringify(raw)}`, [field.name]);
  switch (field.type) {
    case 'boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw bad();
    case 'datetime': {
      const ms = typeof raw === 'number' ? raw : typeof raw === 'string' ? parseSfDateTime(raw) : undefined;
      if (ms === undefined) throw bad();
      return ms;
    }
    case 'date':
      if (typeof raw !== 'string' || !isSfDate(raw)) throw bad();
      return raw;
    case 'currency':
    case 'percent':
    case 'double':
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) throw bad();
      return field.type === 'int' ? Math.trunc(n) : n;
    }
    case 'id':
    case 'reference': {
      const id = typeof raw === 'string' ? toId18(raw) : undefined;
      if (!id) throw new SalesforceApiError(400, 'MALFORMED_ID', `${field.label}: id value of incorrect type: ${String(raw)}`, [field.name]);
      return id;
    }
    default: {
      const text = typeof raw === 'string' ? raw : typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : undefined;
      if (text === undefined) throw bad();
      if (field.picklistValues === undefined && field.length !== undefined && text.length > field.length) {
        throw new SalesforceApiError(400, 'STRING_TOO_LONG', `${field.label}: data value too large: ${text.slice(0, 40)} (max length=${field.length})`, [field.name]);
      }
      return text;
    }
  }
}

/** Fields Salesforce derives: compound names, stage-driven probability / closed / won. */
function derive(object: SObjectName, record: Record<string, FieldValue>, changed: Record<string, FieldValue>): void {
  if (object === 'Contact' || object === 'Lead') record.Name = compoundName(record.FirstName, record.LastName);
  if (object === 'Opportunity' && typeof changed.StageName === 'string') {
    const derived = stageFields(changed.StageName);
    // An explicit Probability wins, as in Salesforce; the rest follows the stage.
    Object.assign(record, derived, changed.Probability !== undefined ? { Probability: changed.Probability } : {});
  }
}

/** The REST form of a stored record for the given fields, formulas evaluated now. */
export function toApiRecord(record: StoredRecord, fields: readonly FieldDef[], ctx: FormulaContext): ApiRecord {
  const out: ApiRecord = {};
  for (const field of fields) {
    if (field.components) {
      out[field.name] = compoundValue(record, field.components);
      continue;
    }
    const value = field.formula ? field.formula(record, ctx) : (record[field.name] ?? null);
    out[field.name] = field.type === 'datetime' && typeof value === 'number' ? toSfDateTime(value) : value;
  }
  return out;
}

/** A compound's structured value; null when every component is empty. */
function compoundValue(record: StoredRecord, components: Readonly<Record<string, string>>): CompoundValue | null {
  const out: CompoundValue = {};
  let any = false;
  for (const [name, key] of Object.entries(components)) {
    const value = record[name] ?? null;
    if (value !== null) any = true;
    out[key] = value;
  }
  return any ? out : null;
}
