import { DmError } from '../errors/index.ts';
import { qualify, quoteIdent } from '../sql/quote.ts';

/**
 * Optimistic shard-DDL coordination (DM's `shard-mode: optimistic`), the pure part: every shard's table structure is
 * kept in one record per target table (`dm_locks/<task>.<schema>.<table>`, mode optimistic), and the target table
 * has the *join* of them: every column any shard has, with the widest type. A shard's DDL runs downstream only when
 * it changes the join (the first ADD COLUMN, a wider MODIFY, the last DROP COLUMN); DML never waits. Two shards
 * whose columns cannot be joined (INT and VARCHAR) are a conflict: the shard that brought it pauses until a user
 * decides (`dmctl shard-ddl-lock unlock --action exec|skip`).
 */
export interface ShardColumn { name: string; type: string; nullable: boolean }
export interface ShardSchema { columns: ShardColumn[]; indexes: string[] }

export interface OptimisticShard {
  source: string;
  table: string;
  schema: ShardSchema;
  /** The routed statements of this shard's last DDL (named in conflicts). */
  lastDdl?: string[];
}

export interface OptimisticConflict {
  shard: string;
  ddls: string[];
  position: string;
  column: string;
  withShard: string;
  withDdls: string[];
  reason: string;
}

export interface OptimisticLockRecord {
  task: string;
  targetSchema: string;
  targetTable: string;
  mode: 'optimistic';
  /** `<source>/<schema>.<table>` -> structure as of that shard's stream. */
  shards: Record<string, OptimisticShard & { reached?: boolean }>;
  /** Column types fixed by a user's unlock of a conflict (lower-cased name -> type). */
  overrides: Record<string, string>;
  /** Shards' DDL that changed the join and is being applied downstream (re-run after a crash), by shard. */
  pending?: Record<string, { position: string; ddls: string[] }>;
  conflict?: OptimisticConflict;
  /** `dmctl shard-ddl-lock unlock` of the conflict. */
  resolution?: 'exec' | 'skip';
  /** For views shared with pessimistic locks. */
  ddls: string[];
  owner: string;
  stage: 'waiting';
  createdAt: string;
  updatedAt: string;
}

const INT_RANK = ['tinyint', 'smallint', 'mediumint', 'int', 'bigint'];
const TEXT_RANK = ['tinytext', 'text', 'mediumtext', 'longtext'];
const BLOB_RANK = ['tinyblob', 'blob', 'mediumblob', 'longblob'];

interface ParsedType { base: string; args: number[]; unsigned: boolean; rest: string }

function parseType(t: string): ParsedType {
  const s = t.toLowerCase().replace(/\s+/g, ' ').trim();
  const m = /^([a-z]+)(?:\(([^)]*)\))?(.*)$/.exec(s);
  if (!m) return { base: s, args: [], unsigned: false, rest: '' };
  const base = m[1] === 'integer' ? 'int' : m[1]!;
  const args = m[2] !== undefined && /^[\d,\s]+$/.test(m[2]) ? m[2].split(',').map((x) => Number(x.trim())) : [];
  const rest = (m[3] ?? '').trim();
  return { base, args, unsigned: /\bunsigned\b/.test(rest), rest: m[2] !== undefined && args.length === 0 ? `(${m[2]})${rest}` : rest };
}

/** The narrowest type both values fit in, or undefined when there is none (a conflict). */
export function joinType(a: string, b: string): string | undefined {
  if (a.toLowerCase().replace(/\s+/g, ' ') === b.toLowerCase().replace(/\s+/g, ' ')) return a;
  const pa = parseType(a);
  const pb = parseType(b);
  const wider = (rank: string[]) => (rank.indexOf(pa.base) >= rank.indexOf(pb.base) ? a : b);
  if (INT_RANK.includes(pa.base) && INT_RANK.includes(pb.base)) return pa.unsigned === pb.unsigned ? wider(INT_RANK).replace(/\(\d+\)/, '') : undefined;
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
  if (pa.base === pb.base && ['datetime', 'timestamp', 'time'].includes(pa.base)) return `${pa.base}(${Math.max(pa.args[0] ?? 0, pb.args[0] ?? 0)})`;
  return undefined;
}

export interface JoinConflict { column: string; a: string; b: string; shardA: string; shardB: string }

