/**
 * DM's start-task and check-task options (issue #18): `--start-time` starts incremental replication at the first
 * binlog event at or after a time (rows before it never reach the downstream; from a later checkpoint, the replay is
 * in safe mode); `-s SOURCE` starts a task on some sources only and adds the others later; `check-task --error/--warn`
 * limit what is shown; the DM keys accepted without effect are printed as warnings with file, line and key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/index.ts';
import { writeTemp } from '../harness/tsdm.ts';
import { readFileSync } from 'node:fs';
import {
  assertSame,
  purgeBinlogsTo,
  startCluster,
  startTask,
  status,
  taskYaml,
  waitStage,
  waitSynced,
  type Cluster,
} from './helpers.ts';
import { waitRelayAtHead, waitRelayRunning } from './relay-helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 2 });
});
after(async () => {
  await c?.stop();
});

const rowsOf = async (db: { query(sql: string): Promise<{ id: string; v: string }[]> }, sql: string) =>
  (await db.query(sql)).map((r) => `${r.id}:${r.v}`);

/** The upstream's clock moved to a new second: every event written before this returns has an older timestamp. */
async function nextSecond(up: Cluster['sb']['upstreams'][number]): Promise<string> {
  const [{ n: t0 }] = await up.query('SELECT NOW() AS n');
  let t = t0 as string;
  await waitFor(
    async () => {
      [{ n: t }] = await up.query('SELECT NOW() AS n');
      return t !== t0;
    },
    5000,
    'the upstream clock to reach the next second',
  );
  return t;
}

