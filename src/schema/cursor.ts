import type { Token } from '../sql/lexer.ts';
import { identValue } from '../sql/ddl-parse.ts';

/** A statement the tracker does not model; the message says what and where. */
export class Unsupported extends Error {}

/** A statement the tracker cannot read (it is malformed, or uses grammar not implemented here). */
export class ParseError extends Error {}

/** The statement names a column or index the model of its table lacks: the model is stale. */
export class StaleModel extends Error {}

/**
 * A cursor over the tokens of one statement (or one part of it: `end` bounds it), with the small vocabulary the
 * DDL readers share. Keywords are matched on `word` tokens only, so a quoted `key` is a name, never a keyword.
 */
export class Cursor {
  i: number;

  constructor(
    readonly t: Token[],
    start = 0,
    readonly end = t.length,
  ) {
    this.i = start;
  }

  atEnd(): boolean {
    return this.i >= this.end;
  }

  peek(k = 0): Token | undefined {
    const j = this.i + k;
    return j < this.end ? this.t[j] : undefined;
  }

  next(): Token {
    const tok = this.peek();
    if (tok === undefined) throw new ParseError('unexpected end of statement');
    this.i++;
    return tok;
  }

  isWord(w: string, k = 0): boolean {
    const tok = this.peek(k);
    return tok !== undefined && tok.type === 'word' && tok.upper === w;
  }

  isOp(o: string, k = 0): boolean {
    const tok = this.peek(k);
    return tok !== undefined && tok.type === 'op' && tok.text === o;
  }

  /** Consumes the keyword sequence if all of it is there. */
  kw(...ws: string[]): boolean {
    for (let k = 0; k < ws.length; k++) if (!this.isWord(ws[k]!, k)) return false;
    this.i += ws.length;
    return true;
  }

  kwAny(...ws: string[]): string | undefined {
    const tok = this.peek();
    if (tok?.type === 'word' && ws.includes(tok.upper)) {
      this.i++;
      return tok.upper;
    }
    return undefined;
  }

  must(...ws: string[]): void {
    if (!this.kw(...ws)) throw new ParseError(`expected ${ws.join(' ')} ${this.where()}`);
  }

  op(o: string): boolean {
    if (!this.isOp(o)) return false;
    this.i++;
    return true;
  }

  mustOp(o: string): void {
    if (!this.op(o)) throw new ParseError(`expected \`${o}\` ${this.where()}`);
  }

  isIdent(k = 0): boolean {
    const tok = this.peek(k);
    return tok !== undefined && (tok.type === 'word' || tok.type === 'qident' || tok.type === 'dq');
  }

  ident(): string {
    if (!this.isIdent()) throw new ParseError(`expected a name ${this.where()}`);
    return identValue(this.next());
  }

  /** `name` or `schema.name`. */
  qualifiedName(): { schema?: string; name: string } {
    const first = this.ident();
    if (this.isOp('.') && this.isIdent(1)) {
      this.i++;
      return { schema: first, name: this.ident() };
    }
    return { name: first };
  }

  /** A string literal (with an optional `_charset` introducer), or a name where MariaDB accepts either. */
  stringOrName(): string {
    const tok = this.peek();
    if (tok?.type === 'word' && tok.text.startsWith('_') && this.peek(1)?.type === 'str') this.i++;
    if (this.peek()?.type === 'str') return this.next().value;
    return this.ident();
  }

  number(): number {
    const tok = this.next();
    if (tok.type !== 'num' || !/^\d+$/.test(tok.text)) throw new ParseError(`expected a number at \`${tok.text}\``);
    return Number(tok.text);
  }

  /** At `(`: skips to after the matching `)`. */
  skipParens(): void {
    this.mustOp('(');
    let depth = 1;
    while (depth > 0) {
      const tok = this.next();
      if (tok.type !== 'op') continue;
      if (tok.text === '(') depth++;
      else if (tok.text === ')') depth--;
    }
  }

  /** Skips one value: a literal, a name, `f(...)`, `(...)`, `_cs'str'`, `b'01'`, adjacent strings, with a sign. */
  skipValue(): void {
    while (this.isOp('-') || this.isOp('+') || this.isOp('~')) this.i++;
    if (this.isOp('(')) {
      this.skipParens();
      return;
    }
    const tok = this.next();
    if (tok.type === 'word' && this.isOp('(')) {
      this.skipParens();
      return;
    }
    if (tok.type === 'word' && this.isOp('.') && this.isIdent(1)) {
      this.i += 2;
      return;
    }
    // introduced or typed literals: X'0a', b'01', N'x', _utf8mb4'x', _latin1 'x', DATE '2020-01-01'
    const literalPrefix =
      tok.type === 'word' && (/^_|^[XBN]$/i.test(tok.text) || ['DATE', 'TIME', 'TIMESTAMP'].includes(tok.upper));
    if (literalPrefix && this.peek()?.type === 'str') this.i++;
    if (tok.type === 'str' || literalPrefix) while (this.peek()?.type === 'str') this.i++; // 'a' 'b' concatenation
  }

  /** Index of the next top-level `,` (or `end`) from here. */
  clauseEnd(): number {
    let depth = 0;
    for (let j = this.i; j < this.end; j++) {
      const tok = this.t[j]!;
      if (tok.type !== 'op') continue;
      if (tok.text === '(') depth++;
      else if (tok.text === ')') {
        if (depth === 0) return j;
        depth--;
      } else if (tok.text === ',' && depth === 0) return j;
    }
    return this.end;
  }

  where(): string {
    const tok = this.peek();
    return tok ? `at \`${tok.text}\`` : 'at end of statement';
  }
}

/** Top-level comma-separated parts of tokens [from, to): [start, end) pairs. */
export function splitTopLevel(t: Token[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let j = from; j < to; j++) {
    const tok = t[j]!;
    if (tok.type !== 'op') continue;
    if (tok.text === '(') depth++;
    else if (tok.text === ')') depth--;
    else if (tok.text === ',' && depth === 0) {
      out.push([start, j]);
      start = j + 1;
    }
  }
  if (start < to) out.push([start, to]);
  return out;
}

/** Index of the `)` matching the `(` at `open`. */
export function matchingParen(t: Token[], open: number, to = t.length): number {
  let depth = 0;
  for (let j = open; j < to; j++) {
    const tok = t[j]!;
    if (tok.type !== 'op') continue;
    if (tok.text === '(') depth++;
    else if (tok.text === ')' && --depth === 0) return j;
  }
  throw new ParseError('unbalanced parentheses');
}
