import type { Connection } from 'mysql2/promise';
import type { ResultSetHeader } from 'mysql2';
import { quoteIdent, tableKey, type TableName } from '../../src/sql/table-name.ts';
import { query, type Value } from '../db/mysql.ts';
import type { ColumnInfo } from '../db/schema.ts';
import { CharsetError, normalizeCharset } from '../../src/schema/charsets.ts';
import { qualified } from '../sync/sqlgen.ts';
import { releasePiece, type ChunkFile } from './transcode.ts';

/**
 * One chunk written with `LOAD DATA LOCAL INFILE`, the file streamed from the rows as they are read from the snapshot
 * (issue #14: the server parses tab-separated text for less CPU than multi-row INSERT text, and reading upstream
 * overlaps writing downstream within the chunk instead of alternating batches).
 *
 * Exact values, as the INSERT path writes them:
 *  - text goes as stored (`CHARACTER SET binary`, read with character_set_results = binary) where every text column
 *    has a downstream column of the same charset (asStored); otherwise it is sent as utf8mb4 (`CHARACTER SET
 *    utf8mb4`) and converted to each column's charset by the server, as an INSERT's quoted literals are; `\`, tab,
 *    newline, CR and NUL are escaped (LOAD DATA's default `ESCAPED BY '\\'`);
 *  - NULL is `\N`; an empty string is an empty field;
 *  - binary strings and BLOBs go as their own bytes, escaped like text: the server copies bytes into a column of the
 *    binary charset without conversion (and a multi-byte check that fails on them only makes it read byte by byte);
 *    hex would double a line, which must fit the downstream's max_allowed_packet;
 *  - BIT and geometry values go as hex into a user variable and are stored with UNHEX().
 *
 * With LOCAL the server cannot stop reading the file, so a duplicate key is skipped with a warning instead of
 * failing (IGNORE), and a value the column cannot hold is a warning too. The caller therefore treats anything but
 * "every row inserted, no warning" as "this chunk needs the statement path": it rolls the transaction back and loads
 * the chunk again with INSERT/REPLACE/INSERT IGNORE (the `on-duplicate` semantics), which then behaves exactly as
 * before. A chunk whose rows are all new and clean — the normal case — is loaded by LOAD DATA alone.
 */

/** Errnos of a server that refuses LOAD DATA LOCAL: local_infile=OFF (1148 ER_NOT_ALLOWED_COMMAND, and MariaDB's
 * 4166 ER_LOAD_INFILE_CAPABILITY_DISABLED). */
export const INFILE_REFUSED = new Set([1148, 4166]);

/** The statement: columns in `cols` order; hex columns (`binary`: BIT, geometry) through a variable and UNHEX(); the
 * file's text in `charset` (`binary`: as stored, see asStored). */
export function loadDataSql(
  t: TableName,
  cols: string[],
  binary: readonly boolean[],
  charset: 'binary' | 'utf8mb4' = 'utf8mb4',
): string {
  const list = cols.map((c, i) => (binary[i] ? `@v${i}` : quoteIdent(c)));
  const sets = cols.flatMap((c, i) => (binary[i] ? [`${quoteIdent(c)} = UNHEX(@v${i})`] : []));
  return `LOAD DATA LOCAL INFILE 'tsdm-chunk' INTO TABLE ${qualified(t)} CHARACTER SET ${charset} FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${list.join(',')})${sets.length ? ` SET ${sets.join(', ')}` : ''}`;
}

/** A downstream column, as asStored compares it. */
export interface TargetColumn {
  charset: string | null;
  dataType: string;
}

/** Charsets whose ASCII characters are not single ASCII bytes: their bytes could not share a file with the tabs and
 * escapes of the others. */
const WIDE_CHARSETS = new Set(['ucs2', 'utf16', 'utf16le', 'utf32']);

/** A charset's canonical name (utf8 is utf8mb3); one this version does not know, lower-cased as it is. */
function charsetName(name: string): string {
  try {
    return normalizeCharset(name);
  } catch (err) {
    if (err instanceof CharsetError) return name.toLowerCase();
    throw err;
  }
}

/**
 * Whether a chunk's text can go as stored (the SELECT with character_set_results = binary, the file declared
 * `CHARACTER SET binary`), with no charset conversion on either server: each text column's bytes are copied into a
 * downstream column of the same charset. Converting to utf8mb4 upstream and back downstream costs the downstream a
 * quarter of its CPU on a latin1 table and a tenth on a utf8mb4 one (bench/README.md), and a byte copy is the exact
 * value whatever the charset. Only when every loaded column has a downstream column of the same name, the ones with
 * a charset (text, ENUM, SET) the same charset (utf8 and utf8mb3 are one), no column on either side is in a wide
 * charset (UCS-2, UTF-16, UTF-32: even digits would be read as code units) or JSON (MySQL's JSON refuses binary
 * strings), and the extended columns' values are ASCII; otherwise the file is utf8mb4 and the downstream converts, as
 * an INSERT's literals would be. The caller asks only for MariaDB and MySQL downstreams (not TiDB).
 */
