/**
 * node-sql-parser's grammars, each loaded at its first use: one grammar is megabytes of generated code (0.3-0.6 s of
 * CPU to load), needed only where SQL is parsed (expression filters, the DDL cross-check), never by `dmctl --help`
 * or a command that parses no SQL (issue #18). Synchronous on purpose: its callers are.
 */
import { createRequire } from 'node:module';

export interface SqlParser {
  astify(sql: string, opt?: { database?: string }): unknown;
}

const require = createRequire(import.meta.url);
const parsers = new Map<string, SqlParser>();

export function sqlParser(grammar: 'mysql' | 'mariadb'): SqlParser {
  let p = parsers.get(grammar);
  if (!p) {
    const m = require(`node-sql-parser/build/${grammar}.js`) as { Parser: new () => SqlParser };
    p = new m.Parser();
    parsers.set(grammar, p);
  }
  return p;
}
