/**
 * Issue #6, acceptance 1 (optimistic) and 3: the same 2 sources x 2 shard tables scenario in optimistic mode (DDL
 * applied at once when it changes the merged table, DML never waits), and a conflict (one shard adds a column as
 * INT, another as VARCHAR) that pauses with TSDM-50008 naming both statements until `shard-ddl-lock unlock` decides.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, type MariaDBInstance } from '../harness/index.ts';
import { startCluster, startTask, status, taskYaml, waitStage, type Cluster } from './helpers.ts';
import {
  SHARD_TASK,
  runShardScenario,
  shardDml,
  startShardTask,
  unionRows,
  waitShardSynced,
} from './shard-fixtures.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

const OPTIMISTIC = SHARD_TASK.replace('shard-mode: pessimistic', 'shard-mode: optimistic');

test('optimistic shard merge: 2 sources x 2 tables, DDL at different moments, union of rows downstream', {
  timeout: 300_000,
}, async () => {
  await runShardScenario(c, 'opt', OPTIMISTIC);
  assert.equal((await c.ctl(['stop-task', 'opt'])).code, 0);
});

test('optimistic conflict: TSDM-50008 names both statements; unlock --action exec makes the target take the column and the task converges', {
  timeout: 300_000,
}, async () => {
  const [up1, up2] = c.sb.upstreams as [MariaDBInstance, MariaDBInstance];
  const shards = await startShardTask(c, 'conf', OPTIMISTIC, 20);
  await up1.query(
    "ALTER TABLE shard.t1 ADD COLUMN c2 INT NULL; INSERT INTO shard.t1 (id, name, c2) VALUES (1000900, 'x', 7)",
  );
  await waitFor(
    async () => (await status(c, 'conf')).sources.every((s) => s.sync?.caughtUp),
    60_000,
    'first ADD COLUMN applied',
  );
  await up2.query(
    "ALTER TABLE shard.t1 ADD COLUMN c2 VARCHAR(20) NULL; INSERT INTO shard.t1 (id, name, c2) VALUES (3000900, 'y', 'seven')",
  );
  let message = '';
  await waitFor(
    async () => {
      const s = (await status(c, 'conf')).sources.find((x) => x.error?.code === 'TSDM-50008');
      message = s?.error?.message ?? '';
      return s?.stage === 'Paused';
    },
    60_000,
    'TSDM-50008 on source2',
  );
  assert.match(message, /source2\/shard\.t1: ALTER TABLE .*VARCHAR\(20\)/i);
  assert.match(message, /source1\/shard\.t1: ALTER TABLE .*c2.* INT/i);
  const shown = await c.ctl(['shard-ddl-lock', 'conf']);
  assert.match(shown.stdout, /CONFLICT/);
  const id = /^(conf-\S+)/m.exec(shown.stdout)?.[1];
  assert.ok(id, shown.stdout);
  const r = await c.ctl(['shard-ddl-lock', 'unlock', id, '--action', 'exec']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await c.ctl(['resume-task', 'conf'])).code, 0);
  shards[0]!.cols.push('c2');
  shards[2]!.cols.push('c2');
  shards[0]!.next = 1000;
  shards[2]!.next = 1000;
  for (const s of shards) await shardDml(s, 10);
  await waitShardSynced(c, 'conf');
  const cols = await c.sb.downstream.query(
    `SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'conf' AND TABLE_NAME = 't' AND COLUMN_NAME = 'c2'`,
  );
  assert.equal(String(cols[0]?.COLUMN_TYPE), 'varchar(20)');
  const got = (await c.sb.downstream.query('SELECT id, name, c2 FROM conf.t'))
    .map((x: Record<string, unknown>) => JSON.stringify(Object.values(x).map((v) => (v === null ? null : String(v)))))
    .sort();
  assert.deepEqual(got, await unionRows(shards, ['id', 'name', 'c2']));
  // A DDL that leaves the shard's structure as it was (a table option; a partition) runs downstream at once, from
  // the first shard that has it, as in DM (shardddl2 ADD/DROP PARTITION).
  await up1.query("ALTER TABLE shard.t1 COMMENT = 'merged copy'");
  await waitFor(
    async () =>
      String(
        (
          await c.sb.downstream.query(
            "SELECT TABLE_COMMENT AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'conf' AND TABLE_NAME = 't'",
          )
        )[0]?.c,
      ) === 'merged copy',
    30_000,
    'the table option reached the merged table',
  );
});

test("optimistic RENAME TABLE pauses with DM's 36068 text (a binlog skip lets the shard go on under its new name); a RENAME COLUMN pauses with TSDM-50008 (DM's strict mode)", {
  timeout: 180_000,
}, async () => {
  const shards = await startShardTask(c, 'oren', OPTIMISTIC, 10);
  const paused = async (code: string) => {
    const v = await waitStage(c, 'oren', (t) => t.sources.some((s) => s.stage === 'Paused' && s.error), code);
    const s = v.sources.find((x) => x.error)!;
    assert.equal(s.error!.code, code, s.error!.message);
    assert.match(s.error!.context?.position ?? '', /^binlog\.\d+:\d+$/);
    return { source: s.source, err: s.error! };
  };
  const ren = 'RENAME TABLE shard.t1 TO shard.t3';
  await shards[0]!.up.query(ren);
  const p1 = await paused('TSDM-50006');
  assert.match(p1.err.message, /^`RENAME TABLE` statement not supported in optimistic mode/);
  assert.equal(p1.err.context?.sql, ren);
  assert.match(p1.err.suggestion, /dmctl binlog skip oren/);
  const r = await c.ctl(['binlog', 'skip', 'oren', '-s', p1.source]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  shards[0]!.table = 't3';
  for (const s of shards) await shardDml(s, 5);
  await waitShardSynced(c, 'oren');
  const got = (await c.sb.downstream.query('SELECT id, name FROM oren.t'))
    .map((x: Record<string, unknown>) => JSON.stringify(Object.values(x).map((v) => (v === null ? null : String(v)))))
    .sort();
  assert.deepEqual(got, await unionRows(shards, ['id', 'name']));
  const change = 'ALTER TABLE shard.t2 CHANGE name label VARCHAR(40) NOT NULL';
  await shards[3]!.up.query(change);
  const p2 = await paused('TSDM-50008');
  assert.match(p2.err.message, /in optimistic mode, because schema conflict detected/);
  assert.equal(p2.err.context?.sql, change);
  assert.equal((await c.ctl(['stop-task', 'oren'])).code, 0);
});

/** Two sources, three shards of `gshard.g*` with generated columns, merged into `<task>.g`. */
const GEN_TASK = `shard-mode: optimistic
mysql-instances:
  - source-id: source1
    block-allow-list: bal
    route-rules: [merge]
  - source-id: source2
    block-allow-list: bal
    route-rules: [merge]
block-allow-list:
  bal:
    do-dbs: ["gshard"]
routes:
  merge:
    schema-pattern: "gshard"
    table-pattern: "g*"
    target-schema: "optg"
    target-table: "g"
`;

