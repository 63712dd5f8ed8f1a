import { databricksDialect, duckdbDialect } from '../connectors/warehouse/dialect';
import { columnTypeOf, fieldKind, isCompoundField, resolveFields, type DescribeField, type ObjectFieldsConfig, type SObjectDescribe } from '../mappings/salesforce-describe';
import { columnName, sfColumnType } from '../mappings/salesforce-fields';
import { knownFieldKinds } from '../mappings/salesforce-known-fields';
import type { SalesforceObjectConfig } from './config/schema';
import { defaultSalesforceStreamName } from './config/schema';
import { salesforceDeclarations } from './salesforce';

/**
 * What `npx novade streams discover` and `streams check` print: the fields describe offers with
 * the column each becomes, a YAML entry to paste, and the problems of the streams file against the
 * live describe. Pure: the CLI does the calls.
 */

const DATABRICKS = databricksDialect({ catalog: 'main' });

export interface DiscoveredField {
  field: string;
  label: string;
  type: string;
  custom: boolean;
  /** Undefined for a field that is never a column (compound, binary). */
  column?: string;
  duckdb?: string;
  databricks?: string;
  notes: string[];
}

function notesOf(f: DescribeField): string[] {
  const notes: string[] = [];
  if (f.custom) notes.push('custom');
  if (f.calculated) notes.push(`formula (changes without SystemModstamp moving)${f.calculatedFormula ? `: ${f.calculatedFormula.slice(0, 60)}` : ''}`);
  if (f.compoundFieldName && isCompoundTarget(f)) notes.push(`part of ${f.compoundFieldName}`);
  const kind = fieldKind(f);
  if ('skip' in kind) notes.push(`not read: ${kind.skip}`);
  return notes;
}

/** Components of addresses and geolocations (not of a Name, which stays a plain text field). */
const isCompoundTarget = (f: DescribeField) => !/^(FirstName|LastName|MiddleName|Salutation|Suffix)$/.test(f.name);

export function discoverFields(describe: SObjectDescribe): DiscoveredField[] {
  return describe.fields.map((f) => {
    const type = columnTypeOf(f);
    const column = type === undefined ? {} : { column: columnName(f.name), duckdb: duckdbDialect.type(type), databricks: DATABRICKS.type(type) };
    return { field: f.name, label: f.label ?? f.name, type: f.type, custom: f.custom === true || f.name.endsWith('__c'), ...column, notes: notesOf(f) };
  });
}

/**
 * A streams.yaml entry for the object: every readable field named (so nothing changes unnoticed;
 * `all` follows new fields instead), formulas named in a comment.
 */
export function yamlSnippet(describe: SObjectDescribe): string {
  const fields = describe.fields.filter((f) => !isCompoundField(f) && 'kind' in fieldKind(f)).map((f) => f.name);
  const formulas = describe.fields.filter((f) => f.calculated).map((f) => f.name);
  const header = [
    `# ${describe.name}: ${fields.length} readable fields${formulas.length ? `; formulas ${formulas.join(', ')} change without SystemModstamp moving (silver sees a new value with the record's next change, or at each \`full_reread\`)` : ''}.`,
    '# Paste under salesforce.objects in config/streams.yaml; `fields: all` follows fields added later.',
  ];
  const body = [
    'salesforce:',
    '  objects:',
    `    - object: ${describe.name}`,
    `      stream: ${defaultSalesforceStreamName(describe.name)}`,
    `      fields: [${fields.join(', ')}]`,
  ].join('\n');
  return `${header.join('\n')}\n${body}\n`;
}

export interface CheckProblem {
  object: string;
  field?: string;
  problem: 'object_unreadable' | 'unreadable' | 'retyped';
  detail: string;
}

/**
 * The streams file's object against the live describe: fields it lists that the integration user
 * cannot read, and built-in fields whose column type describe now contradicts.
 */
export function checkObject(config: SalesforceObjectConfig, describe: SObjectDescribe, userIdField?: string): { problems: CheckProblem[]; notes: string[] } {
  // What the stream reads: the selection plus what its rules need (as the sync resolves it).
  const [decl] = salesforceDeclarations({ objects: [config] }, { userIdField });
  const selection: ObjectFieldsConfig = decl.fromDescribe?.config ?? { object: config.object, fields: decl.fields, cursor: config.cursor, deletes: config.deletes };
  const resolved = resolveFields(selection, describe);
  const problems: CheckProblem[] = resolved.unreadable.map((field) => ({
    object: config.object,
    field,
    problem: 'unreadable',
    detail: `${config.object}.${field} is not readable: missing in this org or hidden by field-level security (npx novade doctor names the permission to grant), or remove it from the file`,
  }));
  const known = knownFieldKinds(config.object);
  const byName = new Map(describe.fields.map((f) => [f.name.toLowerCase(), f]));
  for (const spec of resolved.specs) {
    const was = known.get(spec.field);
    const f = byName.get(spec.field.toLowerCase());
    if (was === undefined || f === undefined) continue;
    if (sfColumnType(was) !== sfColumnType(spec.kind))
      problems.push({
        object: config.object,
        field: spec.field,
        problem: 'retyped',
        detail: `${config.object}.${spec.field} is ${f.type} in Salesforce, stored as ${was} (${sfColumnType(was)}) by novade-sync: the stream stops on it; see docs/streams.md "Schema evolution"`,
      });
  }
  const notes = [
    ...resolved.formulas.map(
      (f) =>
        `${config.object}.${f} is a formula: its changes do not move SystemModstamp, so silver sees them with the record's next change` +
        (config.full_reread ? ` and at each full re-read (full_reread: ${config.full_reread})` : ' (set `full_reread: 7d` on the object to re-read it periodically)'),
    ),
    ...resolved.skipped.filter((s) => !s.reason.startsWith('excluded')).map((s) => `${config.object}.${s.field} not read: ${s.reason}`),
  ];
  return { problems, notes };
}
