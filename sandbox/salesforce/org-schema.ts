import { SalesforceApiError } from './errors';
import { baseObjectDefs, objectDef, SOBJECT_NAMES, type FieldDef, type FieldType, type ObjectDef, type SObjectName } from './schema';

/**
 * One emulator's schema, which tests change at run time the way an admin changes an org in Setup:
 * a field is added, hidden from the integration user by field-level security, or given another
 * type. A hidden field is not in describe and SOQL refuses it, exactly as for a field that does
 * not exist; its stored values stay, and come back when it is shown again.
 *
 * Each change replaces the object's definition: a query cursor or Bulk job keeps the fields it was
 * planned with.
 */
export class OrgSchema {
  private readonly all: Record<SObjectName, FieldDef[]>;
  private readonly hidden: Record<SObjectName, Set<string>>;
  private visible: Record<SObjectName, ObjectDef>;

  constructor() {
    const defs = baseObjectDefs();
    this.all = Object.fromEntries(SOBJECT_NAMES.map((n) => [n, [...defs[n].fields]])) as Record<SObjectName, FieldDef[]>;
    this.hidden = Object.fromEntries(SOBJECT_NAMES.map((n) => [n, new Set<string>()])) as Record<SObjectName, Set<string>>;
    this.visible = defs;
  }

  objects(): ObjectDef[] {
    return SOBJECT_NAMES.map((n) => this.visible[n]);
  }

  /** The object as the integration user sees it. */
  get(name: SObjectName): ObjectDef {
    return this.visible[name];
  }

  /** The object for a name as a client may spell it (SOQL and URLs are case-insensitive). */
  find(name: string): ObjectDef | undefined {
    const lower = name.toLowerCase();
    return this.objects().find((o) => o.name.toLowerCase() === lower);
  }

  /** Every field with stored values, hidden ones included (what a new record is initialised with). */
  storedFields(name: SObjectName): readonly FieldDef[] {
    return this.all[name];
  }

  /** Adds a field (a custom one, as an admin would). Answers the definition added. */
  addField(object: SObjectName, field: FieldDef): FieldDef {
    if (this.field(object, field.name)) throw new SalesforceApiError(400, 'DUPLICATE_DEVELOPER_NAME', `A field named ${field.name} already exists on ${object}`);
    this.all[object].push(field);
    this.rebuild(object);
    return field;
  }

  /** Field-level security: the integration user loses read access to the field. */
  hideField(object: SObjectName, name: string): FieldDef {
    const field = this.require(object, name);
    if (field.name === 'Id' || field.system) throw new SalesforceApiError(400, 'CANNOT_HIDE', `${object}.${field.name} is a system field and is always visible`);
    this.hidden[object].add(field.name);
    this.rebuild(object);
    return field;
  }

  showField(object: SObjectName, name: string): FieldDef {
    const field = this.require(object, name);
    this.hidden[object].delete(field.name);
    this.rebuild(object);
    return field;
  }

  /** Changes a field's type; answers the new definition (values are converted by the store). */
  retypeField(object: SObjectName, name: string, type: FieldType, extra: Partial<FieldDef> = {}): FieldDef {
    const field = this.require(object, name);
    if (field.system || field.components || field.compoundFieldName) throw new SalesforceApiError(400, 'CANNOT_CHANGE_FIELD_TYPE', `The type of ${object}.${field.name} cannot be changed`);
    const next: FieldDef = { ...field, picklistValues: undefined, length: undefined, precision: undefined, scale: undefined, referenceTo: undefined, ...extra, type };
    this.all[object] = this.all[object].map((f) => (f === field ? next : f));
    this.rebuild(object);
    return next;
  }

  isHidden(object: SObjectName, name: string): boolean {
    return this.hidden[object].has(name);
  }

  private field(object: SObjectName, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return this.all[object].find((f) => f.name.toLowerCase() === lower);
  }

  private require(object: SObjectName, name: string): FieldDef {
    const field = this.field(object, name);
    if (!field) throw new SalesforceApiError(404, 'INVALID_FIELD', `No such column '${name}' on sobject of type ${object}`);
    return field;
  }

  /** Hiding a compound's component hides the compound too: its value is made of the components. */
  private rebuild(object: SObjectName): void {
    const hidden = this.hidden[object];
    const fields = this.all[object].filter((f) => !hidden.has(f.name) && !(f.components && Object.keys(f.components).some((c) => hidden.has(c))));
    this.visible = { ...this.visible, [object]: objectDef(object, fields) };
  }
}