interface GShard {
  up: MariaDBInstance;
  table: string;
  base: number;
  cols: string[];
  next: number;
}
const VALUE: Record<string, (id: number) => string> = {
  id: String,
  a: (id) => String(id % 100),
  b: (id) => `'b${id}'`,
  c: (id) => String(id % 7),
  x: (id) => String(id % 5),
};

/** `n` inserts in the shard's current columns, then an update and a delete (statements, to run in one transaction). */
function gWrites(s: GShard, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = s.base + s.next++;
    out.push(
      `INSERT INTO gshard.${s.table} (${s.cols.join(',')}) VALUES (${s.cols.map((c) => VALUE[c]!(id)).join(',')})`,
    );
  }
  out.push(`UPDATE gshard.${s.table} SET a = a + 1 WHERE id = ${s.base + Math.floor(s.next / 2)}`);
  out.push(`DELETE FROM gshard.${s.table} WHERE id = ${s.base + s.next - 3}`);
  return out;
}

/** One transaction per upstream writing to each of its shards: rows of two shards with different columns share a batch. */
async function gWriteAll(shards: GShard[], n: number): Promise<void> {
  for (const up of new Set(shards.map((s) => s.up))) {
    const stmts = shards.filter((s) => s.up === up).flatMap((s) => gWrites(s, n));
    await up.query(`BEGIN; ${stmts.join('; ')}; COMMIT`);
  }
}

