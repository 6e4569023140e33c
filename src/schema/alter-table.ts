import { tableKey } from '../sql/table-name.ts';
import type { Token } from '../sql/lexer.ts';
import { defaultCollation, normalizeCharset, normalizeCollation } from './charsets.ts';
import {
  convertColumn,
  inlineKeys,
  parseColumnDef,
  resolveColumn,
  type CharsetDefault,
  type ColumnRules,
  type ColumnSpec,
} from './column-def.ts';
import { Cursor, ParseError, StaleModel, Unsupported, splitTopLevel } from './cursor.ts';
import { defaultFromTokens } from './default-value.ts';
import { buildIndexes, ifNotExistsName, parseIndexDef } from './indexes.ts';
import { tableOf, type IndexSpec, type TrackedColumn, type TrackedIndex, type TrackedTable } from './model.ts';
import { sameName } from './names.ts';
import { readTableOptions, resolveTableCharset, type TableOptions } from './table-options.ts';

/**
 * ALTER TABLE, applied as MariaDB's mysql_prepare_alter_table does (sql_table.cc), in this order:
 * 1. Columns: walk the existing columns; a dropped one goes, a CHANGE/MODIFY one is replaced in place by its new
 *    definition, a RENAME COLUMN one is renamed, any other is kept (converted by CONVERT TO). Then, in statement
 *    order, each ADD goes to the end (or FIRST / AFTER x) and each CHANGE/MODIFY with FIRST/AFTER moves there
 *    (AFTER names a column as it is at that moment, so `ADD b AFTER a, ADD c AFTER b` works).
 * 2. Indexes: existing ones minus DROP INDEX/PRIMARY KEY, renamed by RENAME INDEX, with dropped columns removed
 *    (an index left without columns goes) and renamed columns followed; then the added ones, named and pruned by
 *    buildIndexes (indexes.ts).
 * 3. New and changed columns take the table default charset as it is AFTER this statement's charset options.
 * IF [NOT] EXISTS conditions are evaluated against the table before the statement (and, for ADD, the columns
 * added earlier in it), as MariaDB's handle_if_exists_options does.
 */

type CreateItem =
  | { kind: 'add'; spec: ColumnSpec; ifNotExists: boolean }
  | { kind: 'change'; old: string; spec: ColumnSpec; ifExists: boolean };

interface AlterPlan {
  create: CreateItem[];
  drops: { name: string; ifExists: boolean }[];
  renameColumns: { from: string; to: string }[];
  addIndexes: IndexSpec[];
  dropIndexes: { name: string; ifExists: boolean; constraint?: boolean }[];
  renameIndexes: { from: string; to: string }[];
  /** ALTER [COLUMN] c SET DEFAULT v (true, with the tokens of v) / DROP DEFAULT (false). */
  defaults: { name: string; has: boolean; value?: [from: number, to: number] }[];
  options: TableOptions;
  convertTo?: { charset: string; collate?: string };
  renameTo?: { schema?: string; name: string };
  /** CONVERT PARTITION p TO TABLE t: a new table with this one's structure. */
  partitionToTable?: { schema?: string; name: string };
  /** CONVERT TABLE t TO PARTITION p: table t goes away. */
  tableToPartition?: { schema?: string; name: string };
}

export interface AlterOutcome {
  table: TrackedTable;
  renameTo?: { schema?: string; name: string };
  partitionToTable?: { schema?: string; name: string };
  tableToPartition?: { schema?: string; name: string };
}

/** Parses the ALTER TABLE clauses in tokens [from, to). */
function parseAlterClauses(t: Token[], from: number, to: number): AlterPlan {
  const plan: AlterPlan = {
    create: [],
    drops: [],
    renameColumns: [],
    addIndexes: [],
    dropIndexes: [],
    renameIndexes: [],
    defaults: [],
    options: {},
  };
  for (const [start, end] of splitTopLevel(t, from, to)) alterClause(new Cursor(t, start, end), plan);
  return plan;
}

