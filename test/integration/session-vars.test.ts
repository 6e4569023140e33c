/**
 * Issue #12 item 3: `from.session` and `target-database.session` as DM users write them (numbers, booleans, YAML
 * 1.1 `off`, strings such as sql_mode and time_zone) work on MariaDB. A task in mode all with such sessions on both
 * sides migrates and syncs to an equal downstream; values tsdm must override are reported as warnings; a value the
 * server refuses is TSDM-10022 naming the variable and its config key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceYaml, writeTemp } from '../harness/tsdm.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => { c = await startCluster({ sources: false }); });
after(async () => { await c?.stop(); });

const SOURCE_SESSION = `  session:
    foreign_key_checks: 1
    unique_checks: off
    "@@session.net_read_timeout": 600
    sql_mode: "ANSI_QUOTES,STRICT_TRANS_TABLES"
    time_zone: "+00:00"
`;
const TARGET_SESSION = `  session:
    foreign_key_checks: 1
    sql_safe_updates: off
    innodb_lock_wait_timeout: 30
    SQL_MODE: "ANSI_QUOTES,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"
    time_zone: "+00:00"
    autocommit: 0
`;
const BODY = 'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    syncer-thread: 2\nblock-allow-list:\n  b:\n    do-dbs: ["sv"]\n';
const TABLES: { up: [string, string] }[] = [{ up: ['sv', 'parent'] }, { up: ['sv', 'child'] }];

test('sessions with numeric, boolean and string values on both sides: mode all ends equal', { timeout: 120_000 }, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE sv;
    CREATE TABLE sv.parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), ts TIMESTAMP(3) NULL, note TEXT) ENGINE=InnoDB;
    CREATE TABLE sv.child (id INT PRIMARY KEY, pid INT, v INT, CONSTRAINT fk FOREIGN KEY (pid) REFERENCES sv.parent (id) ON DELETE CASCADE) ENGINE=InnoDB;
    SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
    INSERT INTO sv.parent VALUES (0, 'zero', '2024-01-02 03:04:05.678', 'a "quoted" \\\\ note');
    INSERT INTO sv.parent (name, ts) SELECT CONCAT('p', seq), FROM_UNIXTIME(1700000000 + seq) FROM mysql.seq_1_to_200;
    INSERT INTO sv.child SELECT seq, 1 + seq % 200, seq FROM mysql.seq_1_to_500;`);
  const r = await c.ctl(['operate-source', 'create', writeTemp('source1.yaml', sourceYaml('source1', up, SOURCE_SESSION))]);
  assert.equal(r.code, 0, `operate-source create: ${r.stdout}${r.stderr}`);
  const yaml = taskYaml('sv', c.sb.downstream, BODY).replace('target-database:\n', `target-database:\n${TARGET_SESSION}`);
  const chk = await c.ctl(['check-task', writeTemp('task.yaml', yaml), '--json']);
  assert.equal(chk.code, 0, `check-task: ${chk.stdout}${chk.stderr}`);
  const warnings = (chk.json?.warnings ?? []) as string[];
  for (const key of ['target-database.session.foreign_key_checks', 'target-database.session.sql_mode', 'target-database.session.autocommit', 'from.session.sql_mode']) {
    assert.ok(warnings.some((w) => w.includes(key)), `check-task --json warns about ${key}: ${JSON.stringify(warnings)}`);
  }
  await startTask(c, yaml);
  await waitSynced(c, 'sv');
  await up.query(`INSERT INTO sv.parent (name, ts) VALUES ('later', '2030-05-06 07:08:09.123');
    UPDATE sv.parent SET name = CONCAT(name, '-u'), note = 'it''s' WHERE id % 7 = 0;
    DELETE FROM sv.parent WHERE id BETWEEN 10 AND 14;
    UPDATE sv.child SET v = v * 2 WHERE id % 5 = 0;`);
  await waitSynced(c, 'sv');
  await assertSame(up, c.sb.downstream, TABLES);
  const [z] = await c.sb.downstream.query('SELECT COUNT(*) AS n FROM sv.parent WHERE id = 0');
  assert.equal(Number(z.n), 1, 'the row with id 0 kept its id (NO_AUTO_VALUE_ON_ZERO)');
});

test('a session variable the server refuses is TSDM-10022 naming the key', { timeout: 60_000 }, async () => {
  const yaml = taskYaml('sv-bad', c.sb.downstream, BODY).replace('target-database:\n', 'target-database:\n  session:\n    no_such_variable_tsdm: 1\n');
  const chk = await c.ctl(['check-task', writeTemp('task-bad.yaml', yaml), '--json']);
  assert.notEqual(chk.code, 0);
  const failed = ((chk.json?.checks ?? []) as { ok: boolean; error?: { code: string; message: string } }[]).find((i) => !i.ok);
  assert.equal(failed?.error?.code, 'TSDM-10022', JSON.stringify(chk.json));
  assert.match(failed!.error!.message, /target-database\.session\.no_such_variable_tsdm/);
  assert.match(failed!.error!.message, /task-bad\.yaml/);
});
