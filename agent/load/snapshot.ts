import type { Connection } from 'mysql2/promise';
import type { DbConfig } from '../../src/config/types.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import { DmError } from '../../src/errors/index.ts';
import { connect, query } from '../db/mysql.ts';
import { snapshotTracker } from '../db/tracked.ts';
import { readGtid } from '../db/binlog-status.ts';
import { quoteIdent } from '../../src/sql/table-name.ts';
import { listTables } from '../db/schema.ts';
import type { SchemaTracker } from '../../src/schema/model.ts';

/**
 * A consistent snapshot shared by N connections, with the binlog position it corresponds to (what mydumper does):
 * one connection holds FLUSH TABLES WITH READ LOCK while every worker connection opens a REPEATABLE READ
 * transaction WITH CONSISTENT SNAPSHOT and the position is read; then the lock is released. Every worker reads
 * the same point in time, exactly `position`.
 */
/** A table of the snapshot and its `SHOW CREATE TABLE` text, both read under the lock. */
export interface SnapshotTable {
  schema: string;
  table: string;
  createSql: string;
}

export class Snapshot {
  private constructor(
    readonly conns: Connection[],
    readonly position: BinlogPosition,
    readonly tracker: SchemaTracker | undefined,
    readonly tables: SnapshotTable[] | undefined,
  ) {}

  /** With `withSchema`, the schema tracker's starting point is read under the lock too: exactly the snapshot's. */
  /** `withPosition` false (task-mode full): no binlog position is needed, nor the privilege to read it. */
  /** `tables`: which tables to list with their CREATE TABLE under the lock (SHOW CREATE TABLE is not transactional:
   * read after the unlock, a DDL right after the snapshot would be in the created table and then replayed again). */
  static async take(
    db: DbConfig,
    workers: number,
    opts: { withSchema?: boolean; withPosition?: boolean; tables?: (schema: string, table: string) => boolean } = {},
  ): Promise<Snapshot> {
    const { withSchema = false, withPosition = true, tables } = opts;
    const lock = await connect(db, 'upstream');
    const conns: Connection[] = [];
    try {
      for (let i = 0; i < workers; i++) conns.push(await connect(db, 'upstream'));
      try {
        await lock.query('FLUSH TABLES WITH READ LOCK');
      } catch (err) {
        throw new DmError('SnapshotFailed', 'FLUSH TABLES WITH READ LOCK failed: the upstream user needs RELOAD', {
          cause: err,
        });
      }
      for (const c of conns) {
        await query(c, 'upstream', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
        await query(c, 'upstream', 'START TRANSACTION WITH CONSISTENT SNAPSHOT');
      }
      let position: BinlogPosition = { name: '', pos: 0 };
      if (withPosition) {
        const [ms] = await query<Record<string, string | number>[]>(lock, 'upstream', 'SHOW MASTER STATUS');
        if (!ms)
          throw new DmError(
            'UpstreamBinlogDisabled',
            'SHOW MASTER STATUS returned nothing: the upstream has no binary log',
          );
        position = { name: String(ms.File), pos: Number(ms.Position) };
        const gtid = await readGtid(lock);
        if (gtid) position.gtid = gtid;
      }
      const tracker = withSchema ? await snapshotTracker(lock, 'upstream') : undefined;
      let listed: SnapshotTable[] | undefined;
      if (tables) {
        listed = [];
        for (const t of (await listTables(lock, 'upstream')).filter((x) => tables(x.schema, x.table))) {
          const [ct] = await query<Record<string, string>[]>(
            lock,
            'upstream',
            `SHOW CREATE TABLE ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`,
          );
          listed.push({ ...t, createSql: String(ct?.['Create Table']) });
        }
      }
      await query(lock, 'upstream', 'UNLOCK TABLES');
      return new Snapshot(conns, position, tracker, listed);
    } catch (err) {
      for (const c of conns) c.destroy();
      throw err;
    } finally {
      lock.destroy();
    }
  }

  close(): void {
    for (const c of this.conns) {
      c.query('ROLLBACK')
        .catch(() => undefined)
        .finally(() => c.destroy());
    }
  }
}
