/**
 * Optimistic shard merge, the pure parts: a multi-clause ALTER decided per clause (first ADD runs, DROP waits for the
 * last shard, a conflict anywhere runs nothing), generated columns and defaults in the join, the clause steps built
 * from the schema tracker, and the writer keeping each row's own column list.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDdl } from '../../src/schema/apply-ddl.ts';
import { SchemaTracker } from '../../src/schema/model.ts';
import { toTableInfo } from '../../src/schema/from-server.ts';
import {
  newOptimisticLock,
  optimisticSteps,
  type DdlStep,
  type OptimisticLockRecord,
} from '../../src/shard/optimistic.ts';
import { joinSchemas, type ShardColumn, type ShardSchema } from '../../src/shard/schema-join.ts';
import { alterClauses } from '../../src/sql/ddl.ts';
import { Optimist } from '../../agent/shard/optimist.ts';
import { writerStatements } from '../../agent/sync/writer-sql.ts';
import type { RoutedChange } from '../../agent/sync/dispatcher.ts';

const NOW = '2026-12-03T00:00:00.000Z';
const T = { schema: 'm', table: 't' };
const PREFIX = 'ALTER TABLE `m`.`t` ';

const col = (name: string, type = 'int(11)', more: Partial<ShardColumn> = {}): ShardColumn => ({
  name,
  type,
  nullable: true,
  hasDefault: true,
  ...more,
});
const ID = col('id', 'int(11)', { nullable: false, hasDefault: false });
const A = col('a', 'int(11)', { nullable: false, hasDefault: false });
const B = col('b', 'varchar(20)');
const C = col('c');
const W3 = col('w', 'int(11)', { generated: { expr: 'a * 3', stored: false }, hasDefault: false });
const sch = (...columns: ShardColumn[]): ShardSchema => ({ columns, indexes: [] });

function lock(...shards: [string, ShardSchema][]): OptimisticLockRecord {
  const rec = newOptimisticLock('task', T, NOW);
  for (const [key, schema] of shards) rec.shards[key] = { source: key.split('/')[0]!, table: 'd.t', schema };
  return rec;
}

/** Steps of one ALTER: the clauses in order, each with the structure after it. */
function steps(sql: string, schemas: ShardSchema[]): DdlStep[] {
  const split = alterClauses(sql)!;
  return split.clauses.map((clause, k) => ({ prefix: split.prefix, clause, schema: schemas[k]!, statement: 0 }));
}

function ok(d: ReturnType<typeof optimisticSteps>): { record: OptimisticLockRecord; run: string[] } {
  if ('error' in d) assert.fail(d.error.message);
  return d;
}

test("per clause: the first shard's ADD runs, its DROP waits for the last shard; the last shard's DROP runs alone", () => {
  let rec = lock(['s1/d.t', sch(ID, A, B)], ['s2/d.t', sch(ID, A, B)]);
  let d = ok(
    optimisticSteps(
      rec,
      's1/d.t',
      's1',
      'd.t',
      steps(`${PREFIX}ADD COLUMN c INT NULL, DROP COLUMN b`, [sch(ID, A, B, C), sch(ID, A, C)]),
      'f.1:10',
      NOW,
    ),
  );
  assert.deepEqual(d.run, [`${PREFIX}ADD COLUMN c INT NULL`]);
  assert.deepEqual(d.record.pending?.['s1/d.t'], { position: 'f.1:10', ddls: d.run });
  assert.deepEqual(d.record.shards['s1/d.t']!.schema, sch(ID, A, C));
  rec = { ...d.record };
  delete rec.pending; // step 3 done
  d = ok(
    optimisticSteps(
      rec,
      's2/d.t',
      's2',
      'd.t',
      steps(`${PREFIX}DROP COLUMN b, ADD COLUMN c INT NULL`, [sch(ID, A), sch(ID, A, C)]),
      'f.2:10',
      NOW,
    ),
  );
  assert.deepEqual(d.run, [`${PREFIX}DROP COLUMN b`]);
  const j = joinSchemas(d.record.shards, d.record.overrides);
  assert.ok('schema' in j && j.schema.columns.map((c) => c.name).join() === 'id,a,c');
});

