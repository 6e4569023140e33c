import { lex } from './lexer.ts';

/** Splits `a; b;` into statements at semicolons outside strings, quoted names and comments (tsdm's own lexer). */
export function splitStatements(text: string): string[] {
  const { tokens } = lex(text);
  const out: string[] = [];
  let start = 0;
  for (const t of tokens) {
    if (t.type === 'op' && t.text === ';') {
      const s = text.slice(start, t.start).trim();
      if (s) out.push(s);
      start = t.end;
    }
  }
  const last = text.slice(start).trim();
  if (last) out.push(last);
  return out;
}