function alterClause(c: Cursor, plan: AlterPlan): void {
  if (c.atEnd()) return;
  if (c.kw('ADD')) return addClause(c, plan);
  if (c.kw('DROP')) return dropClause(c, plan);
  if (c.kw('MODIFY')) {
    c.kw('COLUMN');
    const ifExists = c.kw('IF', 'EXISTS');
    const spec = columnWithKeys(c, plan, ifExists);
    plan.create.push({ kind: 'change', old: spec.name, spec, ifExists });
    return;
  }
  if (c.kw('CHANGE')) {
    c.kw('COLUMN');
    const ifExists = c.kw('IF', 'EXISTS');
    const old = c.ident();
    const spec = columnWithKeys(c, plan, ifExists);
    plan.create.push({ kind: 'change', old, spec, ifExists });
    return;
  }
  if (c.kw('RENAME')) {
    if (c.kw('COLUMN')) {
      const from = c.ident();
      c.must('TO');
      plan.renameColumns.push({ from, to: c.ident() });
    } else if (c.kwAny('INDEX', 'KEY')) {
      const from = c.ident();
      c.must('TO');
      plan.renameIndexes.push({ from, to: c.ident() });
    } else {
      c.kwAny('TO', 'AS');
      plan.renameTo = c.qualifiedName();
    }
    return end(c);
  }
  if (c.kw('ALTER')) {
    // ALTER [COLUMN] c SET DEFAULT v / DROP DEFAULT change the column's default; SET [IN]VISIBLE,
    // ALTER INDEX i [NOT] IGNORED|INVISIBLE, ALTER CHECK/CONSTRAINT: no change to what the model holds.
    if (!c.isWord('INDEX') && !c.isWord('KEY') && !c.isWord('CHECK') && !c.isWord('CONSTRAINT')) {
      c.kw('COLUMN');
      c.kw('IF', 'EXISTS');
      const name = c.ident();
      if (c.kw('SET', 'DEFAULT')) plan.defaults.push({ name, has: true, value: [c.i, c.end] });
      else if (c.kw('DROP', 'DEFAULT')) plan.defaults.push({ name, has: false });
    }
    c.i = c.end;
    return;
  }
  if (c.kw('CONVERT')) {
    if (c.kw('TO')) {
      if (!(c.kw('CHARACTER', 'SET') || c.kw('CHARSET') || c.kw('CHAR', 'SET')))
        throw new ParseError(`expected CHARACTER SET ${c.where()}`);
      const charset = c.stringOrName();
      const conv: { charset: string; collate?: string } = { charset };
      if (c.kw('COLLATE')) conv.collate = c.stringOrName();
      plan.convertTo = conv;
      return tableOptions(c, plan);
    }
    if (c.kw('PARTITION')) {
      c.ident();
      c.must('TO', 'TABLE');
      plan.partitionToTable = c.qualifiedName();
      return end(c);
    }
    if (c.kw('TABLE')) {
      plan.tableToPartition = c.qualifiedName();
      c.i = c.end;
      return;
    }
    throw new ParseError(`unexpected CONVERT ${c.where()}`);
  }
  if (
    c.kwAny(
      'FORCE',
      'ENABLE',
      'DISABLE',
      'DISCARD',
      'IMPORT',
      'ORDER',
      'ANALYZE',
      'CHECK',
      'OPTIMIZE',
      'REBUILD',
      'REPAIR',
      'TRUNCATE',
      'COALESCE',
      'REORGANIZE',
      'EXCHANGE',
      'REMOVE',
      'UPGRADE',
      'WITH',
      'WITHOUT',
    )
  ) {
    // FORCE, ENABLE/DISABLE KEYS, tablespaces, ORDER BY, partition maintenance, WITH[OUT] VALIDATION
    c.i = c.end;
    return;
  }
  return tableOptions(c, plan);
}

function tableOptions(c: Cursor, plan: AlterPlan): void {
  readTableOptions(c, plan.options);
  if (!c.atEnd()) throw new Unsupported(`ALTER TABLE clause ${c.where()} is not modelled`);
}

function end(c: Cursor): void {
  if (!c.atEnd()) throw new ParseError(`unexpected ${c.where()}`);
}

