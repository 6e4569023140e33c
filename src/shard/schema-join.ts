import { normalizeExpr } from '../schema/model.ts';

/**
 * The join rules of optimistic shard-DDL coordination (optimistic.ts): how shards' table structures combine into the
 * target table's, every column any shard has with the widest type, and when they cannot (a conflict).
 */

export interface ShardColumn {
  name: string;
  type: string;
  nullable: boolean;
  /** A generated column: its expression (SQL, as the schema tracker holds it) and whether it is stored. */
  generated?: { expr: string; stored: boolean };
  /** Whether the column has a default (explicit, or NULL for a nullable column). Absent in records written before
   * this was tracked: treated as having one. */
  hasDefault?: boolean;
  /** The DEFAULT's value in canonical form (schema tracker), absent when there is none or it is NULL. */
  default?: string;
}
export interface ShardSchema {
  columns: ShardColumn[];
  indexes: string[];
}

export interface OptimisticShard {
  source: string;
  table: string;
  schema: ShardSchema;
  /** The routed statements of this shard's last DDL (named in conflicts). */
  lastDdl?: string[];
  /** SHARD_FORMAT when `schema` holds generated columns, defaults and DEFAULT values (absent: recorded before). */
  v?: number;
}

/** What a shard's recorded structure holds; a source records its shards again at sync start when theirs is older. */
export const SHARD_FORMAT = 2;

const INT_RANK = ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'];
const TEXT_RANK = ['tinytext', 'text', 'mediumtext', 'longtext'];
const BLOB_RANK = ['tinyblob', 'blob', 'mediumblob', 'longblob'];

interface ParsedType {
  base: string;
  args: number[];
  unsigned: boolean;
  rest: string;
}

function parseType(t: string): ParsedType {
  const s = t.toLowerCase().replace(/\s+/g, ' ').trim();
  const m = /^([a-z]+)(?:\(([^)]*)\))?(.*)$/.exec(s);
  if (!m) return { base: s, args: [], unsigned: false, rest: '' };
  const base = m[1] === 'integer' ? 'int' : m[1]!;
  const args = m[2] !== undefined && /^[\d,\s]+$/.test(m[2]) ? m[2].split(',').map((x) => Number(x.trim())) : [];
  const rest = (m[3] ?? '').trim();
  return {
    base,
    args,
    unsigned: /\bunsigned\b/.test(rest),
    rest: m[2] !== undefined && args.length === 0 ? `(${m[2]})${rest}` : rest,
  };
}

/** The narrowest type both values fit in, or undefined when there is none (a conflict). */
export function joinType(a: string, b: string): string | undefined {
  if (a.toLowerCase().replace(/\s+/g, ' ') === b.toLowerCase().replace(/\s+/g, ' ')) return a;
  const pa = parseType(a);
  const pb = parseType(b);
  const wider = (rank: string[]) => (rank.indexOf(pa.base) >= rank.indexOf(pb.base) ? a : b);
  if (INT_RANK.includes(pa.base) && INT_RANK.includes(pb.base))
    return pa.unsigned === pb.unsigned ? wider(INT_RANK).replace(/\(\d+\)/, '') : undefined;
  if (TEXT_RANK.includes(pa.base) && TEXT_RANK.includes(pb.base) && pa.rest === pb.rest) return wider(TEXT_RANK);
  if (BLOB_RANK.includes(pa.base) && BLOB_RANK.includes(pb.base)) return wider(BLOB_RANK);
  if (pa.base === pb.base && ['varchar', 'char', 'varbinary', 'binary'].includes(pa.base) && pa.rest === pb.rest) {
    return `${pa.base}(${Math.max(pa.args[0] ?? 1, pb.args[0] ?? 1)})${pa.rest ? ' ' + pa.rest : ''}`;
  }
  if (pa.base === pb.base && (pa.base === 'decimal' || pa.base === 'numeric') && pa.unsigned === pb.unsigned) {
    const [p1 = 10, s1 = 0] = pa.args;
    const [p2 = 10, s2 = 0] = pb.args;
    const sc = Math.max(s1, s2);
    return `${pa.base}(${Math.max(p1 - s1, p2 - s2) + sc},${sc})${pa.unsigned ? ' unsigned' : ''}`;
  }
  if (pa.base === pb.base && ['datetime', 'timestamp', 'time'].includes(pa.base))
    return `${pa.base}(${Math.max(pa.args[0] ?? 0, pb.args[0] ?? 0)})`;
  return undefined;
}

export interface JoinConflict {
  column: string;
  a: string;
  b: string;
  shardA: string;
  shardB: string;
}

function generation(c: ShardColumn): string {
  return c.generated ? `${c.generated.stored ? 'STORED' : 'VIRTUAL'} AS (${normalizeExpr(c.generated.expr)})` : '';
}

