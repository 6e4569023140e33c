import type { Connection } from 'mysql2/promise';
import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import { query, type Value } from '../db/mysql.ts';
import { rowKey, type TableInfo } from '../db/schema.ts';

/**
 * Row identity from the downstream table (DM: pkg/sqlmodel GetWhereHandle / whereColumnsAndValues, with the
 * downstream table info of dm/pkg/schema/tracker.go).
 *
 * The downstream table decides which row an UPDATE or DELETE touches and which changes collide, and its keys may
 * differ from the upstream's: a merged shard table keyed by something else, a unique index added downstream, an
 * upstream table without a key. So:
 *
 *  - `key` (WHERE of keyed writes, compaction): the downstream's primary key, else its first unique index whose
 *    columns are all NOT NULL downstream; only indexes whose every column the upstream row carries count. None:
 *    `key` is [] and rows are written one by one, each UPDATE/DELETE matching by a unique index whose values in that
 *    row are all non-NULL, else by every column, with LIMIT 1 (`whereColumns`).
 *  - causality (`causalityKeys`): every downstream unique index, values folded as the index compares them (case- and
 *    accent-insensitive collations lowercased and unaccented, trailing spaces of PAD SPACE collations dropped, prefix
 *    indexes cut to their length), so 'A' and 'a' are one key when the downstream says they collide. Folding more than
 *    the server does only puts more changes on one writer; folding less would let two writers collide.
 *
 * Without the downstream table (not created yet) the upstream's keys stand in. `RowIdentities` caches the downstream
 * side per target table; the sync unit drops the cache after any DDL, `binlog replace`, or shard-DDL lock step, since
 * those are what change a downstream table while the unit runs (a resumed unit starts with an empty cache).
 */

/** A unique index of the downstream table, by its columns' downstream names. */
export interface DownstreamIndex {
  name: string;
  primary: boolean;
  columns: string[];
  /** Index prefix length per column (characters, bytes for binary columns), null = whole value. */
  prefix: (number | null)[];
}

export interface DownstreamColumn {
  name: string;
  nullable: boolean;
  collation: string | null;
  binary: boolean;
  /** An integer type (TINYINT .. BIGINT). */
  integer?: boolean;
}

/** What of a downstream table decides row identity. */
export interface DownstreamTable {
  columns: DownstreamColumn[];
  uniques: DownstreamIndex[];
}

/** A unique index as the sync unit uses it: columns as the upstream rows name them. */
export interface IdentityIndex {
  name: string;
  columns: string[];
  prefix: (number | null)[];
}

export interface RowIdentity {
  /** Columns identifying a row (upstream names); [] = no usable key downstream. */
  key: string[];
  /** Every unique index whose columns the rows carry, `key`'s first; causality keys come from these. */
  uniques: IdentityIndex[];
  /** How a column's values compare in the downstream's indexes (absent = exactly). */
  fold: ReadonlyMap<string, Fold>;
  /** True when `key` comes from the downstream table (false: upstream stand-in). */
  fromDownstream: boolean;
  /** Columns (upstream names) that are integers upstream and downstream: their values are written as integer
   * literals (sqlgen.ts). Absent or empty: none (no downstream table known, or none of them). */
  integers?: ReadonlySet<string>;
}

export type Fold = 'ci' | 'pad';

const BINARY = /^(binary|varbinary|tinyblob|blob|mediumblob|longblob|bit)$/;
/** An integer column's DATA_TYPE (writer-update.ts uses it too). */
export const INTEGER_TYPE = /^(tinyint|smallint|mediumint|int|integer|bigint)$/i;

/** How values of a column with this collation compare: ci (case/accent-insensitive, PAD SPACE), pad, exact. */
export function foldFor(collation: string | null, binary: boolean): Fold | undefined {
  if (binary || !collation || collation === 'binary') return undefined;
  const c = collation.toLowerCase();
  // *_ci (incl. _ai_ci, _as_ci, NO PAD ones: folding more than the server is safe).
  if (c.endsWith('_ci')) return 'ci';
  // *_bin, *_cs: exact, but trailing spaces are ignored except by NO PAD collations.
  return c.includes('nopad') ? undefined : 'pad';
}

