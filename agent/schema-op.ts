import type { Connection } from 'mysql2/promise';
import { Op, type BinlogSchemaRequest, type BinlogSchemaResult, type Coord } from '../src/coord/index.ts';
import { DmError } from '../src/errors/index.ts';
import { EventKind } from '../src/events/record.ts';
import { SchemaTracker, tableOf, type TrackedTable } from '../src/schema/model.ts';
import { showCreateTable, tableFromCreate } from '../src/schema/show-create.ts';
import { shardKey, type ShardLockRecord } from '../src/shard/lock.ts';
import type { OptimisticLockRecord } from '../src/shard/optimistic.ts';
import { SHARD_FORMAT } from '../src/shard/schema-join.ts';
import { tableKey } from '../src/sql/table-name.ts';
import { CheckpointStore } from './checkpoint.ts';
import { connect } from './db/mysql.ts';
import { liveTrackedTable } from './db/tracked.ts';
import type { OpHandler } from './op-registry.ts';
import { buildRules } from './rules.ts';
import { KvShardLocks } from './shard/locks.ts';
import { Optimist } from './shard/optimist.ts';
import type { Subtask } from './subtask.ts';

/**
 * `binlog-schema` (dmctl binlog-schema list|update|delete, DM's operate-schema): a table's schema as the subtask's
 * tracker holds it at the checkpoint (`<task>_schema_tracker` in the downstream meta schema: checkpoint.ts). The
 * tracker lives there and nowhere else while the subtask is paused, so a change written there is durable (an agent
 * restart reads it) and is what the sync unit starts from when the task resumes (sync/resume.ts). list, update and
 * delete run only while the subtask stands paused (DM's subtask.OperateSchema refuses them otherwise), and a resume
 * waits for them (subtask-edits.ts).
 *
 * After a delete, the table's next event takes its structure from the upstream as it is then (agent/binlog/
 * event-schema.ts, with a warning), as a table the tracker never held.
 */
export function binlogSchemaOp(
  agent: string,
  coord: Coord,
  find: (task: string, source: string) => Subtask | undefined,
): OpHandler {
  return {
    op: Op.binlogSchema,
    to: 'agent',
    async handle(p: unknown): Promise<BinlogSchemaResult> {
      const req = p as BinlogSchemaRequest;
      if (!req || typeof req.task !== 'string' || typeof req.source !== 'string' || !req.database || !req.table)
        throw new DmError('Internal', 'binlog-schema needs task, source, database and table');
      const st = find(req.task, req.source);
      if (!st)
        throw new DmError('SubtaskNotHere', `task ${req.task} does not run source ${req.source} on agent ${agent}`, {
          context: { task: req.task, source: req.source },
        });
      const { task, term } = st.setup;
      const ckpt = new CheckpointStore(task.metaSchema, task.name, req.source, { agent, term });
      const down = await connect(task.targetDatabase, 'downstream');
      try {
        // DM's subtask.OperateSchema: every operation on a table's schema needs the subtask Paused, list too.
        if (req.action === 'list')
          return await st.whilePaused(async () => {
            const tracker = await readTracker(ckpt, down, req);
            return { source: req.source, schema: showCreateTable(tracked(tracker, req)) };
          });
        return await st.whilePaused(() => change(st, coord, ckpt, down, req));
      } finally {
        down.destroy();
      }
    },
  };
}

async function readTracker(ckpt: CheckpointStore, down: Connection, req: BinlogSchemaRequest): Promise<SchemaTracker> {
  const saved = await ckpt.readTracker(down);
  if (saved === undefined)
    throw new DmError(
      'SchemaTableUnknown',
      `task ${req.task} source ${req.source} has no tracked schema yet (its sync has not started)`,
      { context: { task: req.task, source: req.source } },
    );
  return SchemaTracker.fromJSON(saved);
}

function tracked(tracker: SchemaTracker, req: BinlogSchemaRequest): TrackedTable {
  const t = tracker.get(req.database, req.table);
  if (!t)
    throw new DmError(
      'SchemaTableUnknown',
      `the schema tracker of task ${req.task} source ${req.source} holds no table ${req.database}.${req.table}`,
      { context: { task: req.task, source: req.source, table: `${req.database}.${req.table}` } },
    );
  return t;
}

