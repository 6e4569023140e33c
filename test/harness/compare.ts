/**
 * Upstream/downstream data comparison: the final check of every end-to-end test.
 *
 * How a table pair is compared:
 *  1. Both sides open a connection with exact value options (`dateStrings`, `supportBigNumbers`,
 *     `bigNumberStrings`), session `time_zone = '+00:00'` (TIMESTAMPs compare as instants), a large
 *     `max_sort_length` (ORDER BY on long strings would otherwise look at 1024 bytes only), and a consistent
 *     snapshot so count, checksum and rows agree with each other.
 *  2. Columns are matched by name (order may differ); missing or extra columns are differences.
 *  3. Row counts; for bigger tables with equal counts, an order-independent checksum computed in SQL (two 64-bit
 *     halves of MD5 per row, summed). Equal checksums end the comparison: equal.
 *  4. Otherwise (small tables, or checksums differ — also when servers merely format a DOUBLE differently) both
 *     sides are streamed in the same deterministic order and merged. The order is the primary key (or a unique
 *     NOT NULL key) or, for keyless tables, all columns; strings are ordered by their utf8mb4 bytes, so both
 *     servers agree whatever their collations, and the JS merge uses the same order. Keyless tables are compared
 *     as multisets: a duplicated row is one extra row. This row diff is authoritative.
 * Values are compared exactly: strings as strings, BLOB/BINARY/BIT as bytes, numbers by their text.
 */
import { SPATIAL_TYPES } from '../../src/schema/from-server.ts';
import { tableKey } from '../../src/sql/table-name.ts';
import mysql from 'mysql2';
import type { Connection, RowDataPacket } from 'mysql2';

/** Spatial columns (MySQL 8 also names GEOMETRYCOLLECTION `geomcollection`). */
const GEOMETRY = new Set([...SPATIAL_TYPES, 'geomcollection']);

export interface DbEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  name?: string;
}

export interface TableRef {
  schema: string;
  table: string;
}

export interface CompareOptions {
  /** Columns left out on both sides (e.g. an extra column the task adds downstream). */
  ignoreColumns?: string[];
  /** SQL condition applied on both sides. */
  where?: string;
}

export interface CompareResult {
  equal: boolean;
  upRows: number;
  downRows: number;
  /** The first differences (at most 10), naming the table, the key and the column. */
  diffs: string[];
}

export interface SchemaCompareResult {
  equal: boolean;
  tables: Array<{ up: TableRef; down: TableRef; result: CompareResult }>;
  /** All tables' differences, plus tables present on one side only. */
  diffs: string[];
}

const MAX_DIFFS = 10;
/** Tables with more rows than this get the SQL checksum first. */
const CHECKSUM_MIN_ROWS = 2_000;

type Family = 'int' | 'decimal' | 'float' | 'string' | 'bytes' | 'time';

interface Column {
  name: string;
  dataType: string;
  nullable: boolean;
}

interface Side {
  conn: Connection;
  ref: TableRef;
}

