/**
 * Table names, the one module for them: the type, the `schema.table` key used in maps, logs and messages, and
 * identifier quoting for the SQL tsdm generates (MySQL/MariaDB backquotes).
 */
export interface TableName {
  schema: string;
  table: string;
}

/** `schema.table`, unquoted: the key of per-table maps and the name in messages. */
export function tableKey(t: TableName): string {
  return `${t.schema}.${t.table}`;
}

/**
 * A backquoted identifier. A backquote inside a name is doubled, which is the only escape MySQL knows inside
 * backquotes (backslash has no meaning there), so any name round-trips, including spaces, dots and unicode.
 */
export function quoteIdent(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

/** `schema`.`table`, or just `schema` for a schema-level name (table ''), as DM's `filter.Table.String()`. */
export function qualify(t: TableName): string {
  return t.table === '' ? quoteIdent(t.schema) : `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`;
}
