import type { Connection } from 'mysql2/promise';
import { tableKey } from '../../src/sql/table-name.ts';
import type { Difference, TablePlan, TableProgress, TableResult, View } from './types.ts';
import {
  boundarySql,
  checksumSql,
  keyOrder,
  type KeyValues,
  nextChunkSql,
  rangeWhere,
  rowsSql,
  type Side,
} from './compare-sql.ts';
import { diffChunk } from './chunk-diff.ts';
import { fixStatements } from './fix-sql.ts';
import { binaryAliases, diffRows, KeyedMatch, readRows, type RowDiff, toDifference } from './row-diff.ts';
import { type CompareColumn, loadShape, type TableShape } from './table-shape.ts';
import { connOn, rangeRows, sideName, tableOn } from './view-sides.ts';

/**
 * Compares one target table inside a View (check-data, issue #15): chunks are key ranges of the downstream's key,
 * half-open (lo, hi], the last one open-ended so that upstream rows beyond the downstream's last key are covered.
 * Per chunk the servers compute COUNT and a checksum (compare-sql.ts); a chunk whose figures differ is narrowed to
 * the keys whose row CRCs differ (chunk-diff.ts), whose rows are then read on both sides and compared in canonical
 * form (row-diff.ts). A merged target's upstream figures are the sums over its shards, each read on its source's
 * snapshot connection. Without the fast path (a column typed differently on the two sides) every chunk is read row by
 * row; a table without a usable key is checksummed whole and, on a mismatch, compared as a multiset of rows.
 *
 * Pipelining: each side has one connection, so the downstream reads chunk i+1 while the upstream shards checksum
 * chunk i (mysql2 queues a connection's queries in order, so a row read of chunk i simply waits its turn).
 */
export interface CompareOptions {
  /** Target rows per chunk (default 10_000); grown or shrunk by the time a chunk takes. */
  chunkRows: number;
  /** Differences kept with values (default 100); `differences` counts all. */
  maxSamples: number;
  /** Continue after lastKey. */
  resume?: TableProgress;
  /** After each chunk (the job persists it). */
  onProgress?(p: TableProgress): Promise<void> | void;
  signal?: AbortSignal;
}

export const COMPARE_DEFAULTS: CompareOptions = { chunkRows: 10_000, maxSamples: 100 };

/** Chunk size adapts between these, aiming at TARGET_MS per pipelined step (one downstream and one upstream query):
 * long enough that per-query overhead is small, short enough that a killed compare loses little and a differing chunk
 * is cheap to read row by row. */
const MIN_ROWS = 1_000;
const MAX_ROWS = 200_000;
const TARGET_MS = 300;
/** Bytes of (key, CRC) rows the one-pass downstream chunk query may materialize (see compareChunks). */
const DERIVED_BYTES = 8 << 20;

/** The most bytes a key value takes in a MEMORY temporary table (fixed width: a VARCHAR(n) takes all n chars). */
function keyBytes(c: CompareColumn): number {
  if (c.kind !== 'text' && c.kind !== 'bytes') return 16;
  const n = /^(?:var)?(?:char|binary)\((\d+)\)/i.exec(c.down.columnType);
  if (!n) return 4096; // ENUM, SET, prefixes of TEXT/BLOB: not worth the guess, the boundary form is used
  const perChar = c.binary
    ? 1
    : (({ latin1: 1, ascii: 1, utf8mb3: 3, utf8: 3, ucs2: 2 } as Record<string, number>)[c.down.charset ?? ''] ?? 4);
  return Number(n[1]) * perChar + 2;
}

interface Tally {
  rows: number;
  differences: number;
  samples: Difference[];
  deletes: string[];
  upserts: string[];
  chunks: { compared: number; readRows: number };
}

export async function compareTable(plan: TablePlan, view: View, opts: CompareOptions): Promise<TableResult> {
  const target = tableKey(plan.target);
  const shape = await loadShape(plan, view);
  const base = { target, rows: opts.resume?.rows ?? 0, differences: opts.resume?.differences ?? 0 };
  if ('reason' in shape) return { ...base, status: 'not-comparable', reason: shape.reason, samples: [], fixSql: [] };
  // A caller that leaves a figure out (undefined from a stored record) gets the default, never a LIMIT NaN.
  opts = {
    ...opts,
    chunkRows: opts.chunkRows > 0 ? opts.chunkRows : COMPARE_DEFAULTS.chunkRows,
    maxSamples: opts.maxSamples >= 0 ? opts.maxSamples : COMPARE_DEFAULTS.maxSamples,
  };
  const tally: Tally = { ...base, samples: [], deletes: [], upserts: [], chunks: { compared: 0, readRows: 0 } };
  if (!opts.resume?.done) {
    if (shape.key.length === 0) await compareWhole(plan, view, shape, opts, tally);
    else await compareChunks(plan, view, shape, opts, tally);
  }
  return {
    target,
    status: tally.differences > 0 ? 'different' : 'equal',
    ...(shape.fast ? {} : { reason: `compared row by row: ${shape.slowReason}` }),
    rows: tally.rows,
    differences: tally.differences,
    samples: tally.samples,
    fixSql: [...tally.deletes, ...tally.upserts],
    chunks: tally.chunks,
  };
}