const q = (id: string): string => '`' + id.replace(/`/g, '``') + '`';
const fq = (t: TableRef): string => `${q(t.schema)}.${q(t.table)}`;

function familyOf(dataType: string): Family {
  const t = dataType.toLowerCase();
  if (['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year'].includes(t)) return 'int';
  if (t === 'decimal' || t === 'numeric') return 'decimal';
  if (t === 'float' || t === 'double' || t === 'real' || t === 'double precision') return 'float';
  if (['bit', 'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob'].includes(t)) return 'bytes';
  if (t === 'time') return 'time';
  // date/datetime/timestamp strings sort as text; everything else (text, enum, set, json, uuid, inet, geometry)
  // is compared through its utf8mb4 text.
  return 'string';
}

/** What we SELECT for a column: the exact value in a form both servers render alike. */
function valueExpr(c: Column): string {
  const t = c.dataType.toLowerCase();
  if (GEOMETRY.has(t)) return `HEX(${q(c.name)})`; // SRID + WKB, as stored
  // MariaDB prints a FLOAT rounded to 6 significant digits: as a DOUBLE it shows the exact float32 value stored.
  if (t === 'float') return `(${q(c.name)} + 0e0)`;
  const f = familyOf(t);
  if (f === 'string' && !['date', 'datetime', 'timestamp'].includes(t))
    return `CAST(${q(c.name)} AS CHAR CHARACTER SET utf8mb4)`;
  return q(c.name);
}

/** What we ORDER BY: must sort exactly like `compareValues` below. */
function orderExpr(c: Column): string {
  const t = c.dataType.toLowerCase();
  if (familyOf(t) === 'string' && !['date', 'datetime', 'timestamp'].includes(t))
    return `CAST(${valueExpr(c)} AS BINARY)`;
  return q(c.name);
}

function cmpDecimal(a: string, b: string): number {
  const parse = (s: string): { neg: boolean; int: string; frac: string } => {
    const neg = s.startsWith('-');
    const [i = '0', f = ''] = s.replace(/^[-+]/, '').split('.');
    return { neg, int: i.replace(/^0+(?=\d)/, ''), frac: f.replace(/0+$/, '') };
  };
  const x = parse(a);
  const y = parse(b);
  const isZero = (v: { int: string; frac: string }): boolean => /^0*$/.test(v.int) && v.frac === '';
  const xn = x.neg && !isZero(x);
  const yn = y.neg && !isZero(y);
  if (xn !== yn) return xn ? -1 : 1;
  let mag = x.int.length - y.int.length || (x.int < y.int ? -1 : x.int > y.int ? 1 : 0);
  if (mag === 0) {
    const n = Math.max(x.frac.length, y.frac.length);
    const xf = x.frac.padEnd(n, '0');
    const yf = y.frac.padEnd(n, '0');
    mag = xf < yf ? -1 : xf > yf ? 1 : 0;
  }
  return xn ? -mag : mag;
}

function timeMicros(s: string): number {
  const m = /^(-)?(\d+):(\d+):(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) return Number.NaN;
  const us =
    ((Number(m[2]) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1e6 + Number((m[5] ?? '').padEnd(6, '0').slice(0, 6));
  return m[1] ? -us : us;
}

const toBytes = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));
const sign = (n: number | bigint): number => (n < 0 ? -1 : n > 0 ? 1 : 0);

/** SQL sort order of one column's values (NULL first, as MySQL and MariaDB sort ascending). */
function compareValues(f: Family, a: unknown, b: unknown): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  switch (f) {
    case 'int':
      return sign(BigInt(String(a)) - BigInt(String(b)));
    case 'decimal':
      return cmpDecimal(String(a), String(b));
    case 'float':
      return sign(Number(a) - Number(b));
    case 'time':
      return sign(timeMicros(String(a)) - timeMicros(String(b)));
    default:
      return Buffer.compare(toBytes(a), toBytes(b));
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return toBytes(a).equals(toBytes(b));
  return String(a) === String(b);
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) return `0x${v.subarray(0, 32).toString('hex')}${v.length > 32 ? `…(${v.length} bytes)` : ''}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v).replace(/^"|"$/g, "'");
  return String(v);
}

async function open(ep: DbEndpoint): Promise<Connection> {
  const conn = mysql.createConnection({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    connectTimeout: 10_000,
  });
  const p = conn.promise();
  try {
    await p.connect();
  } catch (err) {
    conn.destroy();
    throw new Error(`cannot connect to ${ep.name ?? `${ep.host}:${ep.port}`}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  await p.query("SET SESSION time_zone = '+00:00'");
  // A server whose global sql_mode has NO_BACKSLASH_ESCAPES or ANSI_QUOTES would misread mysql2's escaping.
  await p.query("SET SESSION sql_mode = ''");
  await p.query('SET SESSION max_sort_length = 8388608').catch(() => {}); // not every server has it
  await p.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
  return conn;
}

async function columnsOf(s: Side): Promise<Column[]> {
  const [rows] = await s.conn
    .promise()
    .query<RowDataPacket[]>(
      'SELECT COLUMN_NAME AS n, DATA_TYPE AS t, IS_NULLABLE AS nl FROM information_schema.COLUMNS ' +
        'WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [s.ref.schema, s.ref.table],
    );
  return rows.map((r) => ({ name: String(r.n), dataType: String(r.t), nullable: r.nl === 'YES' }));
}

/** Primary key, else the first unique index whose columns are all NOT NULL; [] when the table has neither. */
async function keyOf(s: Side, cols: Column[]): Promise<string[]> {
  const [rows] = await s.conn
    .promise()
    .query<RowDataPacket[]>(
      'SELECT INDEX_NAME AS i, COLUMN_NAME AS c FROM information_schema.STATISTICS ' +
        "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
      [s.ref.schema, s.ref.table],
    );
  const byIndex = new Map<string, string[]>();
  for (const r of rows) byIndex.set(String(r.i), [...(byIndex.get(String(r.i)) ?? []), String(r.c)]);
  for (const keyCols of byIndex.values()) {
    if (keyCols.every((k) => cols.find((c) => c.name === k && !c.nullable))) return keyCols;
  }
  return [];
}