test('start-task --start-time replicates exactly the rows written from that time on', {
  timeout: 180_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  const ddl = 'CREATE DATABASE st; CREATE TABLE st.t (id INT PRIMARY KEY, v VARCHAR(20))';
  await up.query(`${ddl}; INSERT INTO st.t SELECT seq, 'before' FROM mysql.seq_1_to_100`);
  // An incremental task needs the schema downstream already (DM: restored from a backup); here without the rows.
  await down.query(ddl);
  const time = await nextSecond(up);
  await up.query(`INSERT INTO st.t SELECT seq, 'after' FROM mysql.seq_101_to_200; UPDATE st.t SET v = 'upd' WHERE id = 150;
    DELETE FROM st.t WHERE id = 199`);
  const yaml = taskYaml(
    'st-task',
    down,
    'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["st"]\n',
    'incremental',
  );
  const file = writeTemp('st-task.yaml', yaml);

  // The check finds a position for the time on each source (the T form reads the same as the space form).
  const chk = await c.ctl(['check-task', file, '--start-time', time.replace(' ', 'T'), '--json']);
  assert.equal(chk.code, 0, chk.stdout + chk.stderr);
  const item = chk.json.checks.find((i: { name: string }) => i.name === 'start time');
  assert.match(item.detail, /from binlog\.\d+:\d+/);
  // Before the oldest binlog, after the head, not a time, not an incremental task: coded errors.
  const early = await c.ctl(['check-task', file, '--start-time', '2000-01-01 00:00:00', '--json']);
  assert.equal(early.code, 1);
  assert.equal(early.json.checks.find((i: { ok: boolean }) => !i.ok).error.code, 'TSDM-20057');
  const late = await c.ctl(['start-task', file, '--start-time', '2099-01-01T00:00:00+08:00', '--json']);
  assert.equal(late.code, 1, 'start-task refuses a time after the head');
  assert.equal(late.json.error.code, 'TSDM-20058');
  assert.ok(late.json.error.suggestion);
  const bad = await c.ctl(['start-task', file, '--start-time', '21/10/2021', '--json']);
  assert.equal(bad.code, 2);
  assert.equal(bad.json.error.code, 'TSDM-10057');
  const allMode = writeTemp('st-all.yaml', yaml.replace('task-mode: incremental', 'task-mode: all'));
  const notInc = await c.ctl(['start-task', allMode, '--start-time', time, '--json']);
  assert.equal(notInc.json.error.code, 'TSDM-10057');
  assert.match(notInc.json.error.message, /task-mode incremental/);

  // A meta with neither binlog-name nor binlog-gtid: refused without --start-time with DM's words, used with it (DM's
  // dmctl_basic: check_task_wrong_no_source_meta, check_task_no_source_meta_but_start_time). The first start below
  // is of that file, so the agent reads the stored record as start-task read it.
  const noMeta = yaml.replace(
    '    block-allow-list: b\n',
    '    block-allow-list: b\n    meta:\n      binlog-gtid: ""\n',
  );
  const noMetaFile = writeTemp('st-nometa.yaml', noMeta);
  const refused = await c.ctl(['check-task', noMetaFile, '--json']);
  assert.equal(refused.json.error.code, 'TSDM-10015', refused.stdout + refused.stderr);
  assert.match(refused.json.error.message, /must specify `binlog-name` without GTID enabled for the source/);
  const timed = await c.ctl(['check-task', noMetaFile, '--start-time', time, '--json']);
  assert.equal(timed.code, 0, timed.stdout + timed.stderr);

  await startTask(c, noMeta, ['--start-time', time]);
  await waitSynced(c, 'st-task');
  const want = await rowsOf(up, 'SELECT id, v FROM st.t WHERE id > 100 ORDER BY id');
  assert.equal(want.length, 99);
  assert.deepEqual(await rowsOf(down, 'SELECT id, v FROM st.t ORDER BY id'), want, 'only the rows after the time');

  // Again from the time, with a checkpoint further on: the replay is in safe mode (no duplicate-key error), and the
  // rows written since arrive once.
  assert.equal((await c.ctl(['stop-task', 'st-task'])).code, 0);
  await up.query(`INSERT INTO st.t SELECT seq, 'later' FROM mysql.seq_201_to_250`);
  await startTask(c, yaml, ['--start-time', time]);
  await waitSynced(c, 'st-task');
  const v = await status(c, 'st-task');
  assert.equal(v.sources[0]!.stage, 'Running', JSON.stringify(v.sources[0]!.error ?? null));
  // A restart of the task without the flag resumes from its checkpoint, not from the time.
  assert.equal((await c.ctl(['stop-task', 'st-task'])).code, 0);
  await startTask(c, yaml);
  await up.query(`INSERT INTO st.t VALUES (251, 'last')`);
  await waitSynced(c, 'st-task');
  // The rows before the time are not migrated: remove them upstream too (their deletes touch no downstream row),
  // then both sides hold the same table.
  await up.query('DELETE FROM st.t WHERE id <= 100');
  await waitSynced(c, 'st-task');
  await assertSame(up, down, [{ up: ['st', 't'] }]);
});

test('start-task -s starts the task on those sources only; a later -s adds another', { timeout: 180_000 }, async () => {
  const [u1, u2] = c.sb.upstreams as [Cluster['sb']['upstreams'][number], Cluster['sb']['upstreams'][number]];
  await u1.query(
    `CREATE DATABASE ss; CREATE TABLE ss.t1 (id INT PRIMARY KEY, v INT); INSERT INTO ss.t1 SELECT seq, seq FROM mysql.seq_1_to_300`,
  );
  await u2.query(
    `CREATE DATABASE ss; CREATE TABLE ss.t2 (id INT PRIMARY KEY, v INT); INSERT INTO ss.t2 SELECT seq, seq FROM mysql.seq_1_to_200`,
  );
  const body = `mysql-instances:
  - source-id: source1
    block-allow-list: b
  - source-id: source2
    block-allow-list: b
block-allow-list:
  b:
    do-dbs: ["ss"]
`;
  const yaml = taskYaml('ss-task', c.sb.downstream, body);
  const file = writeTemp('ss-task.yaml', yaml);
  const unknown = await c.ctl(['start-task', file, '-s', 'source9', '--json']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.json.error.code, 'TSDM-10009');
  assert.match(unknown.json.error.message, /source9 is not in task ss-task/);

  const first = await c.ctl(['start-task', file, '-s', 'source1', '--json']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.deepEqual(first.json.sources, ['source1']);
  await waitSynced(c, 'ss-task');
  // As in DM, the task has no subtask on source2: query-status lists source1 alone.
  const q = await c.ctl(['query-status', 'ss-task', '--json']);
  assert.deepEqual(
    q.json.tasks[0].sources.map((s: { source: string }) => s.source),
    ['source1'],
  );
  const [t2] = await c.sb.downstream.query(
    "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'ss' AND TABLE_NAME = 't2'",
  );
  assert.equal(Number(t2.n), 0, 'nothing of source2 was migrated');
  // Every requested source runs already: DM's "subtasks already exist".
  const again = await c.ctl(['start-task', file, '-s', 'source1', '--json']);
  assert.equal(again.code, 1);
  assert.match(again.json.error.message, /already exists/);

  const second = await c.ctl(['start-task', file, '-s', 'source2']);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /started on source2/);
  await u1.query('INSERT INTO ss.t1 VALUES (301, 301)');
  await u2.query('INSERT INTO ss.t2 VALUES (201, 201)');
  await waitSynced(c, 'ss-task');
  const both = await status(c, 'ss-task');
  assert.deepEqual(
    both.sources.map((s) => s.source),
    ['source1', 'source2'],
  );
  await assertSame(u1, c.sb.downstream, [{ up: ['ss', 't1'] }]);
  await assertSame(u2, c.sb.downstream, [{ up: ['ss', 't2'] }]);
});