test('per clause: clauses that all change the join run as one statement (ADD c NOT NULL DEFAULT, ADD UNIQUE (c) need each other)', () => {
  const rec = lock(['s1/d.t', sch(ID, A)], ['s2/d.t', sch(ID, A)]);
  const c2 = col('c', 'int(11)', { nullable: false, hasDefault: true });
  const d = ok(
    optimisticSteps(
      rec,
      's1/d.t',
      's1',
      'd.t',
      [
        ...steps(`${PREFIX}ADD c INT NOT NULL DEFAULT 0, ADD UNIQUE uc (c)`, [
          sch(ID, A, c2),
          { columns: [ID, A, c2], indexes: ['uc'] },
        ]),
      ],
      'f.1:20',
      NOW,
    ),
  );
  assert.deepEqual(d.run, [`${PREFIX}ADD c INT NOT NULL DEFAULT 0, ADD UNIQUE uc (c)`]);
});

test('a generated column joins by expression and storage: the same one (spelled differently) is no change, another is a conflict that runs no clause', () => {
  const rec0 = lock(['s1/d.t', sch(ID, A, B)], ['s2/d.t', sch(ID, A, B)]);
  const d1 = ok(
    optimisticSteps(
      rec0,
      's1/d.t',
      's1',
      'd.t',
      steps(`${PREFIX}ADD COLUMN w INT AS (a * 3) VIRTUAL`, [sch(ID, A, B, W3)]),
      'f.1:30',
      NOW,
    ),
  );
  assert.equal(d1.run.length, 1);
  const rec = { ...d1.record };
  delete rec.pending;
  const same = col('w', 'int(11)', { generated: { expr: '`a`*3', stored: false }, hasDefault: false });
  assert.deepEqual(
    ok(
      optimisticSteps(
        rec,
        's2/d.t',
        's2',
        'd.t',
        steps(`${PREFIX}ADD COLUMN w INT AS (\`a\`*3) VIRTUAL`, [sch(ID, A, B, same)]),
        'f.2:30',
        NOW,
      ),
    ).run,
    [],
  );

  const W4 = col('w', 'int(11)', { generated: { expr: 'a * 4', stored: false }, hasDefault: false });
  const X = col('x');
  const bad = optimisticSteps(
    rec,
    's2/d.t',
    's2',
    'd.t',
    steps(`${PREFIX}ADD COLUMN x INT NULL, ADD COLUMN w INT AS (a * 4) VIRTUAL`, [
      sch(ID, A, B, X),
      sch(ID, A, B, X, W4),
    ]),
    'f.2:31',
    NOW,
  );
  assert.ok(
    'error' in bad &&
      bad.error.code === 'TSDM-50008' &&
      /column w/.test(bad.error.message) &&
      /a \* 4/.test(bad.error.message),
    'error' in bad ? bad.error.message : 'no conflict',
  );
  // Nothing of the event is in the record: s2 keeps its structure from before it; the conflict names the clause.
  assert.deepEqual(bad.conflictRecord.shards['s2/d.t']!.schema, sch(ID, A, B));
  assert.equal(bad.conflictRecord.conflict?.position, 'f.2:31#1');

  // unlock --action skip: the event is taken again; ADD x runs, w keeps the target's definition from now on.
  const skipped = ok(
    optimisticSteps(
      { ...bad.conflictRecord, resolution: 'skip' },
      's2/d.t',
      's2',
      'd.t',
      steps(`${PREFIX}ADD COLUMN x INT NULL, ADD COLUMN w INT AS (a * 4) VIRTUAL`, [
        sch(ID, A, B, X),
        sch(ID, A, B, X, W4),
      ]),
      'f.2:31',
      NOW,
    ),
  );
  assert.deepEqual(skipped.run, [`${PREFIX}ADD COLUMN x INT NULL`]);
  assert.equal(skipped.record.conflict, undefined);
  const j = joinSchemas(skipped.record.shards, skipped.record.overrides, skipped.record.overrideCols);
  assert.ok('schema' in j && j.schema.columns.find((c) => c.name === 'w')?.generated?.expr === 'a * 3');

  // unlock --action exec instead: the target's w takes this shard's expression.
  const exec = ok(
    optimisticSteps(
      { ...bad.conflictRecord, resolution: 'exec' },
      's2/d.t',
      's2',
      'd.t',
      steps(`${PREFIX}ADD COLUMN x INT NULL, ADD COLUMN w INT AS (a * 4) VIRTUAL`, [
        sch(ID, A, B, X),
        sch(ID, A, B, X, W4),
      ]),
      'f.2:31',
      NOW,
    ),
  );
  assert.deepEqual(exec.run, [
    `${PREFIX}ADD COLUMN x INT NULL`,
    `${PREFIX}MODIFY COLUMN \`w\` int(11) AS (a * 4) VIRTUAL`,
  ]);
});

