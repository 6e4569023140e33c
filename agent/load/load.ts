import type { Connection } from 'mysql2/promise';
import type { TableLoadProgress } from '../../src/coord/records.ts';
import { DmError } from '../../src/errors/index.ts';
import { comparePos } from '../../src/binlog/position.ts';
import type { ChunkRow } from '../checkpoint-load.ts';
import { classifyMysqlError, isClosed, isConnectionLost, isTransient, query } from '../db/mysql.ts';
import { tableKey, type TableName } from '../../src/sql/table-name.ts';
import { loadTableInfo, type TableInfo } from '../db/schema.ts';
import type { Snapshot } from './snapshot.ts';
import { chunkRead, type ChunkRead, type ReadMode } from './chunk-read.ts';
import {
  clean,
  INFILE_REFUSED,
  loadData,
  loadDataSql,
  targetColumns,
  type InfileResult,
  type TargetColumn,
} from './infile.ts';
import { openDataConnection } from '../db/downstream.ts';
import { snapshotInfo } from './dump.ts';
import { resumeSnapshot } from './load-resume.ts';
import { indexedTargets, loadBulk, planItems, restoreSession } from './bulk.ts';
import { viaStatements } from './statements.ts';
import { throwIfAborted, type SubtaskContext, type Unit } from '../unit.ts';

const ER_DUP_ENTRY = 1062;
/** Fault hook for crash tests only: slows each chunk down so a test can kill the agent mid-load reliably. */
const CHUNK_DELAY_MS = Number(process.env.TSDM_FAULT_CHUNK_DELAY_MS ?? 0);
/** Whole tables in one statement where they qualify (bulk.ts); TSDM_LOAD_BULK=0 loads every chunk on its own. */
const BULK = process.env.TSDM_LOAD_BULK !== '0';
/** Upstream errnos of a snapshot read whose table changed after the snapshot began: definition changed (1412),
 * unknown column (1054, a column dropped or renamed), no such table (1146, dropped or renamed). */
const CHANGED_UNDER_SNAPSHOT = new Set([1412, 1054, 1146]);

/**
 * Load unit: copies every pending chunk of the plan from the snapshot to the downstream, `pool-size` chunks at a
 * time. Each chunk is one downstream transaction that also marks the chunk done, so a crash reloads only the
 * chunks that were not committed, and never loads a row twice (this holds for tables without keys too). A table
 * that qualifies (bulk.ts) is one transaction of all its chunks instead, marked done together.
 *
 * After a restart the original snapshot is gone: a new one is taken for the remaining chunks, and `safeUntil`
 * moves to its position so that sync, starting from the oldest snapshot position, runs in safe mode until it has
 * passed every snapshot (that replay converges keyed rows; keyless tables are a single chunk and sync skips their
 * events up to that chunk's own snapshot position).
 */
export class LoadUnit implements Unit {
  readonly name = 'load' as const;
  private readonly infos = new Map<string, TableInfo>();
  /** LOAD DATA LOCAL INFILE until the downstream refuses it once (infile.ts). */
  private infile = process.env.TSDM_LOAD_INFILE !== '0';
  /** BLOBs as their own bytes in LOAD DATA files (chunk-read.ts); hex on TiDB, whose LOAD DATA was not tried so. */
  private rawBinary: Promise<boolean> | undefined;
  /** The target tables' downstream columns, read at the start of each round of the load (asStored, infile.ts). */
  private targets: Map<string, Map<string, TargetColumn>> | undefined;

  constructor(
    private readonly ctx: SubtaskContext,
    private readonly down: Connection,
    private snapshot: Snapshot | undefined,
  ) {}

  async run(): Promise<void> {
    const { ctx } = this;
    for (let round = 1; ; round++) {
      try {
        await this.loadRemaining();
        break;
      } catch (err) {
        // A DDL upstream after the snapshot began, on a table the snapshot had not read yet (a table it read is
        // protected by its metadata lock: the DDL waits for the load): InnoDB refuses to read it (1412), or the
        // column list or the table is gone (1054, 1146). Take a new snapshot and reconcile (load-resume.ts), as a
        // restart would, without pausing anything.
        if (
          !(err instanceof DmError) ||
          err.class !== 'upstream' ||
          !CHANGED_UNDER_SNAPSHOT.has(err.context.errno ?? 0) ||
          round >= 10 ||
          ctx.signal.aborted
        )
          throw err;
        ctx.log.warn(
          { table: err.context.table, round },
          "a table changed under the load's snapshot: taking a new one",
        );
        this.snapshot?.close();
        this.snapshot = undefined;
      }
    }
    const st = await ctx.ckpt.readState(this.down);
    await ctx.ckpt.writeState(this.down, { ...st, phase: ctx.task.taskMode === 'full' ? 'finished' : 'sync' });
  }

