import type { TableRef } from './sql-tables';

/** What the inventory says about one node that touches an outside system. */

export type SystemName = 'salesforce' | 'segment' | 'bigquery' | 'amplitude' | 'drift' | 'http' | 'other';
export type Access = 'read' | 'write' | 'unknown';

export interface SalesforceUse {
  /** API name (`Opportunity`, `Project__c`); undefined when computed at run time. */
  object?: string;
  operation: string;
  /** Fields of `object` the node names (its field list, filters, SOQL), as API names. */
  fields: string[];
  /** The node reads every field (a Get by id, `FIELDS(ALL)`). */
  allFields: boolean;
  /** The field list is computed at run time. */
  fieldsDynamic: boolean;
  /** No field list given: n8n read its own default fields, listed in `fields`. */
  defaultFields: boolean;
  /** Relationship paths (`Account.Name`) the node reads through a lookup. */
  relationships: string[];
  soql?: string;
  /** Metadata, not records (Get Summary, flows). */
  metadata: boolean;
}

export interface HttpUse {
  method: string;
  url: string;
  host?: string;
  path?: string;
}

export interface SystemUse {
  node: string;
  type: string;
  system: SystemName;
  /** Who it is: `Salesforce`, `Slack`, `api.example.com`. */
  label: string;
  access: Access;
  /** `getAll`, `track`, `executeQuery`, `POST`... */
  operation?: string;
  salesforce?: SalesforceUse;
  bigquery?: { tables: TableRef[]; sql?: string };
  http?: HttpUse;
  segment?: { call: string };
  drift?: { resource: string };
  amplitude?: { api: string };
  /** A node type from a community package: what it does is not known here. */
  community?: boolean;
}

/** Operation names that only read, across n8n's nodes. */
export const READ_OPERATIONS = /^(get|getAll|getMany|list|search|read|lookup|query|find|fetch|download|export|getSummary|executeQuery|select|count)$/i;
export const WRITE_OPERATIONS = /^(create|update|upsert|delete|remove|insert|append|appendOrUpdate|send|sendMessage|post|add|addNote|addToCampaign|addComment|upload|invoke|track|identify|page|event|set|clear|move|copy|archive|patch|put|write|createOrUpdate|deleteRows|executeFunction)$/i;

export function accessOf(operation: string | undefined): Access {
  if (!operation) return 'unknown';
  if (READ_OPERATIONS.test(operation)) return 'read';
  if (WRITE_OPERATIONS.test(operation)) return 'write';
  return 'unknown';
}
