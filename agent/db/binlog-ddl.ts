import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { comparePos } from '../../src/binlog/position.ts';
import { query } from './mysql.ts';

/** A statement (Query event) of the upstream binlog: its end position, default schema and text. */
export interface BinlogStatement {
  end: BinlogPosition;
  schema: string;
  sql: string;
}

const PAGE = 5000;

/**
 * The statements (Query events other than transaction boundaries) of the upstream binlog in (from, to], read with
 * SHOW BINLOG EVENTS (needs REPLICATION SLAVE, which a source needs anyway). A resumed load uses it to learn which
 * tables DDL touched since the first snapshot (agent/load/load-reconcile.ts). Returns undefined when the range
 * cannot be read (a file purged, a GTID-only position): the caller then assumes every table may have changed.
 *
 * `Info` of a Query event is `use \`db\`; <statement>` when the session had a default schema, else the statement.
 */
export async function binlogStatements(
  conn: Connection,
  from: BinlogPosition,
  to: BinlogPosition,
): Promise<BinlogStatement[] | undefined> {
  if (!from.name || !to.name || comparePos(from, to) >= 0) return from.name && to.name ? [] : undefined;
  let files: string[];
  try {
    const logs = await query<Record<string, string>[]>(conn, 'upstream', 'SHOW BINARY LOGS');
    files = logs.map((r) => String(r.Log_name));
  } catch {
    return undefined;
  }
  const first = files.indexOf(from.name);
  const last = files.indexOf(to.name);
  if (first < 0 || last < first) return undefined;
  const out: BinlogStatement[] = [];
  for (const file of files.slice(first, last + 1)) {
    let pos = file === from.name ? from.pos : 4;
    for (;;) {
      let rows: Record<string, string | number>[];
      try {
        rows = await query<Record<string, string | number>[]>(
          conn,
          'upstream',
          `SHOW BINLOG EVENTS IN ? FROM ${Number(pos)} LIMIT ${PAGE}`,
          [file],
        );
      } catch {
        return undefined;
      }
      for (const r of rows) {
        const end = { name: file, pos: Number(r.End_log_pos) };
        if (comparePos(end, to) > 0) return out;
        if (r.Event_type !== 'Query') continue;
        const parsed = parseInfo(String(r.Info ?? ''));
        if (/^(BEGIN|COMMIT|ROLLBACK|XA\s)/i.test(parsed.sql)) continue;
        out.push({ end, ...parsed });
      }
      if (rows.length < PAGE) break;
      pos = Number(rows[rows.length - 1]!.End_log_pos);
    }
  }
  return out;
}

/** Splits SHOW BINLOG EVENTS' Info of a Query event into its default schema and statement. */
export function parseInfo(info: string): { schema: string; sql: string } {
  const m = /^use `((?:[^`]|``)*)`; /.exec(info);
  if (!m) return { schema: '', sql: info };
  return { schema: m[1]!.replace(/``/g, '`'), sql: info.slice(m[0].length) };
}
