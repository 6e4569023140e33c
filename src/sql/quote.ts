import type { TableName } from '../config/types.ts';

/**
 * Identifier quoting for SQL that tsdm generates (MySQL/MariaDB backquotes).
 * A backquote inside a name is doubled, which is the only escape MySQL knows inside backquotes
 * (backslash has no meaning there), so any name round-trips, including spaces, dots and unicode.
 */
export function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** `schema`.`table`, or just `schema` for a schema-level name (table ''), as DM's `filter.Table.String()`. */
export function qualify(t: TableName): string {
  return t.table === '' ? quoteIdent(t.schema) : `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}