/** Joins shard structures (in key order, so the result is deterministic). */
export function joinSchemas(shards: Record<string, OptimisticShard>, overrides: Record<string, string>): { schema: ShardSchema } | { conflict: JoinConflict } {
  const cols = new Map<string, ShardColumn & { from: string }>();
  const indexes = new Set<string>();
  for (const key of Object.keys(shards).sort()) {
    const s = shards[key]!;
    for (const c of s.schema.columns) {
      const k = c.name.toLowerCase();
      const o = overrides[k];
      const prev = cols.get(k);
      if (o) { cols.set(k, { name: c.name, type: o, nullable: (prev?.nullable ?? false) || c.nullable, from: key }); continue; }
      if (!prev) { cols.set(k, { ...c, from: key }); continue; }
      const t = joinType(prev.type, c.type);
      if (t === undefined) return { conflict: { column: c.name, a: prev.type, b: c.type, shardA: prev.from, shardB: key } };
      cols.set(k, { name: prev.name, type: t, nullable: prev.nullable || c.nullable, from: prev.from });
    }
    for (const i of s.schema.indexes) indexes.add(i.toLowerCase());
  }
  return { schema: { columns: [...cols.values()].map(({ name, type, nullable }) => ({ name, type, nullable })), indexes: [...indexes].sort() } };
}

export function sameSchema(a: ShardSchema, b: ShardSchema): boolean {
  const norm = (s: ShardSchema) => JSON.stringify({ c: s.columns.map((c) => [c.name.toLowerCase(), c.type.toLowerCase(), c.nullable]).sort(), i: s.indexes });
  return norm(a) === norm(b);
}

export function newOptimisticLock(task: string, target: { schema: string; table: string }, now: string): OptimisticLockRecord {
  return { task, targetSchema: target.schema, targetTable: target.table, mode: 'optimistic', shards: {}, overrides: {}, ddls: [], owner: '', stage: 'waiting', createdAt: now, updatedAt: now };
}

export interface DdlDecision {
  record: OptimisticLockRecord;
  /** The join changed: run the shard's DDL downstream (then clear `pending`). */
  apply: boolean;
  /** Statements to run instead of the shard's own (a conflict resolved with exec: MODIFY to the override). */
  statements?: string[];
}

/**
 * A shard reached a DDL and now has structure `after`. Returns the record to write and whether the DDL runs
 * downstream; throws ShardDdlConflict (after the caller stored `conflictRecord`) when the join breaks.
 */
export function optimisticDdl(rec: OptimisticLockRecord, shard: string, source: string, table: string, after: ShardSchema, ddls: string[], position: string, now: string):
  DdlDecision | { conflictRecord: OptimisticLockRecord; error: DmError } {
  const before = joinSchemas(rec.shards, rec.overrides);
  const shards = { ...rec.shards, [shard]: { source, table, schema: after, lastDdl: ddls, reached: true } };
  const base: OptimisticLockRecord = { ...rec, shards, updatedAt: now, ddls };
  delete base.conflict;
  delete base.resolution;
  const conflictHere = rec.conflict && rec.conflict.shard === shard && rec.conflict.position === position ? rec.conflict : undefined;
  if (conflictHere && rec.resolution) {
    const col = conflictHere.column.toLowerCase();
    const mine = after.columns.find((c) => c.name.toLowerCase() === col);
    if (rec.resolution === 'exec' && mine) {
      // The user chose this shard's definition for the column: the target takes it.
      base.overrides = { ...rec.overrides, [col]: mine.type };
      const stmt = `ALTER TABLE ${qualify({ schema: rec.targetSchema, table: rec.targetTable })} MODIFY COLUMN ${quoteIdent(mine.name)} ${mine.type} ${mine.nullable ? 'NULL' : 'NOT NULL'}`;
      base.pending = { ...rec.pending, [shard]: { position, ddls: [stmt] } };
      return { record: base, apply: true, statements: [stmt] };
    }
    // skip: the target keeps the column as it is.
    const cur = 'schema' in before ? before.schema.columns.find((c) => c.name.toLowerCase() === col) : undefined;
    if (cur) base.overrides = { ...rec.overrides, [col]: cur.type };
    return { record: base, apply: false };
  }
  const next = joinSchemas(shards, base.overrides);
  if ('conflict' in next) {
    const c = next.conflict;
    const other = c.shardA === shard ? c.shardB : c.shardA;
    const otherDdls = rec.shards[other]?.lastDdl ?? [];
    const conflict: OptimisticConflict = {
      shard, ddls, position, column: c.column, withShard: other, withDdls: otherDdls,
      reason: `column ${c.column} is ${c.shardA === shard ? c.a : c.b} on ${shard} but ${c.shardA === shard ? c.b : c.a} on ${other}`,
    };
    const error = new DmError('ShardDdlConflict',
      `optimistic shard DDL conflict on ${rec.targetSchema}.${rec.targetTable}: ${conflict.reason}. ${shard}: ${ddls.join('; ')} | ${other}: ${otherDdls.join('; ') || '(its structure when it joined)'}`,
      { context: { sql: ddls.join('; '), position, table: `${rec.targetSchema}.${rec.targetTable}` } });
    return { conflictRecord: { ...rec, conflict, updatedAt: now }, error };
  }
  const changed = !('schema' in before) || !sameSchema(before.schema, next.schema);
  if (changed) base.pending = { ...rec.pending, [shard]: { position, ddls } };
  return { record: base, apply: changed };
}
