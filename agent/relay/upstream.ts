import type { Connection } from 'mysql2/promise';
import type { SourceConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import type { SchemaTracker } from '../../src/schema/model.ts';
import type { BinlogEvent, RowChange } from '../binlog/events.ts';
import { formatPos, type BinlogPosition } from '../../src/binlog/position.ts';
import { query } from '../db/mysql.ts';
import { snapshotTracker } from '../db/tracked.ts';
import type { Logger } from '../log.ts';
import { masterStatus } from '../db/binlog-status.ts';
import type { RelayRecord, RelayRowChange } from './store.ts';

/**
 * The relay writer's side of its upstream (writer.ts): where a new relay starts, which server the upstream is, and
 * each binlog event as the record the relay stores.
 */

/** Where a relay without state starts: relay-binlog-name/gtid, else the upstream's current position; and the
 * table structures as of there. */
export async function startPoint(
  up: Connection,
  src: SourceConfig,
  log: Logger,
): Promise<{ pos: BinlogPosition; tracker: SchemaTracker }> {
  let pos: BinlogPosition;
  let tracker: SchemaTracker;
  if (src.relayBinlogName || src.relayBinlogGtid) {
    pos = src.relayBinlogName ? { name: src.relayBinlogName, pos: 4 } : { name: '', pos: 0, gtid: src.relayBinlogGtid };
    if (src.relayBinlogName && src.relayBinlogGtid) pos.gtid = src.relayBinlogGtid;
    tracker = await snapshotTracker(up, 'upstream');
    log.warn(
      { start: formatPos(pos) },
      'relay starts at a configured position with the current table structures: DDL since then is not in its tracker',
    );
  } else {
    // The position and the structures read under one global read lock are exactly consistent; without the RELOAD
    // privilege the two reads are only as consistent as the absence of DDL in between.
    let locked = false;
    try {
      await up.query('FLUSH TABLES WITH READ LOCK');
      locked = true;
    } catch {
      /* no RELOAD: best effort */
    }
    try {
      const m = await masterStatus(up);
      if (!m)
        throw new DmError(
          'UpstreamBinlogDisabled',
          'SHOW MASTER STATUS returned nothing: the upstream has no binary log',
        );
      pos = m;
      tracker = await snapshotTracker(up, 'upstream');
    } finally {
      if (locked) await up.query('UNLOCK TABLES').catch(() => undefined);
    }
  }
  return { pos, tracker };
}

/**
 * A binlog event as the relay stores it, in segment `seg`. A part of a large transaction (the writer reads with
 * `chunkRows`) is stored with `from`, where its transaction starts, and `ts`, the time of the record before it (a part
 * has none of its own: records stay in time order for purge's `expires`). A rolled-back part is the writer's to
 * handle (it drops the open parts), not a record.
 */
export function toRecord(e: BinlogEvent, seg: number, from: BinlogPosition, prevTs: number): RelayRecord {
  if (e.kind === 'txn-part') {
    if (e.rollback) throw new DmError('Internal', 'a rolled-back transaction part is not a relay record');
    return { k: 'x', from, ts: prevTs, seg, rows: rowsOf(e.changes) };
  }
  if (e.kind === 'txn') {
    // The structure (info) is not stored: each reader attaches its own task tracker's, as of the event.
    const t: RelayRecord = { k: 't', end: e.end, ts: e.timestamp, seg, rows: rowsOf(e.changes) };
    if (e.continued) t.c = 1;
    return t;
  }
  if (e.kind === 'query') {
    const q: RelayRecord = { k: 'q', end: e.end, ts: e.timestamp, seg, schema: e.schema, sql: e.sql };
    if (e.serverCollation !== undefined) q.sc = e.serverCollation;
    return q;
  }
  return { k: 'p', end: e.end, ts: e.timestamp, seg };
}

function rowsOf(changes: RowChange[]): RelayRowChange[] {
  return changes.map((c) => {
    const r: RelayRowChange = { op: c.op, schema: c.schema, table: c.table };
    if (c.before) r.before = c.before;
    if (c.after) r.after = c.after;
    if (c.noFkChecks) r.nfk = 1;
    return r;
  });
}

/** MySQL's server_uuid; MariaDB has none, so its `gtid_domain_id-server_id` stands for the server's identity. */
export async function serverUuid(up: Connection): Promise<string> {
  try {
    const [r] = await query<Record<string, string>[]>(up, 'upstream', 'SELECT @@server_uuid AS u');
    if (r?.u) return String(r.u);
  } catch {
    /* MariaDB */
  }
  const [r] = await query<Record<string, string | number>[]>(
    up,
    'upstream',
    'SELECT @@gtid_domain_id AS d, @@server_id AS s',
  );
  return `${r?.d}-${r?.s}`;
}