function describe(c: ShardColumn): string {
  if (c.generated) return `${c.type} ${c.generated.stored ? 'STORED' : 'VIRTUAL'} AS (${c.generated.expr})`;
  return c.default !== undefined ? `${c.type} DEFAULT ${c.default}` : c.type;
}

/** A column no shard's rows can be written without: NOT NULL, no default, not generated. */
function needsValue(c: ShardColumn): boolean {
  return !c.nullable && c.hasDefault === false && !c.generated;
}

/**
 * Joins shard structures (in key order, so the result is deterministic), as tidb's schemacmp does for DM: the widest
 * type of each column; a generated column must have the same expression and storage on every shard that has it. A
 * column that some shards lack joins as it is, also NOT NULL without a default (DM's shardddl3_1 DM_107): the lacking
 * shards' rows are written without it and take its implicit default (tsdm's downstream sessions are not strict), as
 * their rows upstream do when those shards add the column. With `strict` (DM's strict-optimistic-shard-mode,
 * shardddl4_1 DM_STRICT_OPTIMISTIC_DOUBLE_SOURCE) such a column is a conflict.
 */
export function joinSchemas(
  shards: Record<string, OptimisticShard>,
  overrides: Record<string, string>,
  overrideCols: Record<string, ShardColumn> = {},
  strict = false,
): { schema: ShardSchema } | { conflict: JoinConflict } {
  const cols = new Map<string, ShardColumn & { from: string; count: number }>();
  const indexes = new Set<string>();
  const keys = Object.keys(shards).sort();
  for (const key of keys) {
    const s = shards[key]!;
    for (const c of s.schema.columns) {
      const k = c.name.toLowerCase();
      const prev = cols.get(k);
      const count = (prev?.count ?? 0) + 1;
      const whole = overrideCols[k];
      if (whole) {
        cols.set(k, { ...whole, from: prev?.from ?? key, count });
        continue;
      }
      const o = overrides[k];
      if (o) {
        cols.set(k, {
          ...(prev ?? c),
          name: prev?.name ?? c.name,
          type: o,
          nullable: (prev?.nullable ?? false) || c.nullable,
          from: prev?.from ?? key,
          count,
        });
        continue;
      }
      if (!prev) {
        cols.set(k, { ...c, from: key, count });
        continue;
      }
      if (generation(prev) !== generation(c))
        return { conflict: { column: c.name, a: describe(prev), b: describe(c), shardA: prev.from, shardB: key } };
      // Two different DEFAULT values cannot both be the target's (DM: shardddl4 DM_130); none or NULL joins any.
      if (prev.default !== undefined && c.default !== undefined && prev.default !== c.default)
        return { conflict: { column: c.name, a: describe(prev), b: describe(c), shardA: prev.from, shardB: key } };
      const t = joinType(prev.type, c.type);
      if (t === undefined)
        return { conflict: { column: c.name, a: prev.type, b: c.type, shardA: prev.from, shardB: key } };
      const j: ShardColumn & { from: string; count: number } = {
        ...prev,
        type: t,
        nullable: prev.nullable || c.nullable,
        count,
      };
      if (prev.hasDefault !== undefined || c.hasDefault !== undefined)
        j.hasDefault = prev.hasDefault !== false || c.hasDefault !== false;
      const dflt = prev.default ?? c.default;
      if (dflt !== undefined) j.default = dflt;
      else delete j.default;
      cols.set(k, j);
    }
    for (const i of s.schema.indexes) indexes.add(i.toLowerCase());
  }
  // strict-optimistic-shard-mode: a column some shards lack must not need a value from them.
  if (strict)
    for (const [k, c] of cols) {
      if (c.count === keys.length || overrideCols[k] || overrides[k]) continue;
      const lacking = keys.find((key) => !shards[key]!.schema.columns.some((x) => x.name.toLowerCase() === k))!;
      const having = keys.find((key) =>
        shards[key]!.schema.columns.some((x) => x.name.toLowerCase() === k && needsValue(x)),
      );
      if (having !== undefined)
        return {
          conflict: {
            column: c.name,
            a: `${c.type} NOT NULL without a default`,
            b: 'absent (strict-optimistic-shard-mode)',
            shardA: having,
            shardB: lacking,
          },
        };
    }
  return {
    schema: {
      columns: [...cols.values()].map(({ from: _f, count: _c, ...col }) => col),
      indexes: [...indexes].sort(),
    },
  };
}

export function sameSchema(a: ShardSchema, b: ShardSchema): boolean {
  const norm = (s: ShardSchema) =>
    JSON.stringify({
      c: s.columns
        .map((c) => [c.name.toLowerCase(), c.type.toLowerCase(), c.nullable, generation(c), c.default ?? null])
        .sort(),
      i: s.indexes,
    });
  return norm(a) === norm(b);
}