  /** Loads every pending chunk (after reconciling the plan with a new snapshot when the load restarted). */
  private async loadRemaining(): Promise<void> {
    const { ctx } = this;
    let chunks = await ctx.ckpt.readChunks(this.down);
    const workersFor = (n: number) => Math.max(1, Math.min(ctx.spec.load.poolSize, ctx.spec.dump.threads, n));
    if (!this.snapshot && chunks.some((c) => !c.done)) {
      // A restarted load: a new snapshot, and the plan reconciled with what DDL changed since the first one.
      this.snapshot = await resumeSnapshot(ctx, this.down, chunks, workersFor(chunks.filter((c) => !c.done).length));
      this.infos.clear(); // structures are the new snapshot's from here on
      chunks = await ctx.ckpt.readChunks(this.down);
    }
    const pending = chunks.filter((c) => !c.done);
    const progress = {
      totalChunks: chunks.length,
      doneChunks: chunks.length - pending.length,
      totalRows: chunks.reduce((s, c) => s + (c.done ? c.rows : c.estRows), 0),
      doneRows: chunks.reduce((s, c) => s + c.rows, 0),
      tables: new Set(chunks.map((c) => `${tableKey(c)}`)).size,
    };
    const perTable = new Map<string, TableLoadProgress>();
    for (const c of chunks) {
      const k = `${tableKey(c)}`;
      const t = perTable.get(k) ?? { table: k, doneChunks: 0, totalChunks: 0, doneRows: 0, totalRows: 0 };
      t.totalChunks++;
      t.totalRows += c.done ? c.rows : c.estRows;
      if (c.done) {
        t.doneChunks++;
        t.doneRows += c.rows;
      }
      perTable.set(k, t);
    }
    const snapshotProgress = () => ({ ...progress, perTable: tableProgress(perTable) });
    ctx.report({ unit: 'load', load: snapshotProgress() });
    if (pending.length === 0) {
      this.snapshot?.close();
      this.snapshot = undefined;
    } else if (this.snapshot) {
      const workers = workersFor(pending.length);
      const snap = this.snapshot;
      try {
        const bulk = this.infile && BULK && !ctx.task.shardMode;
        const indexed = bulk ? await indexedTargets(this.down, pending) : new Set<string>();
        this.targets =
          this.infile && (await this.binaryAsBytes())
            ? await targetColumns(this.down, [...new Set(pending.map((c) => c.targetSchema))])
            : undefined;
        const queue = planItems(chunks, pending, bulk, !!ctx.task.shardMode, indexed);
        let lastReport = 0;
        const worker = async (i: number): Promise<void> => {
          const up = snap.conns[i % snap.conns.length]!;
          // Held in a box: loadChunkWithRetry puts a new connection in it when the server closed this one.
          const down = { conn: await openDataConnection(ctx.task, ctx.ckpt) };
          try {
            for (let item = queue.shift(); item; item = queue.shift()) {
              throwIfAborted(ctx.signal);
              const loaded = item.bulk
                ? await this.loadTable(up, down, item.chunks, snap)
                : [{ c: item.chunks[0]!, rows: await this.loadChunkWithRetry(up, down, item.chunks[0]!, snap) }];
              for (const { c, rows } of loaded) {
                progress.doneChunks++;
                progress.doneRows += rows;
                const t = perTable.get(`${tableKey(c)}`);
                if (t) {
                  t.doneChunks++;
                  t.doneRows += rows;
                  t.totalRows += rows - c.estRows;
                }
              }
              if (Date.now() - lastReport > 500) {
                lastReport = Date.now();
                ctx.report({ load: snapshotProgress() });
              }
            }
          } catch (err) {
            queue.length = 0; // the other workers stop after their current chunk
            throw err;
          } finally {
            down.conn.destroy();
          }
        };
        // Snapshot connections are single-threaded: one worker each. Every worker ends before the load goes on (or
        // retries): a chunk still committing while the next round reads the plan would be loaded twice.
        const ends = await Promise.allSettled(
          Array.from({ length: Math.min(workers, snap.conns.length) }, (_, i) => worker(i)),
        );
        const failed = ends.find((e): e is PromiseRejectedResult => e.status === 'rejected');
        if (failed) throw failed.reason;
      } finally {
        snap.close();
        this.snapshot = undefined;
      }
    }
    ctx.report({ load: snapshotProgress() });
  }

