import { isSfDate, parseSfDateTime } from '../time';
import { soqlError } from './errors';

export type TokenKind = 'ident' | 'string' | 'number' | 'datetime' | 'date' | 'op' | 'punct' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Source text (for strings: the unescaped value). */
  text: string;
  pos: number;
  /** Epoch ms for datetime literals. */
  epochMs?: number;
}

const isDigit = (c: string) => c >= '0' && c <= '9';
const isIdentStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
const isIdentPart = (c: string) => isIdentStart(c) || isDigit(c);
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isDateTimeChar = (c: string) => isDigit(c) || c === ':' || c === '.' || c === '+' || c === '-' || c === 'Z' || c === 'T';

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', '"': '"', "'": "'", '\\': '\\', _: '\\_', '%': '\\%' };

/** Splits a SOQL string into tokens; keywords are plain identifiers, recognised by the parser. */
export function tokenize(soql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < soql.length) {
    const c = soql[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < soql.length && isIdentPart(soql[i])) i++;
      tokens.push({ kind: 'ident', text: soql.slice(start, i), pos: start });
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= soql.length) throw soqlError('MALFORMED_QUERY', soql, start, 'unterminated string literal');
        const ch = soql[i];
        if (ch === "'") break;
        if (ch === '\\') {
          const escaped = ESCAPES[soql[i + 1]];
          if (escaped === undefined) throw soqlError('MALFORMED_QUERY', soql, i, `Invalid string literal '${soql.slice(start, i + 2)}'. Illegal character sequence '\\${soql[i + 1] ?? ''}' in string literal.`);
          value += escaped;
          i += 2;
        } else {
          value += ch;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', text: value, pos: start });
    } else if (isDigit(c) || (c === '-' && isDigit(soql[i + 1] ?? ''))) {
      i++;
      while (i < soql.length && isDigit(soql[i])) i++;
      // Four digits then '-' opens a date or datetime literal (unquoted in SOQL).
      if (soql[i] === '-' && i - start === 4 && c !== '-') {
        while (i < soql.length && isDateTimeChar(soql[i])) i++;
        const text = soql.slice(start, i);
        if (text.includes('T')) {
          const epochMs = parseSfDateTime(text);
          if (epochMs === undefined) throw soqlError('MALFORMED_QUERY', soql, start, `line 1:${start} no viable alternative at character '${text}'`);
          tokens.push({ kind: 'datetime', text, pos: start, epochMs });
        } else {
          if (!isSfDate(text)) throw soqlError('MALFORMED_QUERY', soql, start, `line 1:${start} no viable alternative at character '${text}'`);
          tokens.push({ kind: 'date', text, pos: start });
        }
      } else {
        if (soql[i] === '.' && isDigit(soql[i + 1] ?? '')) {
          i++;
          while (i < soql.length && isDigit(soql[i])) i++;
        }
        tokens.push({ kind: 'number', text: soql.slice(start, i), pos: start });
      }
    } else if (c === '<' || c === '>' || c === '!' || c === '=') {
      const two = soql.slice(i, i + 2);
      if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
        tokens.push({ kind: 'op', text: two === '<>' ? '!=' : two, pos: start });
        i += 2;
      } else if (c === '!') {
        throw soqlError('MALFORMED_QUERY', soql, start, "unexpected token: '!'");
      } else {
        tokens.push({ kind: 'op', text: c, pos: start });
        i++;
      }
    } else if (c === '(' || c === ')' || c === ',' || c === '.') {
      tokens.push({ kind: 'punct', text: c, pos: start });
      i++;
    } else {
      throw soqlError('MALFORMED_QUERY', soql, start, `line 1:${start} no viable alternative at character '${c}'`);
    }
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: soql.length });
  return tokens;
}