test('a NOT NULL column without a default on one shard only joins: the other shards write their rows without it (DM_107)', () => {
  const rec = lock(['s1/d.t', sch(ID, A)], ['s2/d.t', sch(ID, A)]);
  const N = col('n', 'int(11)', { nullable: false, hasDefault: false });
  const add = (strict: boolean) =>
    optimisticSteps(
      rec,
      's1/d.t',
      's1',
      'd.t',
      steps(`${PREFIX}ADD COLUMN n INT NOT NULL`, [sch(ID, A, N)]),
      'f.1:40',
      NOW,
      strict,
    );
  assert.deepEqual(ok(add(false)).run, [`${PREFIX}ADD COLUMN n INT NOT NULL`]);
  // strict-optimistic-shard-mode: a conflict (DM's DM_STRICT_OPTIMISTIC_DOUBLE_SOURCE).
  const bad = add(true);
  assert.ok(
    'error' in bad && /column n is int\(11\) NOT NULL without a default on s1\/d\.t but absent/.test(bad.error.message),
    'error' in bad ? bad.error.message : 'no conflict',
  );
});

test('DEFAULT values join as in DM (shardddl4 DM_129, DM_130): none joins any, two different ones conflict', () => {
  const b = (more: Partial<ShardColumn>) => col('b', 'int(11)', more);
  const rec = lock(['s1/d.t', sch(ID, b({}))], ['s2/d.t', sch(ID, b({}))], ['s3/d.t', sch(ID, b({}))]);
  // s1: MODIFY b INT DEFAULT 0 — the target takes the default (it changed the join).
  const d1 = ok(
    optimisticSteps(
      rec,
      's1/d.t',
      's1',
      'd.t',
      steps(`${PREFIX}MODIFY b INT DEFAULT 0`, [sch(ID, b({ default: '0' }))]),
      'f.1:50',
      NOW,
    ),
  );
  assert.equal(d1.run.length, 1);
  const r1 = { ...d1.record };
  delete r1.pending;
  // s2: MODIFY b INT DEFAULT -1 — conflicts with s1's 0, named in the message.
  const bad = optimisticSteps(
    r1,
    's2/d.t',
    's2',
    'd.t',
    steps(`${PREFIX}MODIFY b INT DEFAULT -1`, [sch(ID, b({ default: '-1' }))]),
    'f.2:50',
    NOW,
  );
  assert.ok(
    'error' in bad &&
      /column b is int\(11\) DEFAULT -1 on s2\/d\.t but int\(11\) DEFAULT 0 on s1\/d\.t/.test(bad.error.message),
    'error' in bad ? bad.error.message : 'no conflict',
  );
  // unlock skip: the target keeps DEFAULT 0, fixed for later joins (DM_130 needs a skip per shard: here one decides).
  const skipped = ok(
    optimisticSteps(
      { ...bad.conflictRecord, resolution: 'skip' },
      's2/d.t',
      's2',
      'd.t',
      steps(`${PREFIX}MODIFY b INT DEFAULT -1`, [sch(ID, b({ default: '-1' }))]),
      'f.2:50',
      NOW,
    ),
  );
  assert.deepEqual(skipped.run, []);
  const j = joinSchemas(skipped.record.shards, skipped.record.overrides, skipped.record.overrideCols);
  assert.ok('schema' in j && j.schema.columns.find((c) => c.name === 'b')?.default === '0');
});

test("Optimist.steps: one step per clause, the shard's structure after each from the tracker, named as the target", () => {
  const tracker = new SchemaTracker();
  for (const sql of [
    'CREATE DATABASE d',
    'CREATE TABLE d.t1 (id int primary key, a int not null, b varchar(20), v int as (a*2) virtual)',
  ])
    assert.ok(applyDdl(tracker, sql, '').ok);
  const before = tracker.toJSON();
  const upstream = 'ALTER TABLE d.t1 ADD COLUMN c INT NULL, ADD COLUMN w INT AS (a * 3) VIRTUAL, DROP COLUMN b';
  assert.ok(applyDdl(tracker, upstream, '').ok);
  const routed = 'ALTER TABLE `m`.`t` ADD COLUMN c INT NULL, ADD COLUMN w INT AS (a * 3) VIRTUAL, DROP COLUMN b';
  const s = Optimist.steps('d', 't1', T, [routed], before, tracker.toJSON());
  assert.deepEqual(
    s.map((x) => x.clause),
    ['ADD COLUMN c INT NULL', 'ADD COLUMN w INT AS (a * 3) VIRTUAL', 'DROP COLUMN b'],
  );
  assert.deepEqual(
    s.map((x) => x.schema.columns.map((c) => c.name).join()),
    ['id,a,b,v,c', 'id,a,b,v,c,w', 'id,a,v,c,w'],
  );
  assert.deepEqual(s[1]!.schema.columns.find((c) => c.name === 'w')?.generated, { expr: 'a * 3', stored: false });
  assert.equal(s[0]!.schema.columns.find((c) => c.name === 'a')?.hasDefault, false);
  // Without the structure before the event (or a clause the tracker cannot model): the event is one step.
  assert.deepEqual(
    Optimist.steps('d', 't1', T, [routed], undefined, tracker.toJSON()).map((x) => [x.clause, x.schema.columns.length]),
    [[routed, 5]],
  );
});