test('config feedback: no-effect keys as warnings, --warn/--error limits, line numbers, --json usage errors', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE cf; CREATE TABLE cf.t (id INT PRIMARY KEY)');
  const body = `enable-heartbeat: true
clean-dump-file: true
mysql-instances:
  - source-id: source1
    block-allow-list: b
block-allow-list:
  b:
    do-dbs: ["cf"]
`;
  const yaml = taskYaml('cf-task', c.sb.downstream, body);
  const file = writeTemp('cf-task.yaml', yaml);
  const lineOf = (key: string) => yaml.split('\n').findIndex((l) => l.startsWith(`${key}:`)) + 1;
  const text = await c.ctl(['check-task', file]);
  assert.equal(text.code, 0, text.stdout + text.stderr);
  assert.ok(
    text.stdout.includes(`WARN ${file}:${lineOf('enable-heartbeat')} key enable-heartbeat: accepted, no effect`),
    text.stdout,
  );
  assert.ok(text.stdout.includes(`WARN ${file}:${lineOf('clean-dump-file')} key clean-dump-file:`), text.stdout);
  const js = await c.ctl(['check-task', file, '--json']);
  assert.ok(
    js.json.warnings.some((w: string) => w.includes(`${file}:${lineOf('enable-heartbeat')} key enable-heartbeat`)),
    JSON.stringify(js.json.warnings),
  );
  // --warn 1: one shown, the other counted.
  const limited = await c.ctl(['check-task', file, '--warn', '1']);
  assert.equal(limited.stdout.split('\n').filter((l) => l.startsWith('WARN ')).length, 1, limited.stdout);
  assert.match(limited.stdout, /… and 1 more warning/);
  const limitedJs = await c.ctl(['check-task', file, '-w', '1', '--json']);
  assert.equal(limitedJs.json.omitted.warnings, 1);
  const started = await c.ctl(['start-task', file]);
  assert.equal(started.code, 0, started.stdout + started.stderr);
  assert.ok(started.stderr.includes(`WARN ${file}:${lineOf('enable-heartbeat')} key enable-heartbeat`), started.stderr);
  await up.query('INSERT INTO cf.t VALUES (1)');
  await waitSynced(c, 'cf-task');
  await assertSame(up, c.sb.downstream, [{ up: ['cf', 't'] }]);

  // A long flow list (re-printed, it would fold onto several lines) before an error: the error's line is the file's
  // line, also though dmctl encrypted the plain password before parsing.
  const long = Array.from({ length: 12 }, (_, i) => `"table_number_${i}"`).join(', ');
  const broken = `${taskYaml('lines', c.sb.downstream, `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-tables-x: [${long}]\n`)}`;
  const bfile = writeTemp('lines.yaml', broken);
  const err = await c.ctl(['check-task', bfile, '--json']);
  assert.equal(err.code, 2);
  assert.equal(err.json.error.context.line, broken.split('\n').findIndex((l) => l.includes('do-tables-x')) + 1);
  // An unknown flag under --json: the JSON error document, not meow's text.
  const flag = await c.ctl(['check-task', file, '-x', '--json']);
  assert.equal(flag.code, 2);
  assert.equal(flag.json.error.code, 'TSDM-10014');
  assert.match(flag.json.error.message, /unknown flag -x/);
  const long2 = await c.ctl(['start-task', file, '--bogus', '--json']);
  assert.equal(long2.json.error.message, 'unknown flag --bogus');
});

