import type { Connection } from 'mysql2/promise';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { query } from '../db/mysql.ts';
import { compareTable } from './compare-table.ts';
import { openUpstreamSnapshot } from './upstream-snapshot.ts';
import type { CheckJobHost } from './job.ts';
import { downstreamConnector } from './job.ts';
import type { PlannedTable } from './plan.ts';

/**
 * Repairs one target table without racing sync (issue #15: "through the task's own writer path, so checkpoints and
 * shard holds stay consistent and nothing races with sync"):
 * 1. hold the sync of every source feeding the table (it stops after a flushed batch: downstream = upstream at S);
 * 2. open an upstream snapshot per source at P >= S and hold its sync at exactly P;
 * 3. compare the table in those snapshots (the downstream cannot move while held) and run the fix statements in
 *    one downstream transaction: the downstream now equals the upstream at P for this table;
 * 4. release: sync goes on from P, so every later change applies on top of the repaired rows.
 * A crash between 3 and 4 leaves a committed repair and a hold that expires by itself (its TTL); one before the
 * COMMIT leaves nothing. Sync's checkpoints never move here: the repair is data the checkpoint already covers.
 */
export async function repairTable(
  p: PlannedTable,
  host: CheckJobHost,
  chunkRows: number,
): Promise<{ applied: number; rows: number }> {
  const sources = [...new Set(p.shards.map((s) => s.source))];
  const held: string[] = [];
  const upstream = new Map<string, Connection>();
  const positions = new Map<string, BinlogPosition>();
  let down: Connection | undefined;
  let writer: Connection | undefined;
  try {
    for (const s of sources) {
      if (!host.syncing.has(s)) continue;
      await host.repairHolds.hold(s);
      held.push(s);
    }
    for (const s of sources) {
      const tables = p.shards.filter((x) => x.source === s).map((x): [string, string] => [x.schema, x.table]);
      const snap = await openUpstreamSnapshot(host.sources.get(s)!.from, tables);
      upstream.set(s, snap.conn);
      positions.set(s, snap.position);
      if (held.includes(s)) await host.repairHolds.hold(s, snap.position);
    }
    down = await downstreamConnector(host.task)();
    await query(down, 'downstream', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await query(down, 'downstream', 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
    const r = await compareTable(
      p,
      { upstream, downstream: down, positions },
      { chunkRows, maxSamples: 0, signal: host.signal },
    );
    if (r.fixSql.length === 0) return { applied: 0, rows: 0 };
    writer = await downstreamConnector(host.task)();
    await query(writer, 'downstream', 'BEGIN');
    for (const sql of r.fixSql) await query(writer, 'downstream', sql);
    // Still held at P (a hold expires by itself after its TTL: then sync may have moved and the fix is stale)?
    for (const s of held) await host.repairHolds.hold(s, positions.get(s));
    await query(writer, 'downstream', 'COMMIT');
    return { applied: r.fixSql.length, rows: r.differences };
  } finally {
    writer?.destroy();
    for (const c of [...upstream.values(), ...(down ? [down] : [])]) c.destroy();
    for (const s of held) await host.repairHolds.release(s).catch(() => undefined);
  }
}