/** update or delete, with the subtask paused: the stored tracker changed in one fenced transaction. */
async function change(
  st: Subtask,
  coord: Coord,
  ckpt: CheckpointStore,
  down: Connection,
  req: BinlogSchemaRequest,
): Promise<BinlogSchemaResult> {
  const { task, spec } = st.setup;
  const tracker = await readTracker(ckpt, down, req);
  const name = { schema: tracker.fold(req.database), table: tracker.fold(req.table) };
  const at = `${name.schema}.${name.table}`;
  // Ownership as the subtask's own runs take it: this agent is the bound one, and the subtask writes nothing now.
  await ckpt.claim(down);
  if (req.action === 'delete') {
    tracked(tracker, req);
    tracker.drop(name.schema, name.table);
    await ckpt.replaceTracker(down, tracker.toJSON());
    st.event({ kind: EventKind.binlogSchema, message: 'tracked schema deleted', table: at, ...by(req) });
    return { source: req.source };
  }
  let t: TrackedTable;
  if (req.from) {
    const rules = buildRules(task, spec);
    const where = req.from === 'source' ? name : rules.route(name.schema, name.table);
    const conn = req.from === 'source' ? await connect(st.setup.source.from, 'upstream') : down;
    try {
      const live = await liveTrackedTable(
        conn,
        req.from === 'source' ? 'upstream' : 'downstream',
        where.schema,
        where.table,
      );
      if (!live)
        throw new DmError(
          'SchemaTableUnknown',
          `${req.from === 'source' ? 'the upstream' : 'the downstream'} has no table ${tableKey(where)}`,
          { context: { task: req.task, source: req.source, table: tableKey(where) } },
        );
      t = tableOf({ ...live, schema: name.schema, table: name.table });
    } finally {
      if (conn !== down) conn.destroy();
    }
  } else {
    if (!req.sql)
      throw new DmError('BadArguments', 'binlog-schema update needs a schema file, --from-source or --from-target');
    t = tableFromCreate(tracker, name.schema, name.table, req.sql);
  }
  // DM creates the database in its tracker when needed; its defaults only matter to later CREATE TABLEs without any.
  if (!tracker.getSchema(name.schema))
    tracker.setSchema({ name: name.schema, charset: tracker.serverCharset, collation: tracker.serverCollation });
  tracker.set(t);
  await ckpt.replaceTracker(down, tracker.toJSON());
  const schema = showCreateTable(tracker.get(name.schema, name.table)!);
  st.event({
    kind: EventKind.binlogSchema,
    message: `tracked schema updated${req.from ? ` from the ${req.from}` : ''}`,
    table: at,
    detail: { schema },
    ...by(req),
  });
  const out: BinlogSchemaResult = { source: req.source, schema };
  if (req.sync && task.shardMode === 'optimistic') {
    const lock = await syncShard(coord, st, name, tracker.get(name.schema, name.table)!);
    if (lock) out.syncedLock = lock;
  }
  return out;
}

function by(req: BinlogSchemaRequest): { by?: string } {
  return req.by ? { by: req.by } : {};
}

/**
 * DM's --sync (optimistic shard mode): the table's shard-DDL lock records `t` as this shard's structure, so the next
 * DDL of any shard is joined against it. Nothing changes when the lock does not know the shard yet (the sync unit
 * registers it from the tracker when it starts: agent/shard/optimist.ts step 1).
 */
async function syncShard(
  coord: Coord,
  st: Subtask,
  name: { schema: string; table: string },
  t: TrackedTable,
): Promise<string | undefined> {
  const { task, spec } = st.setup;
  const rules = buildRules(task, spec);
  if (!rules.allowTable(name.schema, name.table)) return undefined;
  const target = rules.route(name.schema, name.table);
  const k = shardKey(spec.sourceId, tableKey(name));
  const locks = new KvShardLocks(coord, task.name);
  let took = false;
  await locks.mutate(target, (cur) => {
    const next = withShardSchema(cur, k, t, new Date().toISOString());
    took = next !== undefined;
    return next;
  });
  return took ? tableKey(target) : undefined;
}

/** The optimistic lock record `cur` with shard `k`'s structure replaced by `t`; undefined when there is nothing to do
 * (no lock, a pessimistic one, or a shard the lock does not know). */
export function withShardSchema(
  cur: ShardLockRecord | undefined,
  k: string,
  t: TrackedTable,
  now: string,
): ShardLockRecord | undefined {
  const rec = cur as unknown as OptimisticLockRecord | undefined; // one bucket holds both lock kinds
  if (!rec || rec.mode !== 'optimistic' || !rec.shards[k]) return undefined;
  const shards = { ...rec.shards, [k]: { ...rec.shards[k], schema: Optimist.schemaOf(t), v: SHARD_FORMAT } };
  return { ...rec, shards, updatedAt: now } as unknown as ShardLockRecord;
}
