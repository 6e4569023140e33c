import { Readable } from 'node:stream';
import type { Connection } from 'mysql2/promise';
import type { ChunkRow } from '../checkpoint-load.ts';
import { query } from '../db/mysql.ts';
import { qualified } from '../sync/sqlgen.ts';
import { tableKey, type TableName } from '../../src/sql/table-name.ts';
import type { ChunkRead } from './chunk-read.ts';
import { clean, loadData, loadDataSql } from './infile.ts';
import type { ChunkFile } from './transcode.ts';

/**
 * A whole table in one LOAD DATA statement (issue #14). MariaDB 10.6+ loads the first insert of a transaction into an
 * empty table with one table-level undo record instead of one per row (MDEV-515), and 10.7+ buffers that first
 * statement's rows and builds every index of the table sorted at the statement's end (MDEV-24621), when the session
 * has `unique_checks=0` and `foreign_key_checks=0`. One statement over all of a table's chunks (their files one after
 * the other, read from the snapshot in key order) cut the full benchmark's downstream CPU per row by ~20 % when only
 * tables with a secondary index go this way (bench/README.md); a table with its primary key alone (rows arrive in
 * key order: appending is already cheap) cost more this way, and further statements in the same transaction lose
 * the buffering (the first statement only) and cost more too, so it is one statement or nothing.
 *
 * Only where no row can collide: a table whose chunks are all pending (its target is empty: checked in the
 * transaction, which then holds the table's exclusive lock from its first row on), that no other upstream table is
 * routed into, in a task that is not a shard merge. The chunks' checkpoint rows commit in the same transaction, so
 * a crash rolls the whole table back (cheaply: one undo record) and the next start loads it again. Anything but
 * "every row inserted, no warning" (a duplicate key: with the buffered build the server reports it as a warning
 * with rows missing, or as error 1180 at the statement's end) rolls the table back, and its chunks are loaded one
 * by one as before, with the task's on-duplicate semantics.
 */

/** At most this many chunks (~1M rows at the default 10,000 per chunk) in one statement: a larger table keeps its
 * chunks in parallel transactions, and a crash loses at most this much work. */
export const BULK_MAX_CHUNKS = Number(process.env.TSDM_LOAD_BULK_MAX_CHUNKS ?? 100);

/** What the load does next: a table whole (`bulk`), or one chunk. */
export interface LoadItem {
  chunks: ChunkRow[];
  bulk: boolean;
}

/**
 * The load's work: each table that qualifies as one item (largest first), then every other pending chunk in plan
 * order. `all`: the whole plan (done chunks too), to see tables partly loaded and merged targets.
 */
export function planItems(
  all: ChunkRow[],
  pending: ChunkRow[],
  enabled: boolean,
  shardMode: boolean,
  indexed: Set<string>,
): LoadItem[] {
  if (!enabled || shardMode) return pending.map((c) => ({ chunks: [c], bulk: false }));
  const sources = new Map<string, Set<string>>();
  const started = new Set<string>();
  for (const c of all) {
    const target = tableKey({ schema: c.targetSchema, table: c.targetTable });
    sources.set(target, (sources.get(target) ?? new Set()).add(tableKey(c)));
    if (c.done) started.add(tableKey(c));
  }
  const tables = new Map<string, ChunkRow[]>();
  for (const c of pending) {
    const k = tableKey(c);
    const list = tables.get(k);
    if (list) list.push(c);
    else tables.set(k, [c]);
  }
  const bulk: LoadItem[] = [];
  const single: LoadItem[] = [];
  for (const [k, chunks] of tables) {
    const target = tableKey({ schema: chunks[0]!.targetSchema, table: chunks[0]!.targetTable });
    if (
      !started.has(k) &&
      indexed.has(target) &&
      (sources.get(target)?.size ?? 0) === 1 &&
      chunks.length <= BULK_MAX_CHUNKS
    )
      bulk.push({ chunks, bulk: true });
    else for (const c of chunks) single.push({ chunks: [c], bulk: false });
  }
  // A whole table holds one worker until it ends: the largest start first, the single chunks fill the other workers.
  const rows = (i: LoadItem) => i.chunks.reduce((s, c) => s + c.estRows, 0);
  bulk.sort((a, b) => rows(b) - rows(a));
  return [...bulk, ...single];
}

