/** The SOQL subset the emulator understands, as parsed (names not yet checked against the schema). */
export type Literal =
  | { kind: 'string'; value: string; pos: number }
  | { kind: 'number'; value: number; pos: number }
  | { kind: 'datetime'; value: number; text: string; pos: number }
  | { kind: 'date'; value: string; pos: number }
  | { kind: 'boolean'; value: boolean; pos: number }
  | { kind: 'null'; pos: number };

export interface FieldRef {
  /** `Account.Name` is ['Account', 'Name']. */
  path: string[];
  pos: number;
}

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

export type Condition =
  | { type: 'and' | 'or'; items: Condition[] }
  | { type: 'not'; item: Condition }
  | { type: 'compare'; field: FieldRef; op: CompareOp; value: Literal }
  | { type: 'in'; field: FieldRef; negated: boolean; values: Literal[] }
  | { type: 'like'; field: FieldRef; pattern: Literal };

export interface OrderItem {
  field: FieldRef;
  descending: boolean;
  nullsFirst: boolean;
}

export interface SoqlQuery {
  soql: string;
  select: { kind: 'count'; pos: number } | { kind: 'fields'; fields: FieldRef[] };
  from: { name: string; pos: number };
  where?: Condition;
  orderBy: OrderItem[];
  limit?: number;
  offset?: number;
}
