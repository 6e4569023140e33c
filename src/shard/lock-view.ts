import { lockId, type ShardLockRecord, type ShardState, waitingShards } from './lock.ts';
import type { OptimisticConflict, OptimisticLockRecord } from './optimistic.ts';

/** What `dm_locks` holds: one record kind per shard mode (lock.ts: pessimistic; optimistic.ts: optimistic). */
export type DmLockRecord = ShardLockRecord | OptimisticLockRecord;

/**
 * A `dm_locks` value as a lock record, or undefined when it is not one (KV values are read, never trusted): the
 * fields every reader relies on must be there.
 */
export function asLockRecord(v: unknown): DmLockRecord | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.task !== 'string' || typeof r.targetSchema !== 'string' || typeof r.targetTable !== 'string')
    return undefined;
  if (r.mode !== 'pessimistic' && r.mode !== 'optimistic') return undefined;
  if (!r.shards || typeof r.shards !== 'object') return undefined;
  const shards = Object.values(r.shards as Record<string, unknown>);
  if (!shards.every((s) => s && typeof s === 'object')) return undefined;
  if (typeof r.stage !== 'string' || !Array.isArray(r.ddls)) return undefined;
  if (r.mode === 'pessimistic') {
    if (!Array.isArray(r.sources) || !Array.isArray(r.joined)) return undefined;
    const named = (s: unknown) =>
      typeof (s as ShardState).source === 'string' && typeof (s as ShardState).table === 'string';
    if (!shards.every(named)) return undefined;
  }
  return v as DmLockRecord;
}

/** A lock as every view shows it (`query-status`, `shard-ddl-lock`, and the dashboard's rows). */
export interface LockView {
  id: string;
  task: string;
  /** `schema.table` downstream. */
  target: string;
  mode: DmLockRecord['mode'];
  stage: string;
  owner: string;
  ddls: string[];
  /** Shards (`source/schema.table`) that reached the DDL; for an optimistic lock, every shard it holds. */
  reached: string[];
  /** Shards still to reach it, and sources not joined yet (pessimistic only). */
  waiting: string[];
  createdAt: string;
  resolution?: 'exec' | 'skip';
  conflict?: OptimisticConflict;
}

export function lockView(rec: DmLockRecord): LockView {
  const base = {
    id: lockId(rec),
    task: rec.task,
    target: `${rec.targetSchema}.${rec.targetTable}`,
    stage: rec.stage,
    owner: rec.owner ?? '',
    ddls: rec.ddls ?? [],
    createdAt: rec.createdAt,
    ...(rec.resolution ? { resolution: rec.resolution } : {}),
  };
  if (rec.mode === 'optimistic') {
    return {
      ...base,
      mode: rec.mode,
      reached: Object.keys(rec.shards).sort(),
      waiting: [],
      ...(rec.conflict ? { conflict: rec.conflict } : {}),
    };
  }
  return {
    ...base,
    mode: rec.mode,
    reached: Object.values(rec.shards)
      .filter((s) => s.reached)
      .map((s) => `${s.source}/${s.table}`)
      .sort(),
    waiting: waitingShards(rec),
  };
}

/** The lock as text, the same in `query-status` and `shard-ddl-lock`: a head line, then indented details. */
export function lockLines(v: LockView, nowMs: number): string[] {
  const age = Math.max(0, Math.round((nowMs - Date.parse(v.createdAt)) / 1000));
  const state =
    v.mode === 'optimistic' ? `shards ${v.reached.length}${v.conflict ? '  CONFLICT' : ''}` : `stage ${v.stage}`;
  const lines = [
    `${v.id}  ${v.mode}  ${state}${v.resolution ? ` (unlock ${v.resolution})` : ''}  owner ${v.owner || '-'}  age ${Number.isNaN(age) ? '-' : `${age}s`}`,
  ];
  if (v.mode === 'pessimistic') {
    lines.push(`  DDL      ${v.ddls.join('; ') || '-'}`);
    lines.push(`  reached  ${v.reached.join(', ') || '-'}`);
    lines.push(`  waiting  ${v.waiting.join(', ') || '-'}`);
  }
  if (v.conflict) {
    lines.push(`  conflict ${v.conflict.reason}`);
    lines.push(`  ${v.conflict.shard}: ${v.conflict.ddls.join('; ')}`);
    lines.push(`  ${v.conflict.withShard}: ${v.conflict.withDdls.join('; ')}`);
  }
  return lines;
}
