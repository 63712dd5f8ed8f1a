import { isCompound, valueKind, type FieldDef, type FieldType, type ObjectDef } from './schema';

/**
 * The sObject Describe answer (`GET /sobjects/<Object>/describe`) in Salesforce's documented shape:
 * per field its `type` (lower case, e.g. `datetime`), `soapType` (`xsd:dateTime`, `tns:ID`,
 * `urn:address`, ...), sizes (`length`, `byteLength`, `precision`, `scale`, `digits`), flags
 * (`nillable`, `calculated` with `calculatedFormula`, `custom`, `externalId`, ...) and, for the
 * components of an address or geolocation, the compound they belong to (`compoundFieldName`).
 * Fields the integration user cannot read are absent, as field-level security makes them.
 */

const SOAP_TYPES: Partial<Record<FieldType, string>> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  boolean: 'xsd:boolean',
  datetime: 'xsd:dateTime',
  date: 'xsd:date',
  time: 'xsd:time',
  int: 'xsd:int',
  currency: 'xsd:double',
  percent: 'xsd:double',
  double: 'xsd:double',
  address: 'urn:address',
  location: 'urn:location',
};

const NUMERIC: ReadonlySet<FieldType> = new Set(['currency', 'percent', 'double']);

export function describeField(field: FieldDef) {
  const kind = valueKind(field.type);
  const compound = isCompound(field);
  const length = field.length ?? (field.type === 'picklist' || field.type === 'multipicklist' ? 255 : 0);
  const custom = field.name.endsWith('__c') || field.name.endsWith('__s');
  return {
    aggregatable: !compound && field.type !== 'textarea',
    autoNumber: false,
    byteLength: length * 3,
    calculated: field.formula !== undefined,
    calculatedFormula: field.formula !== undefined ? (field.formulaText ?? null) : null,
    cascadeDelete: false,
    caseSensitive: false,
    compoundFieldName: field.compoundFieldName ?? null,
    controllerName: null,
    createable: field.createable,
    custom,
    defaultValue: field.type === 'boolean' ? false : null,
    defaultValueFormula: null,
    defaultedOnCreate: field.type === 'boolean' || field.system === true || field.name === 'OwnerId',
    dependentPicklist: false,
    deprecatedAndHidden: false,
    digits: field.type === 'int' ? (field.precision ?? 9) : 0,
    displayLocationInDecimal: field.type === 'location',
    encrypted: false,
    externalId: field.externalId === true,
    extraTypeInfo: field.type === 'textarea' ? ((field.length ?? 0) > 255 ? 'plaintextarea' : null) : null,
    filterable: !compound && field.type !== 'textarea',
    filteredLookupInfo: null,
    groupable: !compound && field.type !== 'textarea' && kind !== 'number' && kind !== 'datetime',
    htmlFormatted: false,
    idLookup: field.type === 'id' || field.externalId === true,
    inlineHelpText: null,
    label: field.label,
    length,
    name: field.name,
    nameField: field.name === 'Name',
    namePointing: false,
    nillable: field.nillable,
    // Field-level security applies to optional fields only: required and system fields are always readable.
    permissionable: field.nillable && !field.system,
    picklistValues: (field.picklistValues ?? []).map((value, i) => ({ active: true, defaultValue: i === 0 && field.name === 'Status', label: value, validFor: null, value })),
    polymorphicForeignKey: field.referenceTo === 'User' && field.name === 'OwnerId',
    precision: NUMERIC.has(field.type) ? (field.precision ?? 18) : 0,
    queryByDistance: field.type === 'location',
    referenceTargetField: null,
    referenceTo: field.referenceTo ? [field.referenceTo] : [],
    relationshipName: relationshipName(field),
    relationshipOrder: null,
    restrictedPicklist: false,
    scale: NUMERIC.has(field.type) ? (field.scale ?? 2) : 0,
    searchPrefilterable: false,
    soapType: SOAP_TYPES[field.type] ?? 'xsd:string',
    sortable: !compound && field.type !== 'textarea',
    type: field.type,
    unique: field.unique === true,
    updateable: field.updateable,
    writeRequiresMasterRead: false,
  };
}

/** `AccountId` → `Account`, custom `Account__c` → `Account__r`. */
function relationshipName(field: FieldDef): string | null {
  if (!field.referenceTo) return null;
  if (field.name.endsWith('__c')) return `${field.name.slice(0, -3)}__r`;
  return field.name.endsWith('Id') ? field.name.slice(0, -2) : null;
}

export function objectSummary(object: ObjectDef, version: string) {
  const base = `/services/data/v${version}/sobjects/${object.name}`;
  return {
    name: object.name,
    label: object.label,
    labelPlural: object.labelPlural,
    keyPrefix: object.keyPrefix,
    custom: object.custom,
    customSetting: false,
    queryable: true,
    retrieveable: true,
    searchable: true,
    createable: true,
    updateable: true,
    deletable: true,
    undeletable: true,
    replicateable: true,
    layoutable: true,
    urls: { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` },
  };
}

export function describeObject(object: ObjectDef, version: string) {
  return { ...objectSummary(object, version), fields: object.fields.map(describeField), childRelationships: [], recordTypeInfos: [] };
}