export function asStored(
  up: readonly ColumnInfo[],
  loaded: readonly string[],
  down: ReadonlyMap<string, TargetColumn> | undefined,
  extra: { columns: readonly string[]; values: readonly string[] } | undefined,
): boolean {
  if (!down) return false;
  // A downstream column any file value may go into: not JSON, and not wide (even digits would be read as code units).
  const plain = (d: TargetColumn | undefined): d is TargetColumn =>
    d !== undefined && d.dataType !== 'json' && (d.charset === null || !WIDE_CHARSETS.has(charsetName(d.charset)));
  const byName = new Map(up.map((c) => [c.name.toLowerCase(), c]));
  for (const name of loaded) {
    const u = byName.get(name.toLowerCase());
    const d = down.get(name.toLowerCase());
    if (!u || u.dataType === 'json' || !plain(d)) return false;
    const cs = u.binary || u.charset === null ? null : charsetName(u.charset);
    if (cs === null || cs === 'binary') continue;
    if (WIDE_CHARSETS.has(cs) || d.charset === null || charsetName(d.charset) !== cs) return false;
  }
  if (!(extra?.columns ?? []).every((name) => plain(down.get(name.toLowerCase())))) return false;
  return (extra?.values ?? []).every((v) => /^[\x20-\x7e]*$/.test(v));
}

/** The downstream columns of the target tables in `schemas`, by table key and lower-cased column name (asStored). */
export async function targetColumns(
  down: Connection,
  schemas: readonly string[],
): Promise<Map<string, Map<string, TargetColumn>>> {
  const out = new Map<string, Map<string, TargetColumn>>();
  if (schemas.length === 0) return out;
  const rows = await query<Record<string, string | null>[]>(
    down,
    'downstream',
    `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t, COLUMN_NAME AS c, CHARACTER_SET_NAME AS cs, DATA_TYPE AS dt
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA IN (${schemas.map(() => '?').join(',')})`,
    [...schemas],
  );
  for (const r of rows) {
    const k = tableKey({ schema: String(r.s), table: String(r.t) });
    let cols = out.get(k);
    if (!cols) out.set(k, (cols = new Map()));
    // String(): a server may send information_schema text as bytes (mysql2 then gives a Buffer).
    const cs = r.cs === null || r.cs === undefined ? null : String(r.cs);
    cols.set(String(r.c).toLowerCase(), { charset: cs, dataType: String(r.dt).toLowerCase() });
  }
  return out;
}

const SPECIAL = /[\\\t\n\r\0]/;
const SPECIAL_ALL = /[\\\t\n\r\0]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };

/** One value as a field of the file (the file itself is written from the rows' bytes: transcode.ts). */
export function field(v: Value): string {
  if (v === null) return '\\N';
  if (typeof v !== 'string') return v.toString('hex');
  return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c]!) : v;
}

export interface InfileResult {
  /** Rows the file held. */
  sent: number;
  /** Rows the server inserted. */
  inserted: number;
  warnings: number;
}

/** True when LOAD DATA loaded the chunk exactly: every row inserted, nothing skipped, no warning. */
export function clean(r: InfileResult): boolean {
  return r.warnings === 0 && r.inserted === r.sent;
}

/**
 * Runs LOAD DATA on `down` with `file()` as the file. An error of the file's stream (the upstream read) ends the file
 * early and rejects with that error; the caller rolls the transaction back, so the rows the server took before are
 * never committed.
 */
export async function loadData(down: Connection, sql: string, file: () => ChunkFile): Promise<InfileResult> {
  let f: ChunkFile | undefined;
  try {
    // The factory is given to this one query only: the server may ask for a file here and nowhere else.
    const [res] = await down.query({
      sql,
      infileStreamFactory: () => {
        f = file();
        const stream = f.stream;
        // mysql2 copies each piece into its packet in its own 'data' listener, attached right after this returns;
        // ours, attached after it (data flows from the next tick on), hands the piece's buffer back for reuse.
        process.nextTick(() => stream.on('data', releasePiece));
        return stream;
      },
    });
    const h = res as ResultSetHeader;
    return { sent: f?.sent() ?? 0, inserted: h.affectedRows, warnings: h.warningStatus };
  } finally {
    // When the downstream failed mid-file, mysql2 stops reading it: ending it here ends the upstream read too
    // (the snapshot connection must be free for the next chunk).
    f?.stream.destroy();
  }
}