async function count(s: Side, where: string): Promise<number> {
  const [rows] = await s.conn.promise().query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${fq(s.ref)}${where}`);
  return Number(rows[0]?.n ?? 0);
}

/** Order-independent checksum: Σ high and Σ low 64 bits of MD5(length-prefixed values), so duplicates count. */
async function checksum(s: Side, cols: Column[], where: string): Promise<string> {
  const parts = cols.map((c) => `IFNULL(CONCAT(LENGTH(${valueExpr(c)}), ':', ${valueExpr(c)}), 'N')`);
  const h = `MD5(CONCAT(${parts.join(', ')}))`;
  const half = (from: number): string => `SUM(CAST(CONV(SUBSTRING(${h}, ${from}, 16), 16, 10) AS DECIMAL(20, 0)))`;
  const [rows] = await s.conn
    .promise()
    .query<RowDataPacket[]>(`SELECT ${half(1)} AS a, ${half(17)} AS b FROM ${fq(s.ref)}${where}`);
  return `${rows[0]?.a}/${rows[0]?.b}`;
}

function rowStream(s: Side, cols: Column[], orderCols: Column[], where: string): AsyncIterator<unknown[]> {
  const sql = `SELECT ${cols.map(valueExpr).join(', ')} FROM ${fq(s.ref)}${where} ORDER BY ${orderCols.map(orderExpr).join(', ')}`;
  const stream = s.conn.query({ sql, rowsAsArray: true }).stream({ highWaterMark: 500 });
  return stream[Symbol.asyncIterator]() as AsyncIterator<unknown[]>;
}

/** Compares one table pair; see the file comment for the method. */
export async function compareTables(
  up: DbEndpoint,
  upTable: TableRef,
  down: DbEndpoint,
  downTable: TableRef,
  opts: CompareOptions = {},
): Promise<CompareResult> {
  const same = upTable.schema === downTable.schema && upTable.table === downTable.table;
  const label = same ? `${tableKey(upTable)}` : `${tableKey(upTable)} -> ${tableKey(downTable)}`;
  const where = opts.where ? ` WHERE ${opts.where}` : '';
  const ignore = new Set(opts.ignoreColumns ?? []);
  const diffs: string[] = [];
  const add = (d: string): boolean => {
    if (diffs.length < MAX_DIFFS) diffs.push(`${label}: ${d}`);
    return diffs.length >= MAX_DIFFS;
  };

  const opened = await Promise.allSettled([open(up), open(down)]);
  const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const r of opened) if (r.status === 'fulfilled') r.value.destroy();
    throw failed.reason;
  }
  const [u, d] = opened.map((r) => (r as PromiseFulfilledResult<Connection>).value) as [Connection, Connection];
  const U: Side = { conn: u, ref: upTable };
  const D: Side = { conn: d, ref: downTable };
  let abandoned = false;
  try {
    const [uAll, dAll] = await Promise.all([columnsOf(U), columnsOf(D)]);
    if (uAll.length === 0 || dAll.length === 0) {
      if (uAll.length === 0) add('table does not exist upstream');
      if (dAll.length === 0) add('table does not exist downstream');
      const [ur, dr] = await Promise.all([uAll.length ? count(U, where) : 0, dAll.length ? count(D, where) : 0]);
      return { equal: false, upRows: ur, downRows: dr, diffs };
    }
    const uCols = uAll.filter((c) => !ignore.has(c.name));
    const dByName = new Map(dAll.filter((c) => !ignore.has(c.name)).map((c) => [c.name, c]));
    for (const c of uCols) if (!dByName.has(c.name)) add(`column \`${c.name}\` missing downstream`);
    for (const c of dByName.keys()) if (!uCols.some((x) => x.name === c)) add(`column \`${c}\` exists only downstream`);
    const common = uCols.filter((c) => dByName.has(c.name));
    const dCols = common.map((c) => dByName.get(c.name)!);
    for (let i = 0; i < common.length; i++) {
      if (familyOf(common[i]!.dataType) !== familyOf(dCols[i]!.dataType)) {
        add(
          `column \`${common[i]!.name}\` type differs: upstream ${common[i]!.dataType}, downstream ${dCols[i]!.dataType}`,
        );
      }
    }

    const [upRows, downRows] = await Promise.all([count(U, where), count(D, where)]);
    if (common.length === 0) return { equal: false, upRows, downRows, diffs };
    if (upRows === downRows && upRows > CHECKSUM_MIN_ROWS && diffs.length === 0) {
      const [a, b] = await Promise.all([checksum(U, common, where), checksum(D, dCols, where)]);
      if (a === b) return { equal: true, upRows, downRows, diffs };
    }

    // A key column that is ignored or missing downstream cannot order both sides: fall back to all columns.
    const fullKey = await keyOf(U, uAll);
    const key = fullKey.filter((k) => common.some((c) => c.name === k));
    const keyed = key.length > 0 && key.length === fullKey.length;
    const orderIdx = keyed ? key.map((k) => common.findIndex((c) => c.name === k)) : common.map((_, i) => i);
    const families = common.map((c) => familyOf(c.dataType));
    const cmp = (a: unknown[], b: unknown[]): number => {
      for (const i of orderIdx) {
        const r = compareValues(families[i]!, a[i], b[i]);
        if (r !== 0) return r;
      }
      return 0;
    };
    const describe = (row: unknown[]): string =>
      keyed
        ? `key (${orderIdx.map((i) => `${common[i]!.name}=${show(row[i])}`).join(', ')})`
        : `row (${common.map((c, i) => `${c.name}=${show(row[i])}`).join(', ')})`;

    const us = rowStream(
      U,
      common,
      orderIdx.map((i) => common[i]!),
      where,
    );
    const ds = rowStream(
      D,
      dCols,
      orderIdx.map((i) => dCols[i]!),
      where,
    );
    let ur = await us.next();
    let dr = await ds.next();
    let full = diffs.length >= MAX_DIFFS;
    while (!full && (!ur.done || !dr.done)) {
      const c = ur.done ? 1 : dr.done ? -1 : cmp(ur.value, dr.value);
      if (c < 0) {
        full = add(`${describe(ur.value)} missing downstream`);
        ur = await us.next();
      } else if (c > 0) {
        full = add(`${describe(dr.value)} extra downstream (not upstream)`);
        dr = await ds.next();
      } else {
        for (let i = 0; i < common.length && !full; i++) {
          if (!sameValue(ur.value[i], dr.value[i])) {
            full = add(
              `${describe(ur.value)} column \`${common[i]!.name}\`: upstream ${show(ur.value[i])}, downstream ${show(dr.value[i])}`,
            );
          }
        }
        [ur, dr] = await Promise.all([us.next(), ds.next()]);
      }
    }
    if (!ur.done || !dr.done) {
      abandoned = true; // queries still streaming: the connections are destroyed below
      await Promise.allSettled([us.return?.(), ds.return?.()]);
    }
    return { equal: diffs.length === 0, upRows, downRows, diffs };
  } finally {
    for (const c of [u, d]) {
      if (abandoned) c.destroy();
      else
        await c
          .promise()
          .end()
          .catch(() => c.destroy());
    }
  }
}