/** The chunks' files one after the other as one file; `counts` gets each chunk's rows as its file ends. */
function concatFile(reads: ChunkRead[], counts: number[], delayMs: number): ChunkFile {
  let sent = 0;
  async function* pieces(): AsyncGenerator<Buffer> {
    for (const r of reads) {
      if (delayMs > 0) await new Promise((res) => setTimeout(res, delayMs));
      const f = r.file();
      // Leaving the loop early (the downstream failed) destroys f.stream, which stops the upstream read.
      for await (const p of f.stream as AsyncIterable<Buffer>) yield p;
      counts.push(f.sent());
      sent += f.sent();
    }
  }
  return { stream: Readable.from(pieces(), { objectMode: false }), sent: () => sent };
}

/** Target tables (of `chunks`) with a secondary index: only their loads gain from the sorted build (a table with
 * its primary key alone measured more CPU per row in one statement than chunk by chunk). */
export async function indexedTargets(down: Connection, chunks: ChunkRow[]): Promise<Set<string>> {
  const schemas = [...new Set(chunks.map((c) => c.targetSchema))];
  if (schemas.length === 0) return new Set();
  const rows = await query<Record<string, string>[]>(
    down,
    'downstream',
    `SELECT DISTINCT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.STATISTICS WHERE INDEX_NAME <> 'PRIMARY' AND TABLE_SCHEMA IN (${schemas.map(() => '?').join(',')})`,
    schemas,
  );
  return new Set(rows.map((r) => tableKey({ schema: String(r.s), table: String(r.t) })));
}

/** Errnos of a duplicate key found by the buffered index build or the insert (then the chunk-by-chunk path decides). */
const DUPLICATE = new Set([1062, 1180, 1022, 1169]);

/**
 * Loads `reads` (a table's chunks in key order) into the empty `target` in one statement of an open transaction
 * that this function begins; returns each chunk's rows with the transaction still open (the caller marks the chunks
 * done and commits), or undefined after rolling it back when the table is not empty, the session has foreign-key
 * checks on, or the load was not clean. The session's unique_checks is restored by `restoreSession`.
 */
export async function loadBulk(
  down: Connection,
  target: TableName,
  reads: ChunkRead[],
  delayMs: number,
): Promise<number[] | undefined> {
  await query(down, 'downstream', 'SET @tsdm_unique_checks = @@SESSION.unique_checks, SESSION unique_checks = 0');
  await query(down, 'downstream', 'BEGIN');
  const [probe] = await query<Record<string, string | number>[]>(
    down,
    'downstream',
    `SELECT @@SESSION.foreign_key_checks AS fk, EXISTS (SELECT 1 FROM ${qualified(target)}) AS used`,
  );
  if (Number(probe?.fk) !== 0 || Number(probe?.used) !== 0) {
    await query(down, 'downstream', 'ROLLBACK');
    return undefined;
  }
  const counts: number[] = [];
  const first = reads[0]!;
  try {
    const r = await loadData(down, loadDataSql(target, first.cols, first.binary, first.charset), () =>
      concatFile(reads, counts, delayMs),
    );
    if (clean(r) && counts.length === reads.length) return counts;
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    if (errno === undefined || !DUPLICATE.has(errno)) throw err;
  }
  await query(down, 'downstream', 'ROLLBACK');
  return undefined;
}

/** After loadBulk's transaction ended (commit or rollback): the session's unique_checks as it was. */
export async function restoreSession(down: Connection): Promise<void> {
  await query(down, 'downstream', 'SET SESSION unique_checks = @tsdm_unique_checks');
}