/** Every source applied what its upstream has now (status only: a paused source fails the wait with its error). */
async function gSynced(): Promise<void> {
  const heads = await Promise.all(
    c.sb.upstreams.map(async (u) => {
      const [r] = await u.query('SHOW MASTER STATUS');
      return { name: String(r.File), pos: Number(r.Position) };
    }),
  );
  const wait = waitFor(
    async () => {
      const v = await status(c, 'optg');
      const paused = v.sources.find((s) => s.stage === 'Paused');
      if (paused) throw new Error(`paused: ${JSON.stringify(paused.error)}`);
      return v.sources.every((s, i) => {
        const h = heads[i]!;
        const syn = s.sync?.synced;
        return (
          s.sync?.caughtUp === true &&
          syn !== undefined &&
          (syn.name > h.name || (syn.name === h.name && syn.pos >= h.pos))
        );
      });
    },
    90_000,
    'optg synced',
  );
  await wait.catch((err: unknown) => {
    console.error(
      c.agent
        .log()
        .split('\n')
        .filter((l) => /optg|gshard|error/i.test(l))
        .slice(-40)
        .join('\n'),
    );
    throw err;
  });
}

async function gRows(q: (sql: string) => Promise<Record<string, unknown>[]>, sql: string): Promise<string[]> {
  return (await q(sql)).map((r) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v))))).sort();
}

