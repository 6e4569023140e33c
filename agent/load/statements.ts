import type { Connection } from 'mysql2/promise';
import type { TableName } from '../../src/sql/table-name.ts';
import { classifyMysqlError, query, type Value } from '../db/mysql.ts';
import { BIND_BYTES, boundInsert, insertStatements } from '../sync/sqlgen.ts';
import type { ChunkRead } from './chunk-read.ts';

const BATCH_ROWS = 1000;
const BATCH_BYTES = 2 << 20;

/**
 * A chunk as multi-row statements (a downstream refusing LOAD DATA LOCAL, or a chunk LOAD DATA did not load cleanly),
 * in batches of BATCH_ROWS rows or BATCH_BYTES bytes of statement text. A row holding BIND_BYTES or more of binary
 * values goes alone, as a prepared statement with its values bound (as sync writes it, sqlgen.ts): as a literal its
 * bytes would be hex, twice their size. Returns the rows read.
 */
export async function viaStatements(
  down: Connection,
  read: ChunkRead,
  target: TableName,
  verb: 'INSERT' | 'REPLACE' | 'INSERT IGNORE',
): Promise<number> {
  let batch: Value[][] = [];
  let bytes = 0;
  let total = 0;
  const flush = async (): Promise<void> => {
    for (const s of insertStatements(verb, target, read.cols, batch)) await query(down, 'downstream', s);
    batch = [];
    bytes = 0;
  };
  for await (const vals of read.rows()) {
    total++;
    // UTF-8 bytes of the statement text: quoted strings, X'..' hex for Buffers (sqlgen.ts splits statements by bytes too).
    let binary = 0;
    let text = 0;
    for (const v of vals) {
      if (v === null) text += 4;
      else if (typeof v === 'string') text += Buffer.byteLength(v) + 3;
      else {
        binary += v.length;
        text += 4;
      }
    }
    if (binary >= BIND_BYTES) {
      await flush();
      const b = boundInsert(verb, target, read.cols, vals);
      try {
        await down.execute(b.sql, b.params);
      } catch (err) {
        throw classifyMysqlError(err, 'downstream', { sql: b.sql });
      }
      continue;
    }
    bytes += text + binary * 2;
    batch.push(vals);
    if (batch.length >= BATCH_ROWS || bytes >= BATCH_BYTES) await flush();
  }
  await flush();
  return total;
}
