import { tableKey } from '../../src/sql/table-name.ts';
import type { Value } from '../db/mysql.ts';
import type { TableInfo } from '../db/schema.ts';
import { valuesKey, type RoutedChange } from './dispatcher.ts';
import {
  bigBinary,
  bind,
  boundInsert,
  deleteByKeyStatements,
  deleteOneRow,
  insertStatements,
  type Stmt,
  updateOneRow,
} from './sqlgen.ts';
import { whereColumns, type RowIdentity } from './row-identity.ts';
import { type InPlace, inPlaceStatements, updatable } from './writer-update.ts';

/**
 * The statements one writer runs for its share of a batch, compacted per key:
 *
 *  - keyed tables: the net effect per key is "absent" (DELETE by key) or "row R" (REPLACE R). Deletes run first,
 *    then replaces. This reaches the upstream's end-of-batch state whatever intermediate states were: a REPLACE
 *    only removes rows that conflict with the final state, which upstream changed in this batch, hence this writer
 *    (dispatcher invariant). It is also idempotent, which is what safe mode needs. Outside safe mode (`safe` false)
 *    a row that existed before the batch and exists after it is an UPDATE of its changed columns instead, where the
 *    table's key allows it (writer-update.ts); those run after the deletes, before the replaces.
 *  - keyed tables are those with a key downstream (row-identity.ts: the downstream's primary key or unique NOT NULL
 *    index, whatever the upstream's keys are).
 *  - keyless tables: every change in binlog order (INSERT; UPDATE/DELETE matching the before image on a downstream
 *    unique index whose values are all non-NULL, else on every column, LIMIT 1),
 *    consecutive inserts merged into one statement. Exactly-once checkpoints make this safe.
 *
 * Keyed or keyless, and by which key, is a property of each change (its `key`), not of the target table: rows of
 * one target can carry different identities in one batch (shards of one target with different structures; a
 * downstream key that changed mid-batch). So a target's changes are cut into runs of consecutive changes with the
 * same key columns, and each run is compacted and written on its own, runs in binlog order. Compacting across runs
 * would be wrong twice over: a key value means nothing without its columns (id=5 and u='5' are two rows), and moving
 * a run's DELETE before another run's REPLACE (or after it) can undo the later change, e.g.
 *
 *   key (id): INSERT (id=1,u=7)   key (u): DELETE u=7   key (id): INSERT (id=1,u=7)   → the row must end present
 *
 * compacted per key column set it would be `REPLACE (1,7); DELETE u IN (7)`. A target whose rows all share their key
 * columns (the usual case, shards included) is one run and compacts exactly as before.
 *
 * Columns: each change is written with the columns of its own row image (its `info`) minus generated columns (the
 * downstream computes those; writing one is an error). Rows are put in one multi-row statement only when their
 * column lists are the same: shards of one target with different columns (optimistic shard merge, where the target
 * has the join of their columns) and a table's rows from before and after an ADD COLUMN must not share a VALUES list.
 *
 * A row with large binary values (sqlgen.ts BIND_BYTES) is a statement of its own with its values bound: keyed, a
 * REPLACE after the others (never an in-place UPDATE: the net rows of a batch have distinct keys, so their order
 * does not matter); keyless, its INSERT, UPDATE or DELETE in its place.
 */
export function writerStatements(changes: RoutedChange[], safe = true): Stmt[] {
  const out: Stmt[] = [];
  const byTable = new Map<string, RoutedChange[]>();
  let lastTarget: RoutedChange['target'] | undefined;
  let k = '';
  for (const c of changes) {
    // The changes of one transaction share their target object: its key is built once per run.
    if (c.target !== lastTarget) {
      lastTarget = c.target;
      k = tableKey(c.target);
    }
    const l = byTable.get(k);
    if (l) l.push(c);
    else byTable.set(k, [c]);
  }
  const colsOf = writableColumns();
  for (const list of byTable.values()) {
    for (const run of runsByKey(list)) {
      if (run[0]!.key.length > 0) out.push(...keyedStatements(run, colsOf, safe));
      else out.push(...keylessStatements(run, colsOf));
    }
  }
  return out;
}

/** Consecutive changes of one target with the same key columns (binlog order kept within and between runs). */
function runsByKey(list: RoutedChange[]): RoutedChange[][] {
  const runs: RoutedChange[][] = [];
  let cur: RoutedChange[] = [];
  for (const c of list) {
    const prev = cur[cur.length - 1];
    if (prev && prev.key !== c.key && !sameColumns(prev.key, c.key)) {
      runs.push(cur);
      cur = [];
    }
    cur.push(c);
  }
  if (cur.length > 0) runs.push(cur);
  return runs;
}

