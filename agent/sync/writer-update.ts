import type { TableName } from '../../src/sql/table-name.ts';
import type { Value } from '../db/mysql.ts';
import type { TableInfo } from '../db/schema.ts';
import { INTEGER_TYPE, type RowIdentity } from './row-identity.ts';
import { updateCaseStatement } from './sqlgen.ts';
import type { IntColumns } from './writer-sql.ts';

/**
 * Updates in place (outside safe mode): a keyed row that existed before the batch and still exists after it is
 * written as an UPDATE of the columns that changed, several rows per statement (sqlgen updateCaseStatement), not as a
 * REPLACE. A REPLACE of an existing row costs the server a failed insert, a second lookup of the row and then the
 * update; the UPDATE finds each row once. In the 100-row catch-up (half the changes are updates) this saved ~10 % of
 * the downstream's CPU per row (bench/README.md).
 *
 * Only where it cannot change the outcome:
 *  - the downstream key (row-identity.ts) is one integer column compared exactly (keys written as integer literals,
 *    so CASE compares integers, never doubles) and the table has no other unique index the rows carry: the updates of
 *    one statement cannot collide with each other or with the batch's other rows in any order;
 *  - the row existed before the batch: its first change in the batch was an UPDATE or DELETE (its before image is the
 *    downstream's row, exactly-once checkpoints), so only the columns that differ from that image are set.
 * A downstream that is ahead of the replayed stream (what safe mode is for) still ends equal: the last statement to
 * set a column sets its final value, and a row absent at that point is absent upstream too or recreated later by
 * the change that recreated it. Safe mode (safe-mode: true, the window after a load restart or --start-time) keeps
 * REPLACE all the same, as documented.
 */

const DIGITS = /^-?\d+$/;
/** Rows per statement (the CASE is searched linearly per row and column) and its approximate size bound. */
const ROWS_PER_STATEMENT = 50;
const CHARS_PER_STATEMENT = 1 << 20;

const updatableMemo = new WeakMap<RowIdentity, WeakMap<TableInfo, boolean>>();

/** True when rows of `info` under `identity` may be updated in place (see above). */
export function updatable(identity: RowIdentity | undefined, info: TableInfo, key: string[]): boolean {
  if (!identity || key.length !== 1) return false;
  let m = updatableMemo.get(identity);
  if (!m) updatableMemo.set(identity, (m = new WeakMap()));
  let ok = m.get(info);
  if (ok === undefined) {
    const k = key[0]!;
    const col = info.columns.find((c) => c.name === k);
    ok =
      identity.fromDownstream &&
      identity.uniques.length === 1 &&
      identity.key.length === 1 &&
      identity.key[0] === k &&
      !identity.fold.has(k) &&
      col !== undefined &&
      !col.generated &&
      INTEGER_TYPE.test(col.dataType);
    m.set(info, ok);
  }
  return ok;
}

export interface InPlace<T> {
  /** The caller's own entry, handed back with the rows to REPLACE. */
  ref: T;
  /** The key's value (an integer's digits). */
  key: Value;
  /** The row before the batch (downstream's) and after it. */
  before: Record<string, Value>;
  row: Record<string, Value>;
  cols: string[];
  /** Which of `cols` go as integer literals (writer-sql.ts integerColumns). */
  ints: IntColumns;
}

function same(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true;
  if (a == null || b == null) return (a ?? null) === (b ?? null);
  if (typeof a === 'string' || typeof b === 'string') return false;
  return a.equals(b);
}

/**
 * The UPDATE statements of rows updated in place, grouped by column list and set of changed columns; rows that cannot
 * go this way after all (a key that is not an integer's digits, a column mixing text and bytes in one statement,
 * whose CASE would be typed as bytes) are returned for the caller's REPLACE.
 */
export function inPlaceStatements<T>(
  t: TableName,
  keyCol: string,
  rows: InPlace<T>[],
): { sql: string[]; replace: T[] } {
  const sql: string[] = [];
  const replace: T[] = [];
  const groups = new Map<string, { set: string[]; setInts: boolean[] | undefined; rows: InPlace<T>[] }>();
  for (const r of rows) {
    if (typeof r.key !== 'string' || !DIGITS.test(r.key)) {
      replace.push(r.ref);
      continue;
    }
    let sig = '';
    const set: string[] = [];
    for (let i = 0; i < r.cols.length; i++) {
      const c = r.cols[i]!;
      if (!same(r.before[c], r.row[c])) {
        set.push(c);
        sig += `${i},`;
      }
    }
    // Nothing written changed (only generated columns, or an image equal to the row): nothing to do.
    if (set.length === 0) continue;
    // Rows share a statement only when the same columns go as integer literals (shards may differ in it).
    const g = `${r.cols.length}\0${r.cols.join('\0')}\0${sig}\0${r.ints.sig}`;
    const l = groups.get(g);
    if (l) l.rows.push(r);
    else {
      const ints = r.ints.ints;
      groups.set(g, { set, setInts: ints && set.map((c) => ints[r.cols.indexOf(c)]!), rows: [r] });
    }
  }
  for (const { set, setInts: ints, rows: list } of groups.values()) {
    let keys: string[] = [];
    let values: Value[][] = [];
    let chars = 0;
    const flush = () => {
      if (keys.length === 0) return;
      if (mixesTextAndBytes(values)) for (const k of keys) replace.push(list.find((r) => r.key === k)!.ref);
      else sql.push(updateCaseStatement(t, keyCol, set, keys, values, ints));
      keys = [];
      values = [];
      chars = 0;
    };
    for (const r of list) {
      const v: Value[] = new Array<Value>(set.length);
      let n = 0;
      for (let j = 0; j < set.length; j++) {
        const x = r.row[set[j]!] ?? null;
        v[j] = x;
        if (x !== null) n += typeof x === 'string' ? x.length : 2 * x.length;
      }
      if (keys.length > 0 && (keys.length >= ROWS_PER_STATEMENT || chars + n > CHARS_PER_STATEMENT)) flush();
      keys.push(r.key as string);
      values.push(v);
      chars += n;
    }
    flush();
  }
  return { sql, replace };
}

/** True when a column's values in these rows are text in some and bytes in others. */
function mixesTextAndBytes(values: Value[][]): boolean {
  const cols = values[0]!.length;
  for (let j = 0; j < cols; j++) {
    let text = false;
    let bytes = false;
    for (const v of values) {
      const x = v[j];
      if (typeof x === 'string') text = true;
      else if (x !== null && x !== undefined) bytes = true;
    }
    if (text && bytes) return true;
  }
  return false;
}
