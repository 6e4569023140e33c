import { skipReferences } from './column-def.ts';
import { Cursor, ParseError, Unsupported } from './cursor.ts';
import type { IndexKind, IndexSpec, TrackedIndex } from './model.ts';
import { sameName } from './names.ts';

/**
 * Index definitions and the key list rules of MariaDB's mysql_prepare_create_table (sql_table.cc), which both
 * CREATE TABLE and ALTER TABLE go through:
 * 1. A FOREIGN KEY adds an implicit ("generated") index named after the FK's index name, else its constraint
 *    name, else its first column; it is left out when another index starts with the same columns, and a generated
 *    index is dropped when a later, longer index starts with its columns (`foreign_key_prefix`).
 * 2. An index without a name takes the name of its first column, or `<col>_2`, `<col>_3`, ... when an EARLIER
 *    index has that name (`make_unique_key_name`; case-insensitive). The primary key is always `PRIMARY`.
 * 3. Columns of the primary key are NOT NULL (applied by the caller).
 */

interface WorkingIndex {
  name?: string;
  kind: IndexKind;
  columns: string[];
  generated: boolean;
}

/**
 * Reads a table-level definition that is not a column: an index, a key, a foreign key (its implicit index),
 * or a CHECK / PERIOD (null: nothing to model). Returns undefined when the clause is not one of these.
 */
export function parseIndexDef(c: Cursor): IndexSpec | null | undefined {
  let symbol: string | undefined;
  let ifNotExists = false;
  if (c.kw('CONSTRAINT')) {
    ifNotExists = c.kw('IF', 'NOT', 'EXISTS'); // MariaDB: ADD CONSTRAINT IF NOT EXISTS name ...
    if (!c.isWord('PRIMARY') && !c.isWord('UNIQUE') && !c.isWord('FOREIGN') && !c.isWord('CHECK')) symbol = c.ident();
  }
  let kind: IndexSpec['kind'];
  if (c.kw('PRIMARY', 'KEY')) kind = 'primary';
  else if (c.kw('UNIQUE')) {
    c.kwAny('INDEX', 'KEY');
    kind = 'unique';
  } else if (c.kw('FOREIGN', 'KEY')) kind = 'foreign';
  else if (c.kw('CHECK')) {
    c.skipParens();
    return null;
  } else if (symbol !== undefined)
    throw new ParseError(`expected PRIMARY KEY, UNIQUE, FOREIGN KEY or CHECK after CONSTRAINT ${c.where()}`);
  else if (c.kwAny('INDEX', 'KEY')) kind = 'index';
  else if (c.kwAny('FULLTEXT', 'SPATIAL')) {
    kind = c.t[c.i - 1]!.upper === 'FULLTEXT' ? 'fulltext' : 'spatial';
    c.kwAny('INDEX', 'KEY');
  } else if (c.kw('PERIOD', 'FOR')) {
    c.ident();
    c.skipParens();
    return null;
  } else return undefined;

  const spec: IndexSpec = { kind, columns: [] };
  if (c.kw('IF', 'NOT', 'EXISTS') || ifNotExists) spec.ifNotExists = true;
  if (kind !== 'primary' && c.isIdent() && !c.isWord('USING') && !c.isOp('(')) spec.name = c.ident();
  else if (symbol !== undefined && kind !== 'primary') spec.name = symbol;
  if (c.kw('USING') || c.kw('TYPE')) c.next();
  spec.columns = parseKeyParts(c);
  if (kind === 'foreign') {
    c.must('REFERENCES');
    skipReferences(c);
  }
  // Index options (USING, COMMENT, KEY_BLOCK_SIZE, [NOT] IGNORED, INVISIBLE, WITH PARSER ...) change no column.
  c.i = c.end;
  return spec;
}

/** `(col [(len)] [ASC|DESC], ...)` → column names. */
export function parseKeyParts(c: Cursor): string[] {
  c.mustOp('(');
  const cols: string[] = [];
  do {
    if (c.isOp('(')) throw new Unsupported('functional index parts (expressions) are not modelled');
    cols.push(c.ident());
    if (c.isOp('(')) c.skipParens();
    c.kwAny('ASC', 'DESC');
    if (c.isWord('WITHOUT')) throw new Unsupported('WITHOUT OVERLAPS keys are not modelled');
  } while (c.op(','));
  c.mustOp(')');
  return cols;
}

/** The name MariaDB checks for `ADD INDEX IF NOT EXISTS`: the index name, else `PRIMARY`, else the first column. */
export function ifNotExistsName(spec: IndexSpec): string | undefined {
  if (spec.kind === 'primary') return 'PRIMARY';
  return spec.name ?? spec.columns[0];
}

/**
 * The index list after a CREATE TABLE (`existing` empty) or an ALTER TABLE (`existing`: the table's indexes
 * with dropped/renamed columns and indexes already applied), with `added` appended in statement order.
 * Key parts name columns as the table spells them (`KEY (A)` on column `a` is on `a`, and is named `a`).
 */
export function buildIndexes(
  existing: TrackedIndex[],
  added: IndexSpec[],
  columns: readonly { name: string }[],
): TrackedIndex[] {
  const spelled = (n: string): string => columns.find((c) => sameName(c.name, n))?.name ?? n;
  const list: WorkingIndex[] = existing.map((i) => ({
    name: i.name,
    kind: i.kind,
    columns: i.columns.map(spelled),
    generated: i.generated === true,
  }));
  for (const s of added) {
    const w: WorkingIndex = {
      kind: s.kind === 'foreign' ? 'index' : s.kind,
      columns: s.columns.map(spelled),
      generated: s.kind === 'foreign',
    };
    if (s.name !== undefined) w.name = s.name;
    list.push(w);
  }
  const ignored = new Set<WorkingIndex>();
  list.forEach((key, k) => {
    for (let j = 0; j < k; j++) {
      const key2 = list[j]!;
      if (ignored.has(key2) || !isGeneratedPrefix(key, key2)) continue;
      if (!key2.generated || (key.generated && key.columns.length < key2.columns.length)) ignored.add(key);
      else ignored.add(key2);
      break;
    }
  });
  const out: TrackedIndex[] = [];
  for (const w of list) {
    if (ignored.has(w)) continue;
    const name = w.kind === 'primary' ? 'PRIMARY' : (w.name ?? uniqueKeyName(w.columns[0]!, out));
    const idx: TrackedIndex = { name, kind: w.kind, columns: w.columns };
    if (w.generated) idx.generated = true;
    out.push(idx);
  }
  return out;
}

/** MariaDB's foreign_key_prefix(), inverted: true when one key is generated and its columns start the other. */
function isGeneratedPrefix(x: WorkingIndex, y: WorkingIndex): boolean {
  let a = x;
  let b = y;
  if (a.generated) {
    if (b.generated && a.columns.length > b.columns.length) [a, b] = [b, a];
  } else {
    if (!b.generated) return false;
    [a, b] = [b, a];
  }
  if (a.columns.length > b.columns.length) return false;
  return a.columns.every((col, i) => sameName(col, b.columns[i]!));
}

function uniqueKeyName(column: string, earlier: TrackedIndex[]): string {
  const taken = (n: string): boolean => earlier.some((i) => sameName(i.name, n));
  if (!taken(column) && !sameName(column, 'PRIMARY')) return column;
  for (let i = 2; i < 100; i++) if (!taken(`${column}_${i}`)) return `${column}_${i}`;
  return 'not_specified';
}