function sameColumns(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The columns a row of `info` is written with (not generated), computed once per structure. */
function writableColumns(): (info: TableInfo) => string[] {
  const memo = new Map<TableInfo, string[]>();
  return (info) => {
    let cols = memo.get(info);
    if (!cols) memo.set(info, (cols = info.columns.filter((c) => !c.generated).map((c) => c.name)));
    return cols;
  };
}

/** A column list as a string, computed once per list (JSON.stringify per row was ~5 % of a catch-up's CPU); column
 * lists are shared per table structure (writableColumns) and per key. */
const columnIds = new WeakMap<string[], string>();
function columnsId(cols: string[]): string {
  let id = columnIds.get(cols);
  if (id === undefined) columnIds.set(cols, (id = cols.join('\0')));
  return id;
}

/** Which of a column list's values go as integer literals (sqlgen.ts), and a signature of that for grouping. */
export interface IntColumns {
  ints: boolean[] | undefined;
  sig: string;
}
const NO_INTS: IntColumns = { ints: undefined, sig: '' };
const intColumns = new WeakMap<RowIdentity, WeakMap<string[], IntColumns>>();

/** The columns of `cols` that are integers upstream and downstream under `identity` (none without an identity from
 * the downstream), computed once per identity and column list. Rows share a statement only with the same answer:
 * shards of one target may differ in it (group keys carry `sig`). */
export function integerColumns(identity: RowIdentity | undefined, cols: string[]): IntColumns {
  const set = identity?.integers;
  if (!identity || !set || set.size === 0) return NO_INTS;
  let m = intColumns.get(identity);
  if (!m) intColumns.set(identity, (m = new WeakMap()));
  let r = m.get(cols);
  if (!r) {
    const ints = cols.map((c) => set.has(c));
    r = ints.includes(true) ? { ints, sig: ints.map((b) => (b ? '1' : '0')).join('') } : NO_INTS;
    m.set(cols, r);
  }
  return r;
}

/** Groups items by a string key, keeping the order in which keys first appear. */
function groupBy<T>(items: T[], key: (x: T) => string): T[][] {
  const m = new Map<string, T[]>();
  for (const x of items) {
    const k = key(x);
    const l = m.get(k);
    if (l) l.push(x);
    else m.set(k, [x]);
  }
  return [...m.values()];
}

/** A key's net effect in a batch: absent (`del`) or row `row`; `before`: its row before the batch when it was known to
 * exist then and may be updated in place (writer-update.ts). */
interface Net {
  del: boolean;
  /** The row identity of the change that set it (which of its columns are integers: integerColumns). */
  identity: RowIdentity | undefined;
  keyCols: string[];
  key: Value[];
  row?: Record<string, Value>;
  cols?: string[];
  before?: Record<string, Value>;
}

function keyedStatements(list: RoutedChange[], colsOf: (info: TableInfo) => string[], safe: boolean): Stmt[] {
  const net = new Map<string, Net>();
  // Per key: its row before the batch (its first change was an UPDATE or DELETE), or null (first seen absent, or not
  // to be updated in place). Kept apart from `net`, whose entries are replaced to keep the order of last changes.
  const first = safe ? undefined : new Map<string, Record<string, Value> | null>();
  for (const rc of list) {
    const { change, key } = rc;
    const after = change.after ? keyOf(change.after, key) : undefined;
    const afterId = after ? valuesKey(after) : undefined;
    if (change.before && (change.op === 'delete' || change.op === 'update')) {
      const k = keyOf(change.before, key);
      const kid = valuesKey(k);
      if (first && !first.has(kid)) first.set(kid, updatable(rc.identity, rc.info, key) ? change.before : null);
      if (change.op === 'delete' || kid !== afterId) {
        net.delete(kid);
        net.set(kid, { del: true, identity: rc.identity, keyCols: key, key: k });
      }
    }
    if (change.after && after && afterId !== undefined) {
      if (first && !first.has(afterId)) first.set(afterId, null);
      net.delete(afterId);
      const before = first?.get(afterId) ?? undefined;
      net.set(afterId, {
        del: false,
        identity: rc.identity,
        keyCols: key,
        key: after,
        row: change.after,
        cols: colsOf(rc.info),
        before,
      });
    }
  }
  const t = list[0]!.target;
  const out: Stmt[] = [];
  const entries = [...net.values()];
  for (const g of groupBy(
    entries.filter((n) => n.del),
    (n) => `${columnsId(n.keyCols)}\u0001${integerColumns(n.identity, n.keyCols).sig}`,
  )) {
    out.push(
      ...deleteByKeyStatements(
        t,
        g[0]!.keyCols,
        g.map((n) => n.key),
        undefined,
        integerColumns(g[0]!.identity, g[0]!.keyCols).ints,
      ),
    );
  }
  let rows: Net[] = [];
  const big: Net[] = [];
  for (const n of entries) if (!n.del) (bigBinary(n.row, n.cols!) ? big : rows).push(n);
  if (first) {
    const inPlace: InPlace<Net>[] = [];
    const rest: Net[] = [];
    for (const n of rows) {
      if (n.before)
        inPlace.push({
          ref: n,
          key: n.key[0]!,
          before: n.before,
          row: n.row!,
          cols: n.cols!,
          ints: integerColumns(n.identity, n.cols!),
        });
      else rest.push(n);
    }
    if (inPlace.length > 0) {
      const r = inPlaceStatements(t, list[0]!.key[0]!, inPlace);
      out.push(...r.sql);
      rows = rest.concat(r.replace);
    }
  }
  for (const g of groupBy(rows, (n) => `${columnsId(n.cols!)}\u0001${integerColumns(n.identity, n.cols!).sig}`)) {
    const cols = g[0]!.cols!;
    out.push(
      ...insertStatements(
        'REPLACE',
        t,
        cols,
        g.map((n) => rowValues(n.row!, cols)),
        undefined,
        integerColumns(g[0]!.identity, cols).ints,
      ),
    );
  }
  for (const n of big) out.push(boundInsert('REPLACE', t, n.cols!, rowValues(n.row!, n.cols!)));
  return out;
}

/** A row's values in the order of `cols`. */
function rowValues(row: Record<string, Value>, cols: string[]): Value[] {
  const out: Value[] = new Array<Value>(cols.length);
  for (let i = 0; i < cols.length; i++) out[i] = row[cols[i]!] ?? null;
  return out;
}

/** The key's values of a row image. */
function keyOf(img: Record<string, Value>, key: string[]): Value[] {
  if (key.length === 1) return [img[key[0]!] ?? null];
  const out: Value[] = new Array<Value>(key.length);
  for (let i = 0; i < key.length; i++) out[i] = img[key[i]!] ?? null;
  return out;
}

function keylessStatements(list: RoutedChange[], colsOf: (info: TableInfo) => string[]): Stmt[] {
  const out: Stmt[] = [];
  let inserts: Value[][] = [];
  let insertCols: string[] = [];
  let insertInts = NO_INTS;
  const t = list[0]!.target;
  const flushInserts = () => {
    out.push(...insertStatements('INSERT', t, insertCols, inserts, undefined, insertInts.ints));
    inserts = [];
  };
  for (const { change, info, identity } of list) {
    const cols = colsOf(info);
    if (change.op === 'insert' && bigBinary(change.after, cols)) {
      flushInserts();
      out.push(boundInsert('INSERT', t, cols, rowValues(change.after!, cols)));
      continue;
    }
    if (change.op === 'insert') {
      const ints = integerColumns(identity, cols);
      if (
        inserts.length > 0 &&
        ((cols !== insertCols && cols.join('\0') !== insertCols.join('\0')) || ints.sig !== insertInts.sig)
      )
        flushInserts();
      insertCols = cols;
      insertInts = ints;
      inserts.push(cols.map((c) => change.after![c] ?? null));
      continue;
    }
    flushInserts();
    // A downstream unique index with non-NULL values in this row, else every column (row-identity.ts).
    const where = whereColumns(identity, cols, change.before!);
    const before = change.before!;
    if (bigBinary(before, cols) || bigBinary(change.after, cols)) {
      if (change.op === 'update') out.push(bind((p) => updateOneRow(t, cols, before, change.after!, where, p)));
      else out.push(bind((p) => deleteOneRow(t, cols, before, where, p)));
    } else if (change.op === 'update') out.push(updateOneRow(t, cols, before, change.after!, where));
    else out.push(deleteOneRow(t, cols, before, where));
  }
  flushInserts();
  return out;
}
