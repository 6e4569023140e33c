import type { Value } from '../db/mysql.ts';
import { valuesKey, type RoutedChange } from './dispatcher.ts';
import { deleteByKeyStatements, deleteOneRow, insertStatements, updateOneRow } from './sqlgen.ts';
import { whereColumns } from './row-identity.ts';

/**
 * The statements one writer runs for its share of a batch, compacted per key:
 *
 *  - keyed tables: the net effect per key is "absent" (DELETE by key) or "row R" (REPLACE R). Deletes run first,
 *    then replaces. This reaches the upstream's end-of-batch state whatever intermediate states were: a REPLACE
 *    only removes rows that conflict with the final state, which upstream changed in this batch, hence this writer
 *    (dispatcher invariant). It is also idempotent, which is what safe mode needs.
 *  - keyed tables are those with a key downstream (row-identity.ts: the downstream's primary key or unique NOT NULL
 *    index, whatever the upstream's keys are).
 *  - keyless tables: every change in binlog order (INSERT; UPDATE/DELETE matching the before image on a downstream
 *    unique index whose values are all non-NULL, else on every column, LIMIT 1),
 *    consecutive inserts merged into one statement. Exactly-once checkpoints make this safe.
 */
export function writerStatements(changes: RoutedChange[]): string[] {
  const out: string[] = [];
  const byTable = new Map<string, RoutedChange[]>();
  for (const c of changes) {
    const k = `${c.target.schema}.${c.target.table}`;
    const l = byTable.get(k);
    if (l) l.push(c); else byTable.set(k, [c]);
  }
  for (const list of byTable.values()) {
    const first = list[0]!;
    const cols = first.info.columns.filter((c) => !c.generated).map((c) => c.name);
    if (first.key.length > 0) out.push(...keyedStatements(list, cols));
    else out.push(...keylessStatements(list, cols));
  }
  return out;
}

function keyedStatements(list: RoutedChange[], cols: string[]): string[] {
  const net = new Map<string, { del: boolean; key: Value[]; row?: Record<string, Value> }>();
  const keyOf = (img: Record<string, Value>, key: string[]) => key.map((c) => img[c] ?? null);
  const id = valuesKey;
  for (const rc of list) {
    const { change, key } = rc;
    if (change.before && (change.op === 'delete' || change.op === 'update')) {
      const k = keyOf(change.before, key);
      if (change.op === 'delete' || id(k) !== id(keyOf(change.after!, key))) {
        net.delete(id(k));
        net.set(id(k), { del: true, key: k });
      }
    }
    if (change.after) {
      const k = keyOf(change.after, key);
      net.delete(id(k));
      net.set(id(k), { del: false, key: k, row: change.after });
    }
  }
  const first = list[0]!;
  const dels = [...net.values()].filter((n) => n.del).map((n) => n.key);
  const rows = [...net.values()].filter((n) => !n.del).map((n) => cols.map((c) => n.row![c] ?? null));
  return [...deleteByKeyStatements(first.target, first.key, dels), ...insertStatements('REPLACE', first.target, cols, rows)];
}

function keylessStatements(list: RoutedChange[], cols: string[]): string[] {
  const out: string[] = [];
  let inserts: Value[][] = [];
  const t = list[0]!.target;
  const flushInserts = () => { out.push(...insertStatements('INSERT', t, cols, inserts)); inserts = []; };
  for (const { change, identity } of list) {
    if (change.op === 'insert') { inserts.push(cols.map((c) => change.after![c] ?? null)); continue; }
    flushInserts();
    // A downstream unique index with non-NULL values in this row, else every column (row-identity.ts).
    const where = whereColumns(identity, cols, change.before!);
    if (change.op === 'update') out.push(updateOneRow(t, cols, change.before!, change.after!, where));
    else out.push(deleteOneRow(t, cols, change.before!, where));
  }
  flushInserts();
  return out;
}