/**
 * A column definition; its inline PRIMARY KEY / UNIQUE / REFERENCES become index specs at this point of the
 * statement. They carry the column's IF [NOT] EXISTS and stay when the column is skipped (measured: `ADD COLUMN IF
 * NOT EXISTS b int UNIQUE` on an existing b adds the unique key `b`).
 */
function columnWithKeys(c: Cursor, plan: AlterPlan, ifNotExists: boolean): ColumnSpec {
  const spec = parseColumnDef(c);
  for (const k of inlineKeys(spec)) {
    if (ifNotExists) k.ifNotExists = true;
    plan.addIndexes.push(k);
  }
  return spec;
}

function addClause(c: Cursor, plan: AlterPlan): void {
  if (c.kw('PARTITION') || c.kw('PERIOD')) {
    c.i = c.end;
    return;
  }
  if (c.kw('SYSTEM', 'VERSIONING')) throw new Unsupported('ADD SYSTEM VERSIONING adds hidden columns; not modelled');
  const explicitColumn = c.kw('COLUMN');
  if (!explicitColumn) {
    const idx = parseIndexDef(c);
    if (idx !== undefined) {
      if (idx !== null) plan.addIndexes.push(idx);
      return;
    }
  }
  const ifNotExists = c.kw('IF', 'NOT', 'EXISTS');
  if (c.isOp('(')) {
    // ADD [COLUMN] (col def, ..., [index def, ...])
    const open = c.i;
    c.skipParens();
    const close = c.i - 1;
    end(c);
    for (const [s, e] of splitTopLevel(c.t, open + 1, close)) {
      const sub = new Cursor(c.t, s, e);
      const idx = parseIndexDef(sub);
      if (idx === null) continue;
      if (idx !== undefined) {
        plan.addIndexes.push(idx);
        continue;
      }
      plan.create.push({ kind: 'add', spec: columnWithKeys(sub, plan, ifNotExists), ifNotExists });
    }
    return;
  }
  plan.create.push({ kind: 'add', spec: columnWithKeys(c, plan, ifNotExists), ifNotExists });
}

function dropClause(c: Cursor, plan: AlterPlan): void {
  if (c.kw('PRIMARY', 'KEY')) {
    plan.dropIndexes.push({ name: 'PRIMARY', ifExists: false });
    return end(c);
  }
  if (c.kwAny('INDEX', 'KEY')) {
    const ifExists = c.kw('IF', 'EXISTS');
    plan.dropIndexes.push({ name: c.ident(), ifExists });
    return end(c);
  }
  if (c.kw('CONSTRAINT')) {
    c.kw('IF', 'EXISTS'); // unknown names are CHECK constraints or foreign keys, which the model does not hold
    plan.dropIndexes.push({ name: c.ident(), ifExists: true, constraint: true });
    return end(c);
  }
  if (c.kw('FOREIGN', 'KEY') || c.kw('CHECK') || c.kw('PARTITION') || c.kw('PERIOD')) {
    // the FK's index stays; checks and partitions are not modelled
    c.i = c.end;
    return;
  }
  if (c.kw('SYSTEM', 'VERSIONING')) throw new Unsupported('DROP SYSTEM VERSIONING is not modelled');
  c.kw('COLUMN');
  const ifExists = c.kw('IF', 'EXISTS');
  plan.drops.push({ name: c.ident(), ifExists });
  c.kwAny('RESTRICT', 'CASCADE');
  end(c);
}

/** The table default charset/collation after the statement's options. `dbDefault` resolves `DEFAULT`. */
function newTableDefault(
  old: CharsetDefault,
  plan: AlterPlan,
  dbDefault: CharsetDefault,
): { table: CharsetDefault; convert?: CharsetDefault } {
  if (plan.convertTo) {
    const cs =
      plan.convertTo.charset.toUpperCase() === 'DEFAULT' ? dbDefault.charset : normalizeCharset(plan.convertTo.charset);
    // CONVERT TO CHARACTER SET DEFAULT: the database's charset with that charset's default collation (measured)
    const coll =
      plan.convertTo.collate !== undefined ? normalizeCollation(plan.convertTo.collate) : defaultCollation(cs);
    return { table: { charset: cs, collation: coll }, convert: { charset: cs, collation: coll } };
  }
  return { table: resolveTableCharset(plan.options, old, dbDefault) };
}