test('start-task --start-time on a source with its relay on: the relay is searched (the upstream purged the time)', {
  timeout: 180_000,
}, async () => {
  const u2 = c.sb.upstreams[1]!;
  const down = c.sb.downstream;
  const started = await c.ctl(['start-relay', '-s', 'source2']);
  assert.equal(started.code, 0, started.stdout + started.stderr);
  await waitRelayRunning(c, 'source2');
  const ddl = 'CREATE DATABASE sr; CREATE TABLE sr.t (id INT PRIMARY KEY, v VARCHAR(20))';
  await u2.query(`${ddl}; INSERT INTO sr.t SELECT seq, 'early' FROM mysql.seq_1_to_50`);
  await down.query(ddl);
  // Rows at two times with a gap: the time lies between them.
  const time = await nextSecond(u2);
  await u2.query(
    `INSERT INTO sr.t SELECT seq, 'late' FROM mysql.seq_51_to_100; UPDATE sr.t SET v = 'upd' WHERE id = 60`,
  );
  await waitRelayAtHead(c, 'source2', u2);
  // The upstream no longer has the binlog that holds the time: only the relay can answer.
  // (A file a binlog reader is still on is kept: purge again until the readers moved to the new file.)
  await u2.query('FLUSH BINARY LOGS');
  const [m] = await u2.query('SHOW MASTER STATUS');
  await purgeBinlogsTo(u2, m.File);
  const yaml = taskYaml(
    'sr-task',
    down,
    'mysql-instances:\n  - source-id: source2\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["sr"]\n',
    'incremental',
  );
  // The check (on any agent) cannot read the relay: the upstream's answer becomes a warning.
  const chk = await c.ctl(['check-task', writeTemp('sr-task.yaml', yaml), '--start-time', time, '--json']);
  assert.equal(chk.code, 0, chk.stdout + chk.stderr);
  const item = chk.json.checks.find((i: { name: string }) => i.name === 'start time');
  assert.match(item.warning, /relay of source2/);

  await startTask(c, yaml, ['--start-time', time]);
  const want = await rowsOf(u2, 'SELECT id, v FROM sr.t WHERE id > 50 ORDER BY id');
  let got: string[] = [];
  await waitFor(
    async () => {
      const v = await status(c, 'sr-task');
      if (v.sources[0]?.error) throw new Error(JSON.stringify(v.sources[0].error));
      got = await rowsOf(down, 'SELECT id, v FROM sr.t ORDER BY id');
      return got.length === want.length;
    },
    60_000,
    () => `the rows from the time on downstream (have ${got.length})`,
  );
  assert.deepEqual(got, want, 'exactly the rows written from the time on');
  assert.match(readFileSync(c.agent.logFile, 'utf8'), /"startTime":"[^"]+".*"from":"relay"/);

  // Before the relay's first event and the upstream's oldest binlog: a coded error that names both.
  assert.equal((await c.ctl(['stop-task', 'sr-task'])).code, 0);
  await startTask(c, yaml, ['--start-time', '2001-01-01 00:00:00']);
  const v = await waitStage(c, 'sr-task', (s) => s.sources[0]?.error !== undefined, 'the task paused with an error');
  assert.equal(v.sources[0]!.error!.code, 'TSDM-20057');
  assert.match(v.sources[0]!.error!.message, /the relay of this source starts later too/);
});