test('optimistic multi-clause ALTERs apply per clause (first ADD, last DROP), generated columns join and are never written; a conflicting clause resolved with unlock skip', {
  timeout: 300_000,
}, async () => {
  const [up1, up2] = c.sb.upstreams as [MariaDBInstance, MariaDBInstance];
  const shards: GShard[] = [
    { up: up1, table: 'g1', base: 1_000_000, cols: ['id', 'a', 'b'], next: 1 },
    { up: up1, table: 'g2', base: 2_000_000, cols: ['id', 'a', 'b'], next: 1 },
    { up: up2, table: 'g1', base: 3_000_000, cols: ['id', 'a', 'b'], next: 1 },
  ];
  const create = (t: string) =>
    `CREATE TABLE gshard.${t} (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(20) NULL, v INT AS (a * 2) VIRTUAL, s INT AS (a + 1) PERSISTENT)`;
  await up1.query(`DROP DATABASE IF EXISTS gshard; CREATE DATABASE gshard; ${create('g1')}; ${create('g2')}`);
  await up2.query(`DROP DATABASE IF EXISTS gshard; CREATE DATABASE gshard; ${create('g1')}`);
  await gWriteAll(shards, 10);
  await startTask(c, taskYaml('optg', c.sb.downstream, GEN_TASK));
  await waitFor(
    async () => (await status(c, 'optg')).sources.every((s) => s.unit === 'sync' && s.sync?.caughtUp),
    120_000,
    'task in sync',
  );
  const [g1a, g2a, g1b] = shards as [GShard, GShard, GShard];

  // First shard: ADD c (the target grows), ADD a generated column, DROP b (the other shards still write b: kept).
  await up1.query('ALTER TABLE gshard.g1 ADD COLUMN c INT NULL, ADD COLUMN w INT AS (a * 3) VIRTUAL, DROP COLUMN b');
  g1a.cols = ['id', 'a', 'c'];
  await gWriteAll(shards, 20);
  await gSynced();
  // Rows of g1 (id, a, c) and g2 (id, a, b) came in one transaction, so in one batch: each keeps its own columns.
  const down = (sql: string) => c.sb.downstream.query(sql) as Promise<Record<string, unknown>[]>;
  const union = async (cols: string[], of = shards) => {
    const out: string[] = [];
    for (const s of of)
      out.push(
        ...(await gRows(
          (sql) => s.up.query(sql),
          `SELECT ${cols.map((x) => (s.cols.includes(x) ? x : 'NULL')).join(',')} FROM gshard.${s.table}`,
        )),
      );
    return out.sort();
  };
  assert.deepEqual(
    await gRows(down, 'SELECT id, a, c FROM optg.g'),
    await union(['id', 'a', 'c']),
    "after the first shard's ALTER",
  );
  // (g1's rows from before its DROP keep their b downstream, as in DM: the target keeps b for the other shards.)
  assert.deepEqual(
    await gRows(down, 'SELECT id, a, b FROM optg.g WHERE id >= 2000000'),
    await union(['id', 'a', 'b'], [g2a, g1b]),
    'b of the shards that still have it',
  );
  // Second shard, clauses in another order: nothing changes the target (b is still on source2).
  await up1.query('ALTER TABLE gshard.g2 DROP COLUMN b, ADD COLUMN w INT AS (a * 3) VIRTUAL, ADD COLUMN c INT NULL');
  g2a.cols = ['id', 'a', 'c'];
  await gWriteAll(shards, 20);
  await gSynced();
  const mid = await c.sb.downstream.query(
    `SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'optg' AND TABLE_NAME = 'g' ORDER BY ORDINAL_POSITION`,
  );
  assert.deepEqual(mid.map((r: Record<string, unknown>) => String(r.COLUMN_NAME)).sort(), [
    'a',
    'b',
    'c',
    'id',
    's',
    'v',
    'w',
  ]);

  // Last shard: DROP b (last: the target drops it), ADD x (new), ADD w with another expression: a conflict, so
  // nothing of the statement runs until `unlock --action skip` keeps the target's w.
  await up2.query(
    'ALTER TABLE gshard.g1 DROP COLUMN b, ADD COLUMN x INT NULL, ADD COLUMN w INT AS (a * 4) VIRTUAL, ADD COLUMN c INT NULL',
  );
  g1b.cols = ['id', 'a', 'x', 'c'];
  await gWriteAll([g1a, g2a], 10);
  let message = '';
  await waitFor(
    async () => {
      const s = (await status(c, 'optg')).sources.find((x) => x.error?.code === 'TSDM-50008');
      message = s?.error?.message ?? '';
      return s?.stage === 'Paused';
    },
    60_000,
    'TSDM-50008 on source2',
  );
  assert.match(message, /column w/i);
  const shown = await c.ctl(['shard-ddl-lock', 'optg']);
  const id = /^(optg-\S+)\s+optimistic.*CONFLICT/m.exec(shown.stdout)?.[1];
  assert.ok(id, shown.stdout);
  const r = await c.ctl(['shard-ddl-lock', 'unlock', id, '--action', 'skip']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal((await c.ctl(['resume-task', 'optg'])).code, 0);
  await gWriteAll(shards, 20);
  await gSynced();

  const cols = await down(
    `SELECT COLUMN_NAME, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'optg' AND TABLE_NAME = 'g'`,
  );
  assert.deepEqual(cols.map((x) => String(x.COLUMN_NAME)).sort(), ['a', 'c', 'id', 's', 'v', 'w', 'x']);
  assert.match(String(cols.find((x) => x.COLUMN_NAME === 'w')?.GENERATION_EXPRESSION), /`a` \* 3/);
  const want: string[] = [];
  for (const s of shards) {
    const sel = ['id', 'a', 'c', 'x', 'v', 's']
      .map((x) => (s.cols.includes(x) || x === 'v' || x === 's' ? x : 'NULL'))
      .join(',');
    want.push(...(await gRows((sql) => s.up.query(sql), `SELECT ${sel} FROM gshard.${s.table}`)));
  }
  assert.deepEqual(
    await gRows(down, 'SELECT id, a, c, x, v, s FROM optg.g'),
    want.sort(),
    'optg.g equals the union of the shards, row for row',
  );
  const wUp = [
    ...(await gRows((sql) => up1.query(sql), 'SELECT id, w FROM gshard.g1')),
    ...(await gRows((sql) => up1.query(sql), 'SELECT id, w FROM gshard.g2')),
  ].sort();
  assert.deepEqual(await gRows(down, 'SELECT id, w FROM optg.g WHERE id < 3000000'), wUp);
  assert.equal((await c.ctl(['stop-task', 'optg'])).code, 0);
});