interface Figures {
  count: bigint;
  sum: bigint;
}

async function figures(conn: Connection, side: Side, sql: string): Promise<Figures> {
  const [r] = await readRows(conn, sideName(side), sql, new Set());
  return { count: BigInt(String(r![0])), sum: BigInt(String(r![1])) };
}

/** Upstream figures of a range: the sum over the shards, all shards queried concurrently. */
async function upFigures(plan: TablePlan, view: View, shape: TableShape, lo?: KeyValues, hi?: KeyValues) {
  const each = await Promise.all(
    plan.shards.map((_s, i) => figures(connOn(plan, view, i), i, checksumSql(tableOn(plan, i), shape, i, lo, hi))),
  );
  return each.reduce((a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }), { count: 0n, sum: 0n });
}

function record(plan: TablePlan, shape: TableShape, opts: CompareOptions, tally: Tally, diffs: RowDiff[]): void {
  tally.differences += diffs.length;
  for (const d of diffs) if (tally.samples.length < opts.maxSamples) tally.samples.push(toDifference(shape, d));
  const fix = fixStatements(plan.target, shape, diffs);
  tally.deletes.push(...fix.deletes);
  tally.upserts.push(...fix.upserts);
}

/** The downstream's next chunk: its last key (none: the rest of the table is the last chunk) and, when one pass can
 * give them, its figures. */
interface DownChunk {
  hi?: KeyValues;
  figures?: Figures;
}

async function nextDownChunk(
  plan: TablePlan,
  view: View,
  shape: TableShape,
  derived: boolean,
  rows: number,
  lo?: KeyValues,
): Promise<DownChunk> {
  const keyCols = shape.key.map((i) => shape.columns[i]!);
  if (derived) {
    const bin = new Set(keyCols[0]!.binary ? ['k'] : []);
    const [r] = await readRows(view.downstream, 'downstream', nextChunkSql(plan.target, shape, rows, lo), bin);
    const f = { count: BigInt(String(r![0])), sum: BigInt(String(r![1])) };
    // Fewer rows than asked: this is the last chunk, and its figures are those of the open range (lo, ∞).
    return f.count < BigInt(rows) ? { figures: f } : { hi: [r![2] ?? null], figures: f };
  }
  const bin = new Set(keyCols.flatMap((c, j) => (c.binary ? [`c${j}`] : [])));
  const [r] = await readRows(view.downstream, 'downstream', boundarySql(plan.target, shape, rows, lo), bin);
  return r ? { hi: r } : {};
}

