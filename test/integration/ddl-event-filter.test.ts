/**
 * Issue #12 item 4: a binlog event filter on `incompatible ddl changes` means what it means in DM. Compatible ALTERs
 * (ADD COLUMN, CREATE INDEX) replicate and the task keeps running; an incompatible one (MODIFY narrowing a column, a
 * multi-clause ALTER with DROP COLUMN) pauses it with TSDM-60003 naming the rule, the statement and the event, and
 * nothing of that statement runs; an Ignore rule drops just its clause of a multi-clause ALTER and the rest applies.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';
import { createRelaySource } from './relay-helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

// Rules of one table are read in configuration order: the Ignore on `modify default value` decides that clause before
// the guard sees it.
const BODY = `mysql-instances:
  - source-id: source1
    block-allow-list: b
    filter-rules: [keep-defaults, guard]
block-allow-list:
  b:
    do-dbs: ["ev"]
filters:
  keep-defaults:
    schema-pattern: "ev"
    table-pattern: "t"
    events: ["modify default value"]
    action: Ignore
  guard:
    schema-pattern: "ev"
    table-pattern: "*"
    events: ["incompatible ddl changes"]
    action: Error
`;

const columns = async (db: typeof c.sb.downstream) =>
  (
    await db.query(
      "SELECT COLUMN_NAME, COLUMN_TYPE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'ev' AND TABLE_NAME = 't' ORDER BY ORDINAL_POSITION",
    )
  ).map(
    (r: { COLUMN_NAME: string; COLUMN_TYPE: string; COLUMN_DEFAULT: string | null }) =>
      `${r.COLUMN_NAME} ${r.COLUMN_TYPE} ${r.COLUMN_DEFAULT ?? '-'}`,
  );

const pausedOn = (sql: RegExp, task = 'ddlev') =>
  waitStage(
    c,
    task,
    (s) => s.sources[0]!.stage === 'Paused' && sql.test(s.sources[0]!.error?.context?.sql ?? ''),
    `paused on ${sql}`,
    20_000,
  );

test('incompatible ddl changes: compatible ALTERs replicate, incompatible ones pause the task, an ignored clause is dropped', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(
    "CREATE DATABASE ev; CREATE TABLE ev.t (id INT PRIMARY KEY, v VARCHAR(20), n INT); INSERT INTO ev.t VALUES (1, 'a', 10)",
  );
  await startTask(c, taskYaml('ddlev', down, BODY));
  await waitSynced(c, 'ddlev', 30_000);

  // Compatible in DM: `alter table` and `create index`. Before the fix the task paused on ADD COLUMN.
  await up.query(
    "ALTER TABLE ev.t ADD COLUMN c INT; CREATE INDEX ic ON ev.t (c); INSERT INTO ev.t VALUES (2, 'b', 20, 200)",
  );
  await waitSynced(c, 'ddlev', 30_000);
  assert.deepEqual(await columns(down), ['id int(11) -', 'v varchar(20) NULL', 'n int(11) NULL', 'c int(11) NULL']);
  const idx = await down.query(
    "SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = 'ev' AND TABLE_NAME = 't' AND INDEX_NAME = 'ic'",
  );
  assert.equal(idx.length, 1, 'CREATE INDEX replicated');

  // One ALTER, two clauses: the ignored `modify default value` is dropped, ADD COLUMN runs.
  await up.query(
    "ALTER TABLE ev.t ADD COLUMN c2 INT, ALTER COLUMN v SET DEFAULT 'x'; INSERT INTO ev.t (id, n) VALUES (3, 30)",
  );
  await waitSynced(c, 'ddlev', 30_000);
  assert.deepEqual(await columns(down), [
    'id int(11) -',
    'v varchar(20) NULL',
    'n int(11) NULL',
    'c int(11) NULL',
    'c2 int(11) NULL',
  ]);
  assert.deepEqual((await columns(up))[1], "v varchar(20) 'x'", 'upstream has the default the filter kept away');

  // Incompatible: MODIFY to a smaller integer type is `value range decrease`.
  await up.query('ALTER TABLE ev.t MODIFY n SMALLINT');
  let v = await pausedOn(/MODIFY n SMALLINT/);
  let err = v.sources[0]!.error!;
  assert.equal(err.code, 'TSDM-60003');
  assert.match(err.message, /`value range decrease`.*rule guard/);
  assert.match(err.suggestion, /dmctl binlog skip ddlev/);
  assert.equal((await columns(down))[2], 'n int(11) NULL', 'the statement did not run');
  let r = await c.ctl(['binlog', 'skip', 'ddlev']);
  assert.equal(r.code, 0, r.stderr);
  await waitSynced(c, 'ddlev', 30_000);

  // A multi-clause ALTER with one incompatible clause stops as a whole: its compatible ADD COLUMN does not run either.
  await up.query(
    "ALTER TABLE ev.t ADD COLUMN d INT, DROP COLUMN c2; INSERT INTO ev.t (id, v, n, c, d) VALUES (4, 'd', 40, 400, 4000)",
  );
  v = await pausedOn(/DROP COLUMN c2/);
  err = v.sources[0]!.error!;
  assert.equal(err.code, 'TSDM-60003');
  assert.match(err.message, /`drop column`.*rule guard.*clause: ALTER TABLE ev\.t DROP COLUMN c2/);
  assert.equal((await columns(down)).length, 5, 'nothing of the stopped statement ran');
  // The operator applies the change by hand downstream, then skips the statement.
  await down.query('ALTER TABLE ev.t ADD COLUMN d INT, DROP COLUMN c2, MODIFY n SMALLINT');
  r = await c.ctl(['binlog', 'skip', 'ddlev']);
  assert.equal(r.code, 0, r.stderr);
  await up.query(
    "INSERT INTO ev.t (id, v, n, c, d) VALUES (5, 'e', 50, 500, 5000); UPDATE ev.t SET d = 1 WHERE id = 1",
  );
  await waitSynced(c, 'ddlev', 30_000);
  assert.equal((await c.ctl(['query-status', 'ddlev'])).code, 0);
  assert.equal(
    (await waitStage(c, 'ddlev', (s) => s.sources[0]!.stage === 'Running', 'running')).sources[0]!.error,
    undefined,
  );
  await assertSame(up, down, [{ up: ['ev', 't'] }]);
});

test('with the relay log: the relay reader passes the table before the statement too (MODIFY is classified)', {
  timeout: 60_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await createRelaySource(c, 'relay1', up);
  await up.query(
    'CREATE DATABASE evr; CREATE TABLE evr.t (id INT PRIMARY KEY, n INT); INSERT INTO evr.t VALUES (1, 10)',
  );
  const body = BODY.replace('source1', 'relay1').replaceAll('"ev"', '"evr"');
  await startTask(c, taskYaml('ddlevr', down, body));
  await waitSynced(c, 'ddlevr', 30_000);
  // Without the old column a MODIFY is `alter table` (DM's fallback) and would pass: the pause shows it was known.
  await up.query(
    'ALTER TABLE evr.t ADD COLUMN c INT; INSERT INTO evr.t VALUES (2, 20, 200); ALTER TABLE evr.t MODIFY n SMALLINT',
  );
  const v = await pausedOn(/MODIFY n SMALLINT/, 'ddlevr');
  assert.match(v.sources[0]!.error!.message, /`value range decrease`.*rule guard/);
  const r = await c.ctl(['binlog', 'skip', 'ddlevr']);
  assert.equal(r.code, 0, r.stderr);
  await up.query('INSERT INTO evr.t VALUES (3, 30, 300)');
  await waitSynced(c, 'ddlevr', 30_000);
  await assertSame(up, down, [{ up: ['evr', 't'] }]);
});