/** The row identity for rows of upstream table `info` written to a downstream table `down` (undefined: unknown). */
export function identityFor(info: TableInfo, down: DownstreamTable | undefined): RowIdentity {
  if (!down) {
    const key = rowKey(info);
    const uniques = [...(info.primaryKey.length ? [info.primaryKey] : []), ...info.uniqueKeys].map((columns, i) => ({
      name: i === 0 && info.primaryKey.length ? 'PRIMARY' : `uk${i}`,
      columns,
      prefix: columns.map(() => null),
    }));
    const fold = new Map<string, Fold>();
    for (const c of info.columns) {
      const f = foldFor(c.collation, c.binary);
      if (f) fold.set(c.name, f);
    }
    if (key.length && !uniques.some((u) => same(u.columns, key)))
      uniques.unshift({ name: 'key', columns: key, prefix: key.map(() => null) });
    return { key, uniques: sortKeyFirst(uniques, key), fold, fromDownstream: false };
  }
  const upName = new Map(info.columns.map((c) => [c.name.toLowerCase(), c.name]));
  const downCol = new Map(down.columns.map((c) => [c.name.toLowerCase(), c]));
  const uniques: (IdentityIndex & { primary: boolean; notNull: boolean })[] = [];
  for (const idx of down.uniques) {
    const cols = idx.columns.map((c) => upName.get(c.toLowerCase()));
    if (cols.some((c) => c === undefined)) continue; // the rows do not carry this column: it cannot identify them
    const notNull = idx.columns.every((c) => downCol.get(c.toLowerCase())?.nullable === false);
    uniques.push({ name: idx.name, columns: cols as string[], prefix: idx.prefix, primary: idx.primary, notNull });
  }
  // A key over a generated column does not identify rows: its value is the downstream's to compute, never written.
  const generated = new Set(info.columns.filter((c) => c.generated).map((c) => c.name));
  const writable = (u: IdentityIndex) => u.columns.every((c) => !generated.has(c));
  const pick = uniques.find((u) => u.primary && writable(u)) ?? uniques.find((u) => u.notNull && writable(u));
  const key = pick?.columns ?? [];
  const fold = new Map<string, Fold>();
  for (const c of down.columns) {
    const up = upName.get(c.name.toLowerCase());
    const f = foldFor(c.collation, c.binary);
    if (up && f) fold.set(up, f);
  }
  // Integer literals only where both sides are integers: against a text column an unquoted 5 compares (and matches
  // '05', ' 5') as a number, and SET, BIT, YEAR and ENUM columns read a number otherwise than its digits as text.
  const integers = new Set<string>();
  for (const c of info.columns)
    if (INTEGER_TYPE.test(c.dataType) && downCol.get(c.name.toLowerCase())?.integer === true) integers.add(c.name);
  return {
    key,
    uniques: sortKeyFirst(
      uniques.map(({ name, columns, prefix }) => ({ name, columns, prefix })),
      key,
    ),
    fold,
    fromDownstream: true,
    integers,
  };
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sortKeyFirst(list: IdentityIndex[], key: string[]): IdentityIndex[] {
  const i = list.findIndex((u) => same(u.columns, key));
  return i <= 0 ? list : [list[i]!, ...list.slice(0, i), ...list.slice(i + 1)];
}

/** True when two identities key, index and fold rows alike (the objects differ after every cache refresh). */
export function sameIdentity(a: RowIdentity | undefined, b: RowIdentity | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  if (!same(a.key, b.key) || a.uniques.length !== b.uniques.length || a.fold.size !== b.fold.size) return false;
  if (
    !a.uniques.every((u, i) => {
      const v = b.uniques[i]!;
      return same(u.columns, v.columns) && u.prefix.every((p, j) => p === v.prefix[j]);
    })
  )
    return false;
  for (const [c, f] of a.fold) if (b.fold.get(c) !== f) return false;
  return true;
}

/**
 * Columns an UPDATE or DELETE of a row without a key matches (with LIMIT 1): the first unique index whose values in
 * `before` are all non-NULL (DM: getWhereIdxByData), else every written column.
 */
export function whereColumns(id: RowIdentity | undefined, cols: string[], before: Record<string, Value>): string[] {
  for (const u of id?.uniques ?? []) {
    // Only indexes over written columns (never a generated one: the downstream computes it).
    if (u.columns.every((c) => cols.includes(c) && before[c] !== undefined && before[c] !== null)) return u.columns;
  }
  return cols;
}

/** A value as the index compares it: prefix cut, then folded per collation (strings only). */
export function foldValue(v: Value | undefined, fold: Fold | undefined, prefix: number | null): Value {
  if (v === undefined || v === null) return null;
  if (Buffer.isBuffer(v)) return prefix !== null ? v.subarray(0, prefix) : v;
  let s = prefix !== null ? Array.from(v).slice(0, prefix).join('') : v;
  if (fold) s = s.replace(/ +$/, '');
  if (fold === 'ci') s = s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return s;
}

/** An unambiguous string for a tuple of values (NULL, bytes and strings never collide). */
export function valuesKey(vals: Value[]): string {
  // One column (the usual key) without the array map and join: this runs for every row change, several times.
  if (vals.length === 1) return singleKey(vals[0] ?? null);
  return vals.map(valueKey).join(',');
}

/**
 * The key of a one-value tuple: a string is `s` and its text, with no escaping to do (JSON.stringify per key was
 * ~10 % of dispatch and writer SQL). Unambiguous: NULL is `\N`, bytes `x` and hex, and a tuple of several values
 * starts with `"`, `\N` or `x` and holds a comma where a one-value bytes key cannot.
 */
function singleKey(v: Value): string {
  return typeof v === 'string' ? `s${v}` : valueKey(v);
}

function valueKey(v: Value): string {
  return v === null ? '\\N' : Buffer.isBuffer(v) ? 'x' + v.toString('hex') : JSON.stringify(v);
}

/**
 * Causality keys of one row change on table `t` (see agent/sync/dispatcher.ts): one per unique index and row image,
 * values folded; an index with a NULL value is skipped (NULLs never collide). A table without a key downstream is one
 * key: its changes stay in binlog order on one writer.
 *
 * A key names its index (the primary key, else the index's columns), not its place in this identity's list: rows of
 * one target can carry different identities (shards of different structures; one shard keyed by `id`, another, that
 * lacks `id`, by a unique `u`), and a value of one downstream index must be one key whichever identity a change
 * carries, or a value moving between shards (a delete of u=4 on one, an update to u=4 on the other) could go to two
 * writers and the delete commit last. For the same reason a keyless identity's changes also own their unique indexes'
 * non-NULL values besides the table's one key.
 */
export function causalityKeys(t: string, id: RowIdentity, images: Record<string, Value>[]): string[] {
  // Loops, not closures: this runs for every row change, and under tsx each closure created costs an
  // Object.defineProperty (esbuild keepNames).
  const keyless = id.key.length === 0;
  const keys: string[] = keyless ? [`${t}|*`] : [];
  const uniques = id.uniques;
  for (const img of images) {
    for (let i = 0; i < uniques.length; i++) {
      const u = uniques[i]!;
      const cols = u.columns;
      const skipNull = keyless || i > 0;
      let vk: string;
      if (cols.length === 1) {
        const c = cols[0]!;
        const v = foldValue(img[c], id.fold.get(c), u.prefix[0] ?? null);
        if (skipNull && v === null) continue;
        vk = singleKey(v);
      } else {
        const vals: Value[] = new Array<Value>(cols.length);
        let hasNull = false;
        for (let j = 0; j < cols.length; j++) {
          const c = cols[j]!;
          const v = foldValue(img[c], id.fold.get(c), u.prefix[j] ?? null);
          if (v === null) hasNull = true;
          vals[j] = v;
        }
        if (skipNull && hasNull) continue;
        vk = valuesKey(vals);
      }
      keys.push(`${t}|${indexTag(u)}|${vk}`);
    }
  }
  return keys;
}

/** `pk`, or `uk:` and the index's columns: computed once per index. */
const indexTags = new WeakMap<IdentityIndex, string>();
function indexTag(u: IdentityIndex): string {
  let tag = indexTags.get(u);
  if (tag === undefined)
    indexTags.set(u, (tag = u.name === 'PRIMARY' ? 'pk' : `uk:${u.columns.join(',').toLowerCase()}`));
  return tag;
}

/** Reads a table's columns and unique indexes from the downstream's information_schema (undefined: no table). */
export async function loadDownstreamTable(conn: Connection, t: TableName): Promise<DownstreamTable | undefined> {
  const cols = await query<Record<string, string | null>[]>(
    conn,
    'downstream',
    `SELECT COLUMN_NAME, IS_NULLABLE, COLLATION_NAME, DATA_TYPE FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [t.schema, t.table],
  );
  if (cols.length === 0) return undefined;
  const idx = await query<Record<string, string | number | null>[]>(
    conn,
    'downstream',
    `SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
      ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`,
    [t.schema, t.table],
  );
  return downstreamTableFromRows(cols, idx);
}

/** From information_schema rows (COLUMNS: COLUMN_NAME, IS_NULLABLE, COLLATION_NAME, DATA_TYPE; STATISTICS of unique
 * indexes in index order: INDEX_NAME, COLUMN_NAME, SUB_PART). */
export function downstreamTableFromRows(
  cols: Record<string, string | null>[],
  idx: Record<string, string | number | null>[],
): DownstreamTable {
  const columns = cols.map((c) => ({
    name: String(c.COLUMN_NAME),
    nullable: c.IS_NULLABLE === 'YES',
    collation: c.COLLATION_NAME ?? null,
    binary: BINARY.test(String(c.DATA_TYPE).toLowerCase()),
    integer: INTEGER_TYPE.test(String(c.DATA_TYPE)),
  }));
  const byName = new Map<string, DownstreamIndex>();
  for (const r of idx) {
    const name = String(r.INDEX_NAME);
    const cur = byName.get(name) ?? { name, primary: name === 'PRIMARY', columns: [], prefix: [] };
    cur.columns.push(String(r.COLUMN_NAME));
    cur.prefix.push(r.SUB_PART === null || r.SUB_PART === undefined ? null : Number(r.SUB_PART));
    byName.set(name, cur);
  }
  return { columns, uniques: [...byName.values()] };
}

/**
 * The per-target-table cache of downstream structure, and the identity derived from it per upstream table structure
 * (the tracker hands out one TableInfo object per table version).
 */
export class RowIdentities {
  private readonly tables = new Map<string, DownstreamTable | null>();
  private readonly derived = new WeakMap<
    TableInfo,
    { target: string; down: DownstreamTable | null; id: RowIdentity }
  >();

  constructor(private readonly load: (t: TableName) => Promise<DownstreamTable | undefined>) {}

  /** The identity when the downstream side is cached (no I/O), else undefined: call `resolve`. */
  peek(target: TableName, info: TableInfo): RowIdentity | undefined {
    const k = `${tableKey(target)}`;
    const down = this.tables.get(k);
    if (down === undefined) return undefined;
    const hit = this.derived.get(info);
    if (hit && hit.target === k && hit.down === down) return hit.id;
    const id = identityFor(info, down ?? undefined);
    this.derived.set(info, { target: k, down, id });
    return id;
  }

  async resolve(target: TableName, info: TableInfo): Promise<RowIdentity> {
    const k = `${tableKey(target)}`;
    if (!this.tables.has(k)) this.tables.set(k, (await this.load(target)) ?? null);
    return this.peek(target, info)!;
  }

  /** Moves at every invalidate(): an identity taken at an earlier version may be stale (route.ts keeps one per table). */
  version = 0;

  /** Forget every downstream table (after DDL, `binlog replace`, a shard-DDL lock step). */
  invalidate(): void {
    this.tables.clear();
    this.version++;
  }
}