  private async info(up: Connection, schema: string, table: string, snap: Snapshot): Promise<TableInfo> {
    const k = `${schema}.${table}`;
    let i = this.infos.get(k);
    if (!i) {
      // The structure the snapshot reads, read under its lock (information_schema would show later DDL).
      i = snapshotInfo(snap, { schema, table }) ?? (await loadTableInfo(up, 'upstream', schema, table));
      if (!i)
        throw new DmError('UpstreamQuery', `table ${k} does not exist upstream any more`, {
          context: { table: k, errno: 1146 },
        });
      this.infos.set(k, i);
    }
    return i;
  }

  /**
   * A table's pending chunks (all of it) in one statement and transaction (bulk.ts); when that cannot be done (the
   * target is not empty, a duplicate key or a warning, a transient error), its chunks one by one, as every other.
   */
  private async loadTable(
    up: Connection,
    down: { conn: Connection },
    chunks: ChunkRow[],
    snap: Snapshot,
  ): Promise<{ c: ChunkRow; rows: number }[]> {
    const c0 = chunks[0]!;
    try {
      const info = await this.info(up, c0.schema, c0.table, snap);
      const mode = await this.readMode(c0);
      const reads = chunks.map((c) => chunkRead(up, c, info, this.ctx, mode));
      const target = { schema: c0.targetSchema, table: c0.targetTable };
      let counts: number[] | undefined;
      try {
        counts = await loadBulk(down.conn, target, reads, CHUNK_DELAY_MS);
        if (counts) {
          for (let i = 0; i < chunks.length; i++)
            await this.ctx.ckpt.markChunkDone(down.conn, chunks[i]!.chunkId, counts[i]!, snap.position);
          await query(down.conn, 'downstream', 'COMMIT');
        }
      } finally {
        if (!isClosed(down.conn)) await restoreSession(down.conn).catch(() => undefined);
      }
      if (counts) return chunks.map((c, i) => ({ c, rows: counts[i]! }));
      this.ctx.log.debug({ table: `${tableKey(c0)}` }, 'table not loaded in one statement: loading it chunk by chunk');
    } catch (err) {
      await down.conn.query('ROLLBACK').catch(() => undefined);
      if (err instanceof DmError && err.class === 'upstream') throw err;
      const errno = (err as { errno?: number }).errno;
      const refused = errno !== undefined && INFILE_REFUSED.has(errno);
      const e = classifyMysqlError(err, 'downstream');
      if (!refused && (!isTransient(err) || e.class !== 'downstream')) throw e;
      // Refused: the chunk path below finds out again, says so once and goes on with statements.
      if (!refused)
        this.ctx.log.warn(
          { table: `${tableKey(c0)}`, code: e.code, err: e.message },
          'loading the table chunk by chunk',
        );
    }
    if (isClosed(down.conn)) {
      down.conn.destroy();
      down.conn = await openDataConnection(this.ctx.task, this.ctx.ckpt);
    }
    // A COMMIT whose answer was lost may have gone through: the checkpoint rows say which chunks are done.
    const now = new Map((await this.ctx.ckpt.readChunks(down.conn)).map((c) => [c.chunkId, c]));
    const out: { c: ChunkRow; rows: number }[] = [];
    for (const c of chunks) {
      const s = now.get(c.chunkId);
      if (s?.done) out.push({ c, rows: s.rows });
      else out.push({ c, rows: await this.loadChunkWithRetry(up, down, c, snap) });
    }
    return out;
  }

  /**
   * A chunk in one downstream transaction, retried on transient errors. A connection the server closed (KILL,
   * wait_timeout) is replaced first; when it went in the middle of the transaction, the chunk's checkpoint row says
   * whether the COMMIT got through, so a chunk is never loaded twice.
   */
  private async loadChunkWithRetry(
    up: Connection,
    down: { conn: Connection },
    c: ChunkRow,
    snap: Snapshot,
  ): Promise<number> {
    if (CHUNK_DELAY_MS > 0) await new Promise((r) => setTimeout(r, CHUNK_DELAY_MS));
    let lost = false;
    for (let attempt = 1; ; attempt++) {
      if (isClosed(down.conn)) {
        down.conn.destroy();
        down.conn = await openDataConnection(this.ctx.task, this.ctx.ckpt);
        this.ctx.log.info({ chunk: c.chunkId }, 'downstream connection was closed by the server: opened a new one');
      }
      if (lost) {
        const now = (await this.ctx.ckpt.readChunks(down.conn, c.chunkId))[0];
        if (now?.done) return now.rows;
      }
      try {
        return await this.loadChunk(up, down.conn, c, snap);
      } catch (err) {
        await down.conn.query('ROLLBACK').catch(() => undefined);
        lost = isConnectionLost(err);
        const e = classifyMysqlError(err, 'downstream');
        if (err instanceof DmError && err.class === 'upstream') throw err;
        if (!isTransient(err) || attempt >= 5 || e.class !== 'downstream') throw e;
        const delayMs = 200 * 2 ** attempt;
        this.ctx.log.warn({ chunk: c.chunkId, attempt, delayMs, code: e.code, err: e.message }, 'retrying chunk');
        await new Promise((r) => setTimeout(r, delayMs));
      }
    }
  }

