import type { CompareOp, Condition, FieldRef, Literal, OrderItem, SoqlQuery } from './ast';
import { soqlError } from './errors';
import { tokenize, type Token } from './tokens';

/**
 * Recursive-descent parser for the SOQL subset:
 *
 *   SELECT (COUNT() | field, ...) FROM Object
 *     [WHERE cond] [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n] [OFFSET n]
 *   cond := term ((AND term)* | (OR term)*)      -- SOQL refuses AND and OR mixed without parentheses
 *   term := NOT term | '(' cond ')' | field op literal | field [NOT] IN (literal, ...) | field LIKE 'pattern'
 */
export function parseSoql(soql: string): SoqlQuery {
  return new Parser(soql).query();
}

const RESERVED = new Set(['select', 'from', 'where', 'and', 'or', 'not', 'in', 'like', 'order', 'by', 'limit', 'offset', 'asc', 'desc', 'nulls', 'null', 'true', 'false', 'group', 'having', 'with']);

class Parser {
  private readonly tokens: Token[];
  private at = 0;

  constructor(private readonly soql: string) {
    this.tokens = tokenize(soql);
  }

  query(): SoqlQuery {
    this.expectKeyword('SELECT');
    const select = this.selectList();
    this.expectKeyword('FROM');
    const fromToken = this.next();
    if (fromToken.kind !== 'ident' || RESERVED.has(fromToken.text.toLowerCase())) throw this.unexpected(fromToken);
    const query: SoqlQuery = { soql: this.soql, select, from: { name: fromToken.text, pos: fromToken.pos }, orderBy: [] };
    if (this.acceptKeyword('WHERE')) query.where = this.condition();
    if (this.acceptKeyword('ORDER')) {
      this.expectKeyword('BY');
      query.orderBy = this.orderList();
    }
    if (this.acceptKeyword('LIMIT')) query.limit = this.nonNegativeInt();
    if (this.acceptKeyword('OFFSET')) query.offset = this.nonNegativeInt();
    const rest = this.peek();
    if (rest.kind !== 'eof') throw this.unexpected(rest);
    return query;
  }

  private selectList(): SoqlQuery['select'] {
    const first = this.peek();
    if (first.kind === 'ident' && first.text.toLowerCase() === 'count' && this.peek(1).text === '(') {
      this.next();
      this.expectPunct('(');
      this.expectPunct(')');
      return { kind: 'count', pos: first.pos };
    }
    const fields = [this.field()];
    while (this.acceptPunct(',')) fields.push(this.field());
    return { kind: 'fields', fields };
  }

  private field(): FieldRef {
    const first = this.next();
    if (first.kind !== 'ident' || RESERVED.has(first.text.toLowerCase())) throw this.unexpected(first);
    const path = [first.text];
    while (this.acceptPunct('.')) {
      const part = this.next();
      if (part.kind !== 'ident') throw this.unexpected(part);
      path.push(part.text);
    }
    return { path, pos: first.pos };
  }

  private condition(): Condition {
    const first = this.term();
    const joiner = this.peekKeyword('AND') ? 'and' : this.peekKeyword('OR') ? 'or' : undefined;
    if (!joiner) return first;
    const items = [first];
    while (this.acceptKeyword(joiner.toUpperCase())) items.push(this.term());
    const other = this.peek();
    if (this.peekKeyword(joiner === 'and' ? 'OR' : 'AND')) throw this.unexpected(other);
    return { type: joiner, items };
  }

  private term(): Condition {
    if (this.acceptKeyword('NOT')) return { type: 'not', item: this.term() };
    if (this.acceptPunct('(')) {
      const inner = this.condition();
      this.expectPunct(')');
      return inner;
    }
    const field = this.field();
    const token = this.next();
    if (token.kind === 'op') return { type: 'compare', field, op: token.text as CompareOp, value: this.literal() };
    if (token.kind === 'ident') {
      const word = token.text.toUpperCase();
      if (word === 'LIKE') return { type: 'like', field, pattern: this.literal() };
      if (word === 'IN') return { type: 'in', field, negated: false, values: this.literalList() };
      if (word === 'NOT' && this.acceptKeyword('IN')) return { type: 'in', field, negated: true, values: this.literalList() };
    }
    throw this.unexpected(token);
  }

  private literalList(): Literal[] {
    this.expectPunct('(');
    const values = [this.literal()];
    while (this.acceptPunct(',')) values.push(this.literal());
    this.expectPunct(')');
    return values;
  }

  private literal(): Literal {
    const token = this.next();
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.text, pos: token.pos };
      case 'number':
        return { kind: 'number', value: Number(token.text), pos: token.pos };
      case 'datetime':
        return { kind: 'datetime', value: token.epochMs as number, text: token.text, pos: token.pos };
      case 'date':
        return { kind: 'date', value: token.text, pos: token.pos };
      case 'ident': {
        const word = token.text.toLowerCase();
        if (word === 'null') return { kind: 'null', pos: token.pos };
        if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true', pos: token.pos };
        throw this.unexpected(token);
      }
      default:
        throw this.unexpected(token);
    }
  }

  private orderList(): OrderItem[] {
    const items: OrderItem[] = [];
    do {
      const field = this.field();
      let descending = false;
      if (this.acceptKeyword('DESC')) descending = true;
      else this.acceptKeyword('ASC');
      let nullsFirst = !descending;
      if (this.acceptKeyword('NULLS')) {
        if (this.acceptKeyword('FIRST')) nullsFirst = true;
        else if (this.acceptKeyword('LAST')) nullsFirst = false;
        else throw this.unexpected(this.peek());
      }
      items.push({ field, descending, nullsFirst });
    } while (this.acceptPunct(','));
    return items;
  }

  private nonNegativeInt(): number {
    const token = this.next();
    if (token.kind !== 'number' || !/^\d+$/.test(token.text)) throw this.unexpected(token);
    return Number(token.text);
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.at + ahead, this.tokens.length - 1)];
  }

  private next(): Token {
    const token = this.peek();
    if (this.at < this.tokens.length - 1) this.at++;
    return token;
  }

  private peekKeyword(word: string): boolean {
    const token = this.peek();
    return token.kind === 'ident' && token.text.toUpperCase() === word;
  }

  private acceptKeyword(word: string): boolean {
    if (!this.peekKeyword(word)) return false;
    this.at++;
    return true;
  }

  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) throw this.unexpected(this.peek());
  }

  private acceptPunct(p: string): boolean {
    const token = this.peek();
    if (token.kind !== 'punct' || token.text !== p) return false;
    this.at++;
    return true;
  }

  private expectPunct(p: string): void {
    if (!this.acceptPunct(p)) throw this.unexpected(this.peek());
  }

  private unexpected(token: Token) {
    const shown = token.kind === 'string' ? `'${token.text}'` : token.text;
    return soqlError('MALFORMED_QUERY', this.soql, token.pos, `unexpected token: ${shown}`);
  }
}