export function applyAlter(
  table: TrackedTable,
  t: Token[],
  from: number,
  to: number,
  dbDefault: CharsetDefault,
  rules: ColumnRules,
): AlterOutcome {
  const plan = parseAlterClauses(t, from, to);
  const { table: tableDefault, convert } = newTableDefault(table, plan, dbDefault);
  const has = (name: string): boolean => table.columns.some((col) => sameName(col.name, name));

  // IF [NOT] EXISTS, against the table as it was (ADD: and the columns added before in this statement)
  const create: CreateItem[] = [];
  for (const item of plan.create) {
    if (item.kind === 'add' && item.ifNotExists) {
      const dup = has(item.spec.name) || create.some((x) => x.kind === 'add' && sameName(x.spec.name, item.spec.name));
      if (dup) continue;
    }
    if (item.kind === 'change' && item.ifExists && !has(item.old)) continue;
    create.push(item);
  }
  const drops = plan.drops.filter((d) => !(d.ifExists && !has(d.name)));
  for (const d of drops)
    if (!has(d.name)) throw new StaleModel(`column ${d.name} is not in the model of ${tableKey(table)}`);
  for (const r of plan.renameColumns)
    if (!has(r.from)) throw new StaleModel(`column ${r.from} is not in the model of ${tableKey(table)}`);

  // 1. columns: in place, then positioned / added ones in statement order
  const renamed = new Map<string, string | null>(); // lower-case old name -> new name, null when dropped
  type Slot = { col: TrackedColumn; item?: CreateItem };
  const cols: Slot[] = [];
  const pending: CreateItem[] = [];
  const consumed = new Set<CreateItem>();
  const resolve = (spec: ColumnSpec): TrackedColumn => resolveColumn(spec, tableDefault, rules, convert);
  for (const col of table.columns) {
    if (drops.some((d) => sameName(d.name, col.name))) {
      renamed.set(col.name.toLowerCase(), null);
      continue;
    }
    const change = create.find((x) => x.kind === 'change' && !consumed.has(x) && sameName(x.old, col.name));
    if (change) {
      consumed.add(change);
      renamed.set(col.name.toLowerCase(), change.spec.name);
      cols.push({ col: resolve(change.spec), item: change });
      if (change.spec.position) pending.push(change);
      continue;
    }
    let kept = convert ? convertColumn(col, convert) : col;
    const def = plan.defaults.filter((d) => sameName(d.name, col.name)).pop();
    // DROP DEFAULT leaves a nullable column its DEFAULT NULL (information_schema still shows one: measured).
    if (def && !kept.generated && kept.hasDefault !== (def.has || kept.nullable))
      kept = { ...kept, hasDefault: def.has || kept.nullable };
    if (def && !kept.generated) {
      // The value too (the binlog event filter compares it): DROP DEFAULT or SET DEFAULT NULL leave none.
      const v = def.value ? defaultFromTokens(t, def.value[0], def.value[1], kept.dataType) : undefined;
      if (v !== kept.default) {
        kept = { ...kept };
        if (v === undefined) delete kept.default;
        else kept.default = v;
      }
    }
    const rn = plan.renameColumns.find((r) => sameName(r.from, col.name));
    if (rn) {
      kept = { ...kept, name: rn.to };
      renamed.set(col.name.toLowerCase(), rn.to);
    }
    cols.push({ col: kept });
  }
  for (const item of create) {
    if (consumed.has(item) && !pending.includes(item)) continue;
    let slot: Slot;
    if (item.kind === 'change' && !consumed.has(item)) {
      // CHANGE/MODIFY of a column added earlier in this statement: it replaces that ADD
      const k = cols.findIndex((s) => s.item?.kind === 'add' && sameName(s.col.name, item.old));
      if (k < 0) throw new StaleModel(`column ${item.old} is not in the model of ${tableKey(table)}`);
      cols.splice(k, 1);
      slot = { col: resolve(item.spec), item };
    } else if (item.kind === 'change') {
      const k = cols.findIndex((s) => s.item === item);
      slot = cols.splice(k, 1)[0]!;
    } else {
      slot = { col: resolve(item.spec), item };
    }
    const pos = item.spec.position;
    if (pos === undefined) cols.push(slot);
    else if ('first' in pos) cols.unshift(slot);
    else {
      const k = cols.findIndex((s) => sameName(s.col.name, pos.after));
      if (k < 0) throw new StaleModel(`AFTER ${pos.after}: no such column in the model of ${tableKey(table)}`);
      cols.splice(k + 1, 0, slot);
    }
  }
  const columns = cols.map((s) => s.col);

  // 2. indexes
  const { indexes, columns: finalColumns } = changeIndexes(
    table,
    columns,
    renamed,
    plan.dropIndexes,
    plan.renameIndexes,
    plan.addIndexes,
  );

  const out: AlterOutcome = {
    table: tableOf({
      schema: table.schema,
      table: table.table,
      columns: finalColumns,
      indexes,
      charset: tableDefault.charset,
      collation: tableDefault.collation,
    }),
  };
  if (plan.renameTo) out.renameTo = plan.renameTo;
  if (plan.partitionToTable) out.partitionToTable = plan.partitionToTable;
  if (plan.tableToPartition) out.tableToPartition = plan.tableToPartition;
  return out;
}

