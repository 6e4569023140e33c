/** Applying CREATE / ALTER / DROP / RENAME TABLE to the tracker (apply-ddl.ts dispatches here). */
import { tableKey, type TableName } from '../sql/table-name.ts';
import { UnknownObject, type DdlStatement } from './apply-context.ts';
import { applyAlter } from './alter-table.ts';
import { createTableBody } from './create-table.ts';
import type { Cursor } from './cursor.ts';
import { tableOf, type TrackedTable } from './model.ts';

export function createTable(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('CREATE');
  c.kw('OR', 'REPLACE');
  c.must('TABLE');
  const ifNotExists = c.kw('IF', 'NOT', 'EXISTS');
  const name = s.tableName();
  if (ifNotExists && s.tracker.has(name.schema, name.table)) return [];
  let t: TrackedTable;
  const parenLike = c.isOp('(') && c.isWord('LIKE', 1);
  if (parenLike || c.isWord('LIKE')) {
    c.op('(');
    c.must('LIKE');
    const src = s.tableName();
    if (parenLike) c.mustOp(')');
    const from = s.tracker.get(src.schema, src.table);
    if (!from)
      throw new UnknownObject(
        'unknown-table',
        `CREATE TABLE ... LIKE ${tableKey(src)}: the source table is not in the model`,
      );
    t = tableOf({ ...from, schema: name.schema, table: name.table });
  } else {
    const db = s.tracker.getSchema(name.schema);
    if (!db)
      throw new UnknownObject(
        'unknown-schema',
        `database ${name.schema} is not in the model (its default charset is unknown)`,
      );
    t = createTableBody(c, name.schema, name.table, db, s.tracker);
  }
  s.tracker.set(t);
  return [name];
}

export function alterTable(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('ALTER');
  c.kwAny('ONLINE', 'OFFLINE');
  c.kw('IGNORE');
  c.must('TABLE');
  c.kw('IF', 'EXISTS');
  const name = s.tableName();
  if (c.kw('WAIT')) c.next();
  else c.kw('NOWAIT');
  const t = s.mustGet(name);
  const out = applyAlter(t, c.t, c.i, partitioningStart(c), s.dbDefault(t.schema), s.tracker);
  const changed: TableName[] = [name];
  let result = out.table;
  if (out.renameTo) {
    // An unqualified new name is in the CURRENT database, not the table's (measured: ALTER TABLE other.t
    // RENAME t2 moves the table to the current database; the parser fills in the current db).
    const to = s.resolve(out.renameTo);
    s.tracker.drop(t.schema, t.table);
    result = tableOf({ ...result, schema: to.schema, table: to.table });
    changed.push(to);
  }
  s.tracker.set(result);
  if (out.partitionToTable) {
    const to = s.resolve(out.partitionToTable);
    s.tracker.set(tableOf({ ...result, schema: to.schema, table: to.table }));
    changed.push(to);
  }
  if (out.tableToPartition) {
    const gone = s.resolve(out.tableToPartition);
    s.tracker.drop(gone.schema, gone.table);
    changed.push(gone);
  }
  return changed;
}

export function dropTables(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('DROP');
  c.kwAny('TABLE', 'TABLES');
  c.kw('IF', 'EXISTS');
  const changed: TableName[] = [];
  do {
    const n = s.tableName();
    s.tracker.drop(n.schema, n.table);
    changed.push(n);
  } while (c.op(','));
  return changed;
}

/** RENAME TABLE a TO b, c TO d: in order (so `a TO tmp, b TO a, tmp TO b` swaps), all or nothing. */
export function renameTables(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('RENAME');
  c.kwAny('TABLE', 'TABLES');
  const ifExists = c.kw('IF', 'EXISTS');
  const overlay = new Map<string, TrackedTable | null>();
  const key = (n: TableName): string => `${s.tracker.fold(n.schema)}\0${s.tracker.fold(n.table)}`;
  const lookup = (n: TableName): TrackedTable | undefined => {
    const k = key(n);
    return overlay.has(k) ? (overlay.get(k) ?? undefined) : s.tracker.get(n.schema, n.table);
  };
  const changed: TableName[] = [];
  do {
    const from = s.tableName();
    if (c.kw('WAIT')) c.next();
    else c.kw('NOWAIT');
    c.must('TO');
    const to = s.tableName();
    const t = lookup(from);
    if (!t) {
      if (ifExists) continue;
      throw new UnknownObject('unknown-table', `RENAME TABLE ${tableKey(from)}: not in the model`);
    }
    overlay.set(key(from), null);
    overlay.set(key(to), tableOf({ ...t, schema: to.schema, table: to.table }));
    changed.push(from, to);
  } while (c.op(','));
  for (const [k, t] of overlay) {
    const [schema, table] = k.split('\0') as [string, string];
    if (t === null) s.tracker.drop(schema, table);
  }
  for (const t of overlay.values()) if (t !== null) s.tracker.set(t);
  return changed;
}

/** Where a top-level `PARTITION BY` starts in an ALTER TABLE (it follows the clauses without a comma). */
function partitioningStart(c: Cursor): number {
  let depth = 0;
  for (let j = c.i; j < c.end; j++) {
    const x = c.t[j]!;
    if (x.type === 'op') depth += x.text === '(' ? 1 : x.text === ')' ? -1 : 0;
    else if (depth === 0 && x.type === 'word' && x.upper === 'PARTITION' && c.t[j + 1]?.upper === 'BY') return j;
  }
  return c.end;
}