async function tablesOf(ep: DbEndpoint, schema: string): Promise<string[] | undefined> {
  const conn = mysql.createConnection({ host: ep.host, port: ep.port, user: ep.user, password: ep.password });
  try {
    const p = conn.promise();
    const [s] = await p.query<RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [
      schema,
    ]);
    if (s.length === 0) return undefined;
    const [rows] = await p.query<RowDataPacket[]>(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
      [schema],
    );
    return rows.map((r) => String(r.t));
  } finally {
    await conn
      .promise()
      .end()
      .catch(() => conn.destroy());
  }
}

/**
 * Compares every base table of `schemas` upstream with its downstream counterpart: the same name, or
 * `mapping(t)` (return null for a table the task does not migrate). Without a mapping, a downstream table of
 * these schemas that does not exist upstream is a difference too. Shard merges (many tables into one) need
 * their own check: this compares table to table.
 */
export async function compareSchemas(
  up: DbEndpoint,
  down: DbEndpoint,
  schemas: string[],
  mapping?: (t: TableRef) => TableRef | null,
  opts: CompareOptions = {},
): Promise<SchemaCompareResult> {
  const out: SchemaCompareResult = { equal: true, tables: [], diffs: [] };
  for (const schema of schemas) {
    const upTables = await tablesOf(up, schema);
    if (!upTables) {
      out.diffs.push(`schema ${schema} does not exist upstream`);
      continue;
    }
    for (const table of upTables) {
      const from = { schema, table };
      const to = mapping ? mapping(from) : from;
      if (!to) continue;
      const result = await compareTables(up, from, down, to, opts);
      out.tables.push({ up: from, down: to, result });
      out.diffs.push(...result.diffs);
    }
    if (!mapping) {
      const downTables = (await tablesOf(down, schema)) ?? [];
      if (downTables.length === 0 && upTables.length === 0) continue;
      for (const t of downTables)
        if (!upTables.includes(t)) out.diffs.push(`${schema}.${t}: table exists only downstream`);
    }
  }
  out.equal = out.diffs.length === 0 && out.tables.every((t) => t.result.equal);
  return out;
}