/**
 * Index changes of an ALTER TABLE (or CREATE/DROP INDEX) on `table`, whose columns are now `columns`
 * (`renamed`: lower-case old column name → new name, null when dropped). Returns the indexes and the columns with
 * the primary key's made NOT NULL.
 */
export function changeIndexes(
  table: TrackedTable,
  columns: TrackedColumn[],
  renamed: Map<string, string | null>,
  dropIndexes: AlterPlan['dropIndexes'],
  renameIndexes: AlterPlan['renameIndexes'],
  addIndexes: IndexSpec[],
): { indexes: TrackedIndex[]; columns: TrackedColumn[] } {
  let indexes: TrackedIndex[] = table.indexes.map((i) => ({ ...i, columns: [...i.columns] }));
  for (const d of dropIndexes) {
    const k = indexes.findIndex((i) =>
      d.name === 'PRIMARY' && !d.constraint ? i.kind === 'primary' : sameName(i.name, d.name),
    );
    // DROP CONSTRAINT drops a UNIQUE key of that name in MariaDB 10.11; otherwise it names a CHECK or FOREIGN KEY
    if (k >= 0 && (!d.constraint || indexes[k]!.kind === 'unique')) indexes.splice(k, 1);
    else if (k < 0 && !d.ifExists) throw new StaleModel(`index ${d.name} is not in the model of ${tableKey(table)}`);
  }
  for (const r of renameIndexes) {
    const idx = indexes.find((i) => sameName(i.name, r.from));
    if (!idx) throw new StaleModel(`index ${r.from} is not in the model of ${tableKey(table)}`);
    idx.name = r.to;
  }
  indexes = indexes
    .map((i) => ({
      ...i,
      columns: i.columns.flatMap((col) => {
        const n = renamed.get(col.toLowerCase());
        return n === undefined ? [col] : n === null ? [] : [n];
      }),
    }))
    .filter((i) => i.columns.length > 0);
  const added: IndexSpec[] = [];
  for (const spec of addIndexes) {
    if (spec.ifNotExists) {
      const n = ifNotExistsName(spec)!;
      if (indexes.some((i) => sameName(i.name, n)) || added.some((a) => a.name !== undefined && sameName(a.name, n)))
        continue;
    }
    added.push(spec);
  }
  indexes = buildIndexes(indexes, added, columns);
  const pk = indexes.find((i) => i.kind === 'primary')?.columns ?? [];
  return {
    indexes,
    // A nullable column's implicit DEFAULT NULL goes with its NULL (an explicit DEFAULT v would stay: not told apart).
    columns: columns.map((col) =>
      pk.some((p) => sameName(p, col.name)) && col.nullable ? { ...col, nullable: false, hasDefault: false } : col,
    ),
  };
}