test('start-task --remove-meta starts over once: an agent kill or a pause/resume later resumes from the new checkpoints', {
  timeout: 300_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query(
    `CREATE DATABASE rm; CREATE TABLE rm.t (id INT PRIMARY KEY, v VARCHAR(20));
    INSERT INTO rm.t SELECT seq, 'loaded' FROM mysql.seq_1_to_3000`,
  );
  const yaml = taskYaml(
    'rmeta',
    down,
    'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    mydumper-config-name: d\nblock-allow-list:\n  b:\n    do-dbs: ["rm"]\nmydumpers:\n  d:\n    rows: 1000\n',
  );
  // The load's checkpoint rows as written (a load that runs again deletes and rewrites them) and a row changed by
  // hand downstream after the load (never written upstream again: a load that runs again puts its value back).
  const plan = async () =>
    (
      await down.query(
        "SELECT chunk_id, done, CAST(updated_at AS CHAR) AS at FROM dm_meta.rmeta_loader_checkpoint WHERE source = 'source1' ORDER BY chunk_id",
      )
    ).map((r: { chunk_id: string; done: number; at: string }) => `${r.chunk_id} ${r.done} ${r.at}`) as string[];
  const row7 = async () => String((await down.query('SELECT v FROM rm.t WHERE id = 7'))[0].v);
  const notReloaded = async (after: string) => {
    assert.equal(await row7(), 'by hand', `${after}: the load did not run again (it would have replaced row 7)`);
    assert.deepEqual(await plan(), loaded, `${after}: the load's checkpoint rows are the first load's`);
  };

  await startTask(c, yaml, ['--remove-meta']);
  await waitSynced(c, 'rmeta');
  const loaded = await plan();
  assert.ok(loaded.length >= 3 && loaded.every((l) => / 1 /.test(l)), loaded.join('\n'));
  await down.query("UPDATE rm.t SET v = 'by hand' WHERE id = 7");

  // SIGKILL of the agent; the upstream writes meanwhile; the restarted agent resumes sync from its checkpoint.
  await c.agent.kill();
  await up.query(
    "INSERT INTO rm.t SELECT seq, 'while down' FROM mysql.seq_3001_to_3100; UPDATE rm.t SET v = 'upd' WHERE id = 8",
  );
  await c.agent.restart();
  await c.agent.ready();
  await waitSynced(c, 'rmeta');
  await notReloaded('after the agent restart');

  // pause-task / resume-task: the same.
  assert.equal((await c.ctl(['pause-task', 'rmeta'])).code, 0);
  await waitStage(c, 'rmeta', (v) => v.sources[0]?.stage === 'Paused', 'the task paused');
  await up.query("INSERT INTO rm.t VALUES (3101, 'while paused'); DELETE FROM rm.t WHERE id = 9");
  assert.equal((await c.ctl(['resume-task', 'rmeta'])).code, 0);
  await waitSynced(c, 'rmeta');
  await notReloaded('after pause-task / resume-task');
  const [sum] = await down.query('SELECT COUNT(*) AS n FROM rm.t WHERE id > 3000 OR id IN (8, 9)');
  assert.equal(Number(sum.n), 102, 'the writes made while the agent was down and while paused arrived');

  // A new start-task --remove-meta (after stop-task) starts over: the load runs again and puts row 7 back.
  assert.equal((await c.ctl(['stop-task', 'rmeta'])).code, 0);
  await up.query("INSERT INTO rm.t VALUES (3102, 'while stopped')");
  await startTask(c, yaml, ['--remove-meta']);
  await waitSynced(c, 'rmeta');
  assert.equal(await row7(), 'loaded', 'the second --remove-meta loaded the table again');
  const reloaded = await plan();
  const last = loaded
    .map((l) => l.split(' ').slice(2).join(' '))
    .sort()
    .at(-1)!;
  assert.ok(
    reloaded.length > 0 && reloaded.every((l) => l.split(' ').slice(2).join(' ') > last),
    `every chunk row was written again (first load up to ${last}): ${reloaded.join('; ')}`,
  );
  await assertSame(up, down, [{ up: ['rm', 't'] }]);
});