test('writer: rows of one target with different column lists never share a VALUES list; generated columns are never written', () => {
  const tracker = new SchemaTracker();
  for (const sql of [
    'CREATE DATABASE d',
    'CREATE TABLE d.g1 (id int primary key, a int not null, c int, v int as (a*2) virtual)',
    'CREATE TABLE d.g2 (id int primary key, a int not null, b varchar(20), v int as (a*2) virtual)',
    'CREATE TABLE d.k1 (a int, c int)',
    'CREATE TABLE d.k2 (a int, b int)',
  ])
    assert.ok(applyDdl(tracker, sql, '').ok);
  const info = (t: string) => toTableInfo(tracker.get('d', t)!);
  const end = { name: 'f.1', pos: 1 };
  const rc = (t: string, after: Record<string, string>, key: string[]): RoutedChange => ({
    change: { op: 'insert', schema: 'd', table: t, info: info(t), after },
    target: { schema: 'm', table: 'g' },
    info: info(t),
    key,
    txnEnd: end,
  });
  const keyed = writerStatements([
    rc('g1', { id: '1', a: '1', c: '5', v: '2' }, ['id']),
    rc('g2', { id: '2', a: '2', b: 'x', v: '4' }, ['id']),
    rc('g1', { id: '3', a: '3', c: '6', v: '6' }, ['id']),
  ]);
  assert.deepEqual(keyed, [
    "REPLACE INTO `m`.`g` (`id`,`a`,`c`) VALUES ('1','1','5'),('3','3','6')",
    "REPLACE INTO `m`.`g` (`id`,`a`,`b`) VALUES ('2','2','x')",
  ]);
  const keyless = writerStatements([
    rc('k1', { a: '1', c: '5' }, []),
    rc('k2', { a: '2', b: '7' }, []),
    rc('k2', { a: '3', b: '8' }, []),
  ]);
  assert.deepEqual(keyless, [
    "INSERT INTO `m`.`g` (`a`,`c`) VALUES ('1','5')",
    "INSERT INTO `m`.`g` (`a`,`b`) VALUES ('2','7'),('3','8')",
  ]);
});

test('register: shards recorded before generated columns and defaults joined take their structure again from the tracker', async () => {
  const tracker = new SchemaTracker();
  for (const sql of [
    'CREATE DATABASE d',
    'CREATE TABLE d.t1 (id int primary key, a int not null, v int as (a*2) virtual)',
  ])
    assert.ok(applyDdl(tracker, sql, '').ok);
  const old = lock([
    's1/d.t1',
    {
      columns: [
        { name: 'id', type: 'int(11)', nullable: false },
        { name: 'a', type: 'int(11)', nullable: false },
      ],
      indexes: [],
    },
  ]);
  let stored: OptimisticLockRecord = old;
  // An in-memory stand-in for the dm_locks record of one target (the CAS loop is not what is tested here).
  const locks = {
    async mutate(_t: unknown, fn: (cur: unknown) => unknown) {
      const next = fn(stored);
      if (next) stored = next as OptimisticLockRecord;
      return next;
    },
  } as unknown as ConstructorParameters<typeof Optimist>[1];
  const ctx = {
    spec: { sourceId: 's1' },
    task: { name: 'task' },
    rules: { allowTable: () => true, route: () => T },
  } as unknown as ConstructorParameters<typeof Optimist>[0];
  await new Optimist(ctx, locks).register(tracker);
  const cols = stored.shards['s1/d.t1']!.schema.columns;
  assert.deepEqual(
    cols.map((c) => [c.name, c.hasDefault, c.generated?.expr]),
    [
      ['id', false, undefined],
      ['a', false, undefined],
      ['v', false, 'a*2'],
    ],
  );
  // Recorded in the current form: left as it is (the record may be ahead of the tracker after a restart).
  const again = stored;
  await new Optimist(ctx, locks).register(tracker);
  assert.equal(stored, again);
});
