import type { Connection } from 'mysql2/promise';
import type { TypeCast } from 'mysql2';
import type { ChunkRow } from '../checkpoint-load.ts';
import { classifyMysqlError, type Value } from '../db/mysql.ts';
import { coreConnection, rawRows } from '../db/raw-rows.ts';
import { binaryColumns, exactRead, type TableInfo } from '../db/schema.ts';
import { SPATIAL_TYPES } from '../../src/schema/from-server.ts';
import { shiftTimestamp, taskZone } from '../db/timezone.ts';
import { quoteIdent, tableKey } from '../../src/sql/table-name.ts';
import type { SubtaskContext } from '../unit.ts';
import { chunkFile, type ChunkFile } from './transcode.ts';
import { asStored, type TargetColumn } from './infile.ts';

/** A chunk's rows as read from the snapshot: `rows()` runs the SELECT again each time it is called (same snapshot,
 * same rows), `cols` and `binary` (values sent as bytes) in the rows' order, extended columns last. */
export interface ChunkRead {
  rows(): AsyncGenerator<Value[]>;
  /** The same rows as LOAD DATA's file (transcode.ts), for `loadDataSql(target, cols, binary, charset)`. */
  file(): ChunkFile;
  cols: string[];
  binary: boolean[];
  /** The file's charset: `binary` when its text is each column's bytes as stored (`asStored`), else utf8mb4. */
  charset: 'binary' | 'utf8mb4';
}

/** How a chunk's file is written (chunkRead). */
export interface ReadMode {
  /** Binary strings and BLOBs as their own bytes (MariaDB and MySQL downstreams); hex otherwise (TiDB). */
  rawBinary: boolean;
  /** The target's downstream columns, given where text may go as stored (with `rawBinary`: infile.ts asStored
   * decides from them, the loaded columns and the extended ones). */
  target?: ReadonlyMap<string, TargetColumn>;
}

/** How a chunk is read from the snapshot: the SELECT on its key range, and its rows as the downstream takes them
 * (exact text, bytes for binary columns, TIMESTAMPs moved to the task's zone, extended columns appended). */
export function chunkRead(
  up: Connection,
  c: ChunkRow,
  info: TableInfo,
  ctx: SubtaskContext,
  mode: ReadMode = { rawBinary: false },
): ChunkRead {
  const { rawBinary } = mode;
  const cols = info.columns.filter((x) => !x.generated).map((x) => x.name);
  // DM extended columns: constant per upstream table, appended to every row (the precheck made sure they exist).
  const ext = ctx.rules.extendColumns(c.schema, c.table);
  const stored = rawBinary && asStored(info.columns, cols, mode.target, ext);
  const bin = binaryColumns(info);
  const zone = taskZone(ctx.task);
  const tsIdx =
    zone.offsetMinutes === 0
      ? []
      : cols.flatMap((name, i) => (info.columns.find((x) => x.name === name)?.dataType === 'timestamp' ? [i] : []));
  const conds: string[] = [];
  const params: unknown[] = [];
  if (c.keyColumn && c.lo !== null) {
    conds.push(`${quoteIdent(c.keyColumn)} >= ?`);
    params.push(c.lo);
  }
  if (c.keyColumn && c.hi !== null) {
    conds.push(`${quoteIdent(c.keyColumn)} < ?`);
    params.push(c.hi);
  }
  if (ctx.spec.dump.where) conds.push(`(${ctx.spec.dump.where})`);
  const types = new Map(info.columns.map((x) => [x.name, x.dataType]));
  const select = cols.map((n) => exactRead(quoteIdent(n), types.get(n)!));
  const sql = `SELECT ${select.join(',')} FROM ${quoteIdent(c.schema)}.${quoteIdent(c.table)}${conds.length ? ' WHERE ' + conds.join(' AND ') : ''}`;
  const core = coreConnection(up);
  const typeCast: TypeCast = (field, next) => {
    void next;
    return bin.has(field.name) || field.type === 'GEOMETRY' ? field.buffer() : field.string('utf8');
  };
  const table = `${tableKey(c)}`;
  async function* rows(): AsyncGenerator<Value[]> {
    // Arrays in SELECT order (no object per row); the stream is destroyed when the consumer stops early.
    const stream = core.query({ sql, values: params, typeCast, rowsAsArray: true }).stream({ highWaterMark: 500 });
    try {
      for await (const r of stream as AsyncIterable<Value[]>) {
        for (const i of tsIdx) {
          const v = r[i];
          if (typeof v === 'string') r[i] = shiftTimestamp(v, zone.offsetMinutes);
        }
        if (ext) r.push(...ext.values);
        yield r;
      }
    } catch (err) {
      throw classifyMysqlError(err, (err as { errno?: number }).errno ? 'upstream' : 'downstream', { sql, table });
    } finally {
      stream.destroy();
    }
  }
  // Hex in the file, stored with UNHEX(): BIT and spatial values (mysql2 reports every spatial type as GEOMETRY).
  // With `rawBinary` (MariaDB and MySQL downstreams), binary strings and BLOBs go as their own bytes, escaped like
  // text: the server copies bytes into a binary column without conversion, and hex would double the line (a LOAD
  // DATA line must fit max_allowed_packet). Without it (TiDB), they go as hex too.
  const hex = cols.map((n) => {
    const type = info.columns.find((x) => x.name === n)?.dataType ?? '';
    return SPATIAL_TYPES.has(type) || (bin.has(n) && (!rawBinary || type === 'bit'));
  });
  const shift = cols.map((_, i) => tsIdx.includes(i));
  const layout = { hex, shift, offsetMinutes: zone.offsetMinutes, extra: ext?.values ?? [] };
  const classify = (err: unknown) =>
    classifyMysqlError(err, (err as { errno?: number }).errno ? 'upstream' : 'downstream', { sql, table });
  return {
    rows,
    file: () => chunkFile((onRow) => rawRows(up, sql, params, onRow, { asStored: stored }), layout, classify),
    cols: ext ? [...cols, ...ext.columns] : cols,
    binary: [...hex, ...(ext?.columns.map(() => false) ?? [])],
    charset: stored ? 'binary' : 'utf8mb4',
  };
}
