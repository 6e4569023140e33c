/**
 * Builders for the sync hot path's unit tests (dispatcher, writer-sql, sqlgen, extend-columns): table structures and
 * routed row changes as the sync unit hands them to the dispatcher, without any server. Not a test file itself.
 */
import type { Value } from '../../agent/db/mysql.ts';
import type { ColumnInfo, TableInfo } from '../../agent/db/schema.ts';
import type { RoutedChange } from '../../agent/sync/dispatcher.ts';
import assert from 'node:assert/strict';
import type { Stmt } from '../../agent/sync/sqlgen.ts';
import {
  downstreamTableFromRows,
  identityFor,
  type DownstreamTable,
  type RowIdentity,
} from '../../agent/sync/row-identity.ts';

export type Img = Record<string, Value>;

/** A column: int by default; `collation` makes it a varchar; `nullable` defaults to true. */
export function col(name: string, o: Partial<ColumnInfo> = {}): ColumnInfo {
  const text = o.collation !== undefined && o.collation !== null;
  return {
    name,
    dataType: text ? 'varchar' : 'int',
    columnType: text ? 'varchar(20)' : 'int(11)',
    nullable: true,
    generated: false,
    charset: text ? 'utf8mb4' : null,
    collation: null,
    comment: '',
    binary: false,
    ...o,
  };
}

export function table(
  name: string,
  columns: ColumnInfo[],
  primaryKey: string[] = [],
  uniqueKeys: string[][] = [],
  schema = 'up',
): TableInfo {
  return { schema, table: name, columns, primaryKey, uniqueKeys };
}

/** A downstream table from information_schema-shaped rows: columns [name, nullable, collation], unique index rows
 * [index, column, prefix] in index order. */
export function downstream(
  cols: [string, boolean, string | null][],
  idx: [string, string, number | null][],
): DownstreamTable {
  return downstreamTableFromRows(
    cols.map(([n, nullable, coll]) => ({
      COLUMN_NAME: n,
      IS_NULLABLE: nullable ? 'YES' : 'NO',
      COLLATION_NAME: coll,
      DATA_TYPE: coll ? 'varchar' : 'int',
    })),
    idx.map(([i, c, sub]) => ({ INDEX_NAME: i, COLUMN_NAME: c, SUB_PART: sub })),
  );
}

export const TARGET = { schema: 'db', table: 't' };

export interface ChangeOpts {
  target?: { schema: string; table: string };
  /** Downstream identity; default: the upstream's keys stand in (identityFor(info, undefined)). */
  identity?: RowIdentity;
  /** Binlog offset of the transaction end (file b.000001). */
  pos?: number;
  writer?: number;
}

function routed(
  op: 'insert' | 'update' | 'delete',
  info: TableInfo,
  before: Img | undefined,
  after: Img | undefined,
  o: ChangeOpts,
): RoutedChange {
  const identity = o.identity ?? identityFor(info, undefined);
  const rc: RoutedChange = {
    change: {
      op,
      schema: info.schema,
      table: info.table,
      info,
      ...(before ? { before } : {}),
      ...(after ? { after } : {}),
    },
    target: o.target ?? TARGET,
    info,
    key: identity.key,
    identity,
    txnEnd: { name: 'b.000001', pos: o.pos ?? 4 },
  };
  if (o.writer !== undefined) rc.writer = o.writer;
  return rc;
}

export const ins = (info: TableInfo, after: Img, o: ChangeOpts = {}): RoutedChange =>
  routed('insert', info, undefined, after, o);
export const upd = (info: TableInfo, before: Img, after: Img, o: ChangeOpts = {}): RoutedChange =>
  routed('update', info, before, after, o);
export const del = (info: TableInfo, before: Img, o: ChangeOpts = {}): RoutedChange =>
  routed('delete', info, before, undefined, o);

/** A writer statement that must be SQL text (not bound: rows under sqlgen.ts BIND_BYTES). */
export function text(s: Stmt | undefined): string {
  assert.equal(typeof s, 'string', `a text statement, not ${JSON.stringify(s)?.slice(0, 200)}`);
  return s as string;
}