async function compareChunks(plan: TablePlan, view: View, shape: TableShape, opts: CompareOptions, tally: Tally) {
  let lo = opts.resume?.lastKey ? decodeKey(shape, opts.resume.lastKey) : undefined;
  let rows = Math.max(1, opts.chunkRows);
  const minRows = Math.min(MIN_ROWS, rows);
  // The one-pass form materializes (key, CRC) per row in an in-memory temporary table: only for a single-column key,
  // and only as many rows as stay well within tmp_table_size (16M by default), else the table spills to disk.
  const cap = shape.key.length === 1 ? Math.floor(DERIVED_BYTES / (keyBytes(shape.columns[shape.key[0]!]!) + 24)) : 0;
  const derived = shape.fast && cap >= rows;
  const maxRows = derived ? Math.min(MAX_ROWS, cap) : MAX_ROWS;
  let pending: Promise<DownChunk> = nextDownChunk(plan, view, shape, derived, rows, lo);
  for (;;) {
    pending.catch(() => undefined); // awaited below; never an unhandled rejection if the upstream fails first
    opts.signal?.throwIfAborted();
    const t0 = performance.now();
    const d = await pending;
    const hi = d.hi;
    // Down figures of a composite-key chunk come after its boundary; the next boundary is queued behind them.
    const downFig = shape.fast
      ? d.figures
        ? Promise.resolve(d.figures)
        : figures(view.downstream, -1, checksumSql(plan.target, shape, -1, lo, hi))
      : undefined;
    downFig?.catch(() => undefined);
    if (hi) pending = nextDownChunk(plan, view, shape, derived, rows, hi);
    let upCount: bigint | undefined;
    let same = false;
    if (shape.fast) {
      const [u, dn] = await Promise.all([upFigures(plan, view, shape, lo, hi), downFig!]);
      upCount = u.count;
      same = u.count === dn.count && u.sum === dn.sum;
    }
    tally.chunks.compared++;
    if (!same && hi) {
      tally.chunks.readRows++;
      if (shape.fast) {
        const c = await diffChunk(plan, view, shape, lo, hi);
        upCount = BigInt(c.upRows);
        record(plan, shape, opts, tally, c.diffs);
      } else {
        const [up, down] = await Promise.all([
          rangeRows(plan, view, shape, true, lo, hi),
          rangeRows(plan, view, shape, false, lo, hi),
        ]);
        upCount = BigInt(up.length);
        record(plan, shape, opts, tally, diffRows(shape, up, down));
      }
    } else if (!same) {
      tally.chunks.readRows++;
      upCount = BigInt(await compareTail(plan, view, shape, opts, tally, rows, lo));
    }
    tally.rows += Number(upCount);
    const done = !hi;
    await opts.onProgress?.({
      ...(done ? {} : { lastKey: encodeKey(shape, hi) }),
      done,
      rows: tally.rows,
      differences: tally.differences,
    });
    if (done) return;
    lo = hi;
    // Adapt the size of the chunk after the one already queued: a pipelined step should take about TARGET_MS.
    const ms = performance.now() - t0;
    // After a differing chunk, back to the asked size: differences often cluster, and a big chunk read row by row
    // costs far more than its checksum.
    if (!same && shape.fast) rows = Math.max(minRows, opts.chunkRows);
    else if (same && ms < TARGET_MS / 2) rows = Math.min(maxRows, rows * 2);
    else if (ms > TARGET_MS * 2) rows = Math.max(minRows, Math.floor(rows / 2));
  }
}

/**
 * The open-ended last chunk, row by row: the downstream holds fewer than `page` rows there (no boundary was found),
 * but the upstream may hold any number (a table the copy lacks entirely), so each shard's rows are read in pages in
 * key order and matched against the downstream's as they come. Returns the upstream rows read.
 */
async function compareTail(
  plan: TablePlan,
  view: View,
  shape: TableShape,
  opts: CompareOptions,
  tally: Tally,
  page: number,
  lo?: KeyValues,
): Promise<number> {
  const m = new KeyedMatch(shape);
  m.addDown(await rangeRows(plan, view, shape, false, lo));
  const bin = binaryAliases(shape);
  let n = 0;
  for (let s = 0; s < plan.shards.length; s++) {
    let from = lo;
    for (;;) {
      opts.signal?.throwIfAborted();
      const where = `${rangeWhere(shape, s, from)} ORDER BY ${keyOrder(shape, s)} LIMIT ${page}`;
      const rows = await readRows(connOn(plan, view, s), 'upstream', rowsSql(tableOn(plan, s), shape, s, where), bin);
      n += rows.length;
      record(plan, shape, opts, tally, m.matchUp(rows));
      if (rows.length < page) break;
      const last = rows.at(-1)!;
      from = shape.key.map((i) => last[i] ?? null);
    }
  }
  record(plan, shape, opts, tally, m.rest());
  return n;
}

/** A table without a key: one checksum of the whole table per side; on a mismatch, every row as a multiset. */
async function compareWhole(plan: TablePlan, view: View, shape: TableShape, opts: CompareOptions, tally: Tally) {
  opts.signal?.throwIfAborted();
  let upCount: bigint | undefined;
  let same = false;
  if (shape.fast) {
    const [u, d] = await Promise.all([
      upFigures(plan, view, shape),
      figures(view.downstream, -1, checksumSql(plan.target, shape, -1)),
    ]);
    upCount = u.count;
    same = u.count === d.count && u.sum === d.sum;
  }
  tally.chunks.compared++;
  if (!same) {
    tally.chunks.readRows++;
    const [up, down] = await Promise.all([rangeRows(plan, view, shape, true), rangeRows(plan, view, shape, false)]);
    upCount = BigInt(up.length);
    record(plan, shape, opts, tally, diffRows(shape, up, down));
  }
  tally.rows += Number(upCount);
  await opts.onProgress?.({ done: true, rows: tally.rows, differences: tally.differences });
}

/** Key values as TableProgress stores them (JSON): bytes as hex, everything else as read. */
function encodeKey(shape: TableShape, k: KeyValues): (string | null)[] {
  return k.map((v) => (Buffer.isBuffer(v) ? v.toString('hex') : v));
}

function decodeKey(shape: TableShape, k: (string | null)[]): KeyValues {
  return k.map((v, j) => (v !== null && shape.columns[shape.key[j]!]!.binary ? Buffer.from(v, 'hex') : v));
}

export { repairKeys } from './repair-keys.ts';