  private binaryAsBytes(): Promise<boolean> {
    this.rawBinary ??= query<{ v: string }[]>(this.down, 'downstream', 'SELECT VERSION() AS v').then(
      ([r]) => !/tidb/i.test(String(r?.v)),
    );
    return this.rawBinary;
  }

  /** How a chunk is read into its file (chunk-read.ts). */
  private async readMode(c: ChunkRow): Promise<ReadMode> {
    const target = this.targets?.get(tableKey({ schema: c.targetSchema, table: c.targetTable }));
    return { rawBinary: await this.binaryAsBytes(), ...(target ? { target } : {}) };
  }

  private async loadChunk(up: Connection, down: Connection, c: ChunkRow, snap: Snapshot): Promise<number> {
    const info = await this.info(up, c.schema, c.table, snap);
    const read = chunkRead(up, c, info, this.ctx, await this.readMode(c));
    const onDuplicate = this.ctx.spec.load.onDuplicate;
    const verb = onDuplicate === 'error' ? 'INSERT' : onDuplicate === 'ignore' ? 'INSERT IGNORE' : 'REPLACE';
    const target = { schema: c.targetSchema, table: c.targetTable };
    const restart = async (): Promise<void> => {
      await query(down, 'downstream', 'ROLLBACK');
      await query(down, 'downstream', 'BEGIN');
    };
    await query(down, 'downstream', 'BEGIN');
    let total: number | undefined;
    if (this.infile) {
      const r = await this.viaInfile(down, read, target, c);
      if (r && clean(r)) total = r.sent;
      else {
        // Refused (local_infile off), or the chunk met a duplicate key or a value with a warning: the statements
        // below decide, with the task's on-duplicate semantics (infile.ts).
        if (r)
          this.ctx.log.debug({ chunk: c.chunkId, ...r }, 'LOAD DATA was not clean: loading the chunk with statements');
        await restart();
      }
    } else if (verb === 'REPLACE') {
      // Rows of a chunk that is not done are not downstream (its rows commit with its checkpoint row), so INSERT is
      // what REPLACE does unless a key exists already (rows there before the task, a merged shard, a unique key
      // whose row moved between snapshots): then the server refuses the whole chunk and REPLACE loads it again.
      try {
        total = await viaStatements(down, read, target, 'INSERT');
      } catch (err) {
        if (!(err instanceof DmError) || err.context.errno !== ER_DUP_ENTRY) throw err;
        await restart();
      }
    }
    total ??= await viaStatements(down, read, target, verb);
    await this.ctx.ckpt.markChunkDone(down, c.chunkId, total, snap.position);
    await query(down, 'downstream', 'COMMIT');
    return total;
  }

  /** The chunk by LOAD DATA; undefined when the server refuses LOAD DATA LOCAL (then never tried again). */
  private async viaInfile(
    down: Connection,
    read: ChunkRead,
    target: TableName,
    c: ChunkRow,
  ): Promise<InfileResult | undefined> {
    const sql = loadDataSql(target, read.cols, read.binary, read.charset);
    try {
      return await loadData(down, sql, read.file);
    } catch (err) {
      if (err instanceof DmError) throw err;
      const errno = (err as { errno?: number }).errno;
      if (errno !== undefined && INFILE_REFUSED.has(errno)) {
        this.infile = false;
        this.ctx.log.info(
          { chunk: c.chunkId, errno },
          'the downstream refuses LOAD DATA LOCAL INFILE (local_infile=OFF?): loading with INSERT statements',
        );
        return undefined;
      }
      throw classifyMysqlError(err, 'downstream', { sql: sql.slice(0, 500), table: `${tableKey(c)}` });
    }
  }
}

/** Unfinished tables first (most remaining rows first), then finished ones; bounded so the status record stays small. */
function tableProgress(m: Map<string, TableLoadProgress>): TableLoadProgress[] {
  const all = [...m.values()].map((t) => ({ ...t }));
  const left = (t: TableLoadProgress) => t.totalChunks - t.doneChunks;
  all.sort(
    (a, b) =>
      Number(left(b) > 0) - Number(left(a) > 0) ||
      b.totalRows - b.doneRows - (a.totalRows - a.doneRows) ||
      a.table.localeCompare(b.table),
  );
  return all.slice(0, 200);
}

export { comparePos };
