import type { Connection } from 'mysql2/promise';
import type { ResultSetHeader } from 'mysql2';
import { quoteIdent, type TableName } from '../../src/sql/table-name.ts';
import type { Value } from '../db/mysql.ts';
import { qualified } from '../sync/sqlgen.ts';
import type { ChunkFile } from './transcode.ts';

/**
 * One chunk written with `LOAD DATA LOCAL INFILE`, the file streamed from the rows as they are read from the snapshot
 * (issue #14: the server parses tab-separated text for less CPU than multi-row INSERT text, and reading upstream
 * overlaps writing downstream within the chunk instead of alternating batches).
 *
 * Exact values, as the INSERT path writes them:
 *  - text is sent as utf8mb4 (`CHARACTER SET utf8mb4`) and converted to each column's charset by the server, as an
 *    INSERT's quoted literals are; `\`, tab, newline, CR and NUL are escaped (LOAD DATA's default `ESCAPED BY '\\'`);
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

/** The statement: columns in `cols` order; hex columns (`binary`: BIT, geometry) through a variable and UNHEX(). */
export function loadDataSql(t: TableName, cols: string[], binary: readonly boolean[]): string {
  const list = cols.map((c, i) => (binary[i] ? `@v${i}` : quoteIdent(c)));
  const sets = cols.flatMap((c, i) => (binary[i] ? [`${quoteIdent(c)} = UNHEX(@v${i})`] : []));
  return `LOAD DATA LOCAL INFILE 'tsdm-chunk' INTO TABLE ${qualified(t)} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${list.join(',')})${sets.length ? ` SET ${sets.join(', ')}` : ''}`;
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
        return f.stream;
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
