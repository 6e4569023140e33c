/**
 * DM's documented query-status JSON (pingcap/tiflow dm/proto dmworker.proto + dmmaster.proto, printed by jsonpb with
 * EmitDefaults; DM docs "Query Task Status"), as field names and types: int64 fields are strings of digits, enums their
 * names, unset messages null. `assertDmStatusList` / `assertDmTaskList` check a `--format dm` document against it.
 */
import assert from 'node:assert/strict';

type Kind = 'bool' | 'str' | 'i64' | 'num' | 'strs' | 'obj?' | 'arr';
const STAGES = ['New', 'Running', 'Paused', 'Stopped', 'Finished'];
const UNITS = ['Check', 'Dump', 'Load', 'Sync'];

const SYNC: Record<string, Kind> = {
  totalEvents: 'i64',
  totalTps: 'i64',
  recentTps: 'i64',
  masterBinlog: 'str',
  masterBinlogGtid: 'str',
  syncerBinlog: 'str',
  syncerBinlogGtid: 'str',
  blockingDDLs: 'strs',
  unresolvedGroups: 'arr',
  synced: 'bool',
  binlogType: 'str',
  secondsBehindMaster: 'i64',
  blockDDLOwner: 'str',
  conflictMsg: 'str',
  totalRows: 'i64',
  totalRps: 'i64',
  recentRps: 'i64',
};
const LOAD: Record<string, Kind> = {
  finishedBytes: 'i64',
  totalBytes: 'i64',
  progress: 'str',
  metaBinlog: 'str',
  metaBinlogGTID: 'str',
  bps: 'i64',
};
const DUMP: Record<string, Kind> = {
  totalTables: 'i64',
  completedTables: 'num',
  finishedBytes: 'num',
  finishedRows: 'num',
  estimateTotalRows: 'num',
  bps: 'i64',
  progress: 'str',
};
const PROCESS_ERROR: Record<string, Kind> = {
  ErrCode: 'num',
  ErrClass: 'str',
  ErrScope: 'str',
  ErrLevel: 'str',
  Message: 'str',
  RawCause: 'str',
  Workaround: 'str',
};
const RELAY: Record<string, Kind> = {
  masterBinlog: 'str',
  masterBinlogGtid: 'str',
  relaySubDir: 'str',
  relayBinlog: 'str',
  relayBinlogGtid: 'str',
  relayCatchUpMaster: 'bool',
  stage: 'str',
  result: 'obj?',
};

function kindOk(v: unknown, k: Kind): boolean {
  switch (k) {
    case 'bool':
      return typeof v === 'boolean';
    case 'str':
      return typeof v === 'string';
    case 'i64':
      return typeof v === 'string' && /^-?\d+$/.test(v);
    case 'num':
      return typeof v === 'number';
    case 'strs':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'obj?':
      return v === null || (typeof v === 'object' && !Array.isArray(v));
    case 'arr':
      return Array.isArray(v);
  }
}

function fields(o: unknown, spec: Record<string, Kind>, where: string): void {
  assert.ok(o && typeof o === 'object', `${where}: an object`);
  const rec = o as Record<string, unknown>;
  assert.deepEqual(Object.keys(rec).sort(), Object.keys(spec).sort(), `${where}: DM's field names`);
  for (const [k, kind] of Object.entries(spec))
    assert.ok(kindOk(rec[k], kind), `${where}.${k}: ${kind}, got ${JSON.stringify(rec[k])}`);
}

function processResult(r: unknown, where: string): void {
  if (r === null) return;
  fields(r, { isCanceled: 'bool', errors: 'arr', detail: 'obj?' }, where);
  for (const [i, e] of (r as { errors: unknown[] }).errors.entries()) fields(e, PROCESS_ERROR, `${where}.errors[${i}]`);
}

/** A `SubTaskStatus`: name, stage, unit, result, unresolvedDDLLockID, one of check/dump/load/sync, validation. */
export function assertDmSubTask(st: unknown, where = 'subTaskStatus'): void {
  const rec = st as Record<string, unknown>;
  const unitKeys = Object.keys(rec).filter((k) => ['msg', 'check', 'dump', 'load', 'sync'].includes(k));
  assert.ok(unitKeys.length <= 1, `${where}: at most one of the status oneof, got ${unitKeys}`);
  const spec: Record<string, Kind> = {
    name: 'str',
    stage: 'str',
    unit: 'str',
    result: 'obj?',
    unresolvedDDLLockID: 'str',
    validation: 'obj?',
    ...(unitKeys[0] ? { [unitKeys[0]]: 'obj?' as const } : {}),
  };
  fields(rec, spec, where);
  assert.ok(STAGES.includes(rec.stage as string), `${where}.stage ${String(rec.stage)}`);
  assert.ok(UNITS.includes(rec.unit as string), `${where}.unit ${String(rec.unit)}`);
  processResult(rec.result, `${where}.result`);
  if (rec.sync) fields(rec.sync, SYNC, `${where}.sync`);
  if (rec.load) fields(rec.load, LOAD, `${where}.load`);
  if (rec.dump) fields(rec.dump, DUMP, `${where}.dump`);
}

/** `query-status TASK`: DM's QueryStatusListResponse. */
export function assertDmStatusList(doc: unknown): void {
  fields(doc, { result: 'bool', msg: 'str', sources: 'arr' }, 'doc');
  for (const [i, s] of (doc as { sources: unknown[] }).sources.entries()) {
    const w = `sources[${i}]`;
    fields(s, { result: 'bool', msg: 'str', sourceStatus: 'obj?', subTaskStatus: 'arr' }, w);
    const src = s as { sourceStatus: unknown; subTaskStatus: unknown[] };
    fields(
      src.sourceStatus,
      { source: 'str', worker: 'str', result: 'obj?', relayStatus: 'obj?' },
      `${w}.sourceStatus`,
    );
    const relay = (src.sourceStatus as { relayStatus: unknown }).relayStatus;
    if (relay) {
      fields(relay, RELAY, `${w}.sourceStatus.relayStatus`);
      processResult((relay as { result: unknown }).result, `${w}.sourceStatus.relayStatus.result`);
    }
    for (const [j, st] of src.subTaskStatus.entries()) assertDmSubTask(st, `${w}.subTaskStatus[${j}]`);
  }
}

/** `query-status` without a task: DM dmctl's task list. */
export function assertDmTaskList(doc: unknown): void {
  fields(doc, { result: 'bool', msg: 'str', tasks: 'arr' }, 'doc');
  for (const [i, t] of (doc as { tasks: unknown[] }).tasks.entries())
    fields(t, { taskName: 'str', taskStatus: 'str', sources: 'strs' }, `tasks[${i}]`);
}
