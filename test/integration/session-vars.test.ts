/**
 * Issue #12 item 3: `from.session` and `target-database.session` as DM users write them (numbers, booleans, YAML
 * 1.1 `off`, strings such as sql_mode and time_zone) work on MariaDB. A task in mode all with such sessions on both
 * sides migrates and syncs to an equal downstream; values tsdm must override are reported as warnings; a value the
 * server refuses is TSDM-10022 naming the variable and its config key.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceYaml, writeTemp } from '../harness/tsdm.ts';
import type { MariaDBInstance } from '../harness/index.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false });
});
after(async () => {
  await c?.stop();
});

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
const BODY =
  'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    syncer-thread: 2\nblock-allow-list:\n  b:\n    do-dbs: ["sv"]\n';
const TABLES: { up: [string, string] }[] = [{ up: ['sv', 'parent'] }, { up: ['sv', 'child'] }];

test('sessions with numeric, boolean and string values on both sides: mode all ends equal', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE sv;
    CREATE TABLE sv.parent (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), ts TIMESTAMP(3) NULL, note TEXT) ENGINE=InnoDB;
    CREATE TABLE sv.child (id INT PRIMARY KEY, pid INT, v INT, CONSTRAINT fk FOREIGN KEY (pid) REFERENCES sv.parent (id) ON DELETE CASCADE) ENGINE=InnoDB;
    SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO');
    INSERT INTO sv.parent VALUES (0, 'zero', '2024-01-02 03:04:05.678', 'a "quoted" \\\\ note');
    INSERT INTO sv.parent (name, ts) SELECT CONCAT('p', seq), FROM_UNIXTIME(1700000000 + seq) FROM mysql.seq_1_to_200;
    INSERT INTO sv.child SELECT seq, 1 + seq % 200, seq FROM mysql.seq_1_to_500;`);
  const r = await c.ctl([
    'operate-source',
    'create',
    writeTemp('source1.yaml', sourceYaml('source1', up, SOURCE_SESSION)),
  ]);
  assert.equal(r.code, 0, `operate-source create: ${r.stdout}${r.stderr}`);
  const yaml = taskYaml('sv', c.sb.downstream, BODY).replace(
    'target-database:\n',
    `target-database:\n${TARGET_SESSION}`,
  );
  const chk = await c.ctl(['check-task', writeTemp('task.yaml', yaml), '--json']);
  assert.equal(chk.code, 0, `check-task: ${chk.stdout}${chk.stderr}`);
  const warnings = (chk.json?.warnings ?? []) as string[];
  for (const key of [
    'target-database.session.foreign_key_checks',
    'target-database.session.sql_mode',
    'target-database.session.autocommit',
    'from.session.sql_mode',
  ]) {
    assert.ok(
      warnings.some((w) => w.includes(key)),
      `check-task --json warns about ${key}: ${JSON.stringify(warnings)}`,
    );
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
  const yaml = taskYaml('sv-bad', c.sb.downstream, BODY).replace(
    'target-database:\n',
    'target-database:\n  session:\n    no_such_variable_tsdm: 1\n',
  );
  const chk = await c.ctl(['check-task', writeTemp('task-bad.yaml', yaml), '--json']);
  assert.notEqual(chk.code, 0);
  const failed = ((chk.json?.checks ?? []) as { ok: boolean; error?: { code: string; message: string } }[]).find(
    (i) => !i.ok,
  );
  assert.equal(failed?.error?.code, 'TSDM-10022', JSON.stringify(chk.json));
  assert.match(failed!.error!.message, /target-database\.session\.no_such_variable_tsdm/);
  assert.match(failed!.error!.message, /task-bad\.yaml/);
});

/** SCHEMATA, TABLES and string COLUMNS collations of the schemas matching `like`, one line each, sorted. */
async function collations(db: MariaDBInstance, like: string): Promise<string[]> {
  const rows = (await db.query(
    `
    SELECT CONCAT(SCHEMA_NAME, ' ', DEFAULT_COLLATION_NAME) AS l FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?
    UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, ' ', TABLE_COLLATION) FROM information_schema.TABLES WHERE TABLE_SCHEMA LIKE ?
    UNION ALL SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, '.', COLUMN_NAME, ' ', COLLATION_NAME) FROM information_schema.COLUMNS
      WHERE TABLE_SCHEMA LIKE ? AND COLLATION_NAME IS NOT NULL`,
    [like, like, like],
  )) as { l: string }[];
  return rows.map((r) => r.l).sort();
}

test('collation_compatible: strict gives the downstream the upstream collations where DDL relies on defaults; loose replicates DDL as written', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // The downstream's defaults differ from the upstream's (latin1_swedish_ci): a bare CREATE DATABASE lands elsewhere.
  await down.query("SET GLOBAL character_set_server = 'utf8mb4', GLOBAL collation_server = 'utf8mb4_unicode_ci'");
  try {
    // DM's sync_collation data, for a strict (coll_s*) and a loose (coll_l*) task: loaded ...
    const prepare = (p: string) => `
      CREATE DATABASE ${p}_db CHARACTER SET utf8 COLLATE utf8_general_ci;
      CREATE TABLE ${p}_db.t1 (id INT PRIMARY KEY, name VARCHAR(20)) CHARACTER SET utf8 COLLATE utf8_general_ci;
      CREATE TABLE ${p}_db.t2 (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8 COLLATE utf8_general_ci) CHARACTER SET latin1 COLLATE latin1_bin;
      INSERT INTO ${p}_db.t1 VALUES (1, 'Aa'), (2, 'aA'); INSERT INTO ${p}_db.t2 VALUES (1, 'Aa'), (2, 'aA');
      SET SESSION collation_server = utf8_general_ci;
      CREATE DATABASE ${p}_server;
      CREATE TABLE ${p}_server.t1 (id INT PRIMARY KEY, name VARCHAR(20));
      INSERT INTO ${p}_server.t1 VALUES (1, 'Aa'), (2, 'aA');`;
    await up.query(prepare('coll_s') + prepare('coll_l'));
    const src = sourceYaml('coll-src', up).replace('enable-relay: false', 'enable-relay: true');
    const r = await c.ctl(['operate-source', 'create', writeTemp('coll-src.yaml', src)]);
    assert.equal(r.code, 0, `operate-source create: ${r.stdout}${r.stderr}`);
    const body = (p: string) =>
      `mysql-instances:\n  - source-id: coll-src\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["~^${p}_"]\n`;
    await startTask(
      c,
      taskYaml('coll-strict', down, body('coll_s')).replace(
        'task-mode: all\n',
        'task-mode: all\ncollation_compatible: strict\n',
      ),
    );
    await startTask(c, taskYaml('coll-loose', down, body('coll_l')));
    await waitSynced(c, 'coll-strict');
    await waitSynced(c, 'coll-loose');
    // ... and replicated: databases created with no charset (session collation_server), with a charset but no collation,
    // tables and columns with a charset but no collation, ALTERs that add or convert to a charset.
    const increment = (p: string) => `
      SET SESSION collation_server = utf8_general_ci;
      CREATE DATABASE ${p}_inc;
      CREATE TABLE ${p}_inc.t1 (id INT PRIMARY KEY, name VARCHAR(20));
      INSERT INTO ${p}_inc.t1 VALUES (1, 'Aa'), (2, 'aA');
      SET SESSION collation_server = latin1_bin;
      CREATE DATABASE ${p}_inc2 CHARACTER SET utf8;
      CREATE TABLE ${p}_inc2.t2 (id INT PRIMARY KEY, name VARCHAR(20) CHARACTER SET utf8mb4, note VARCHAR(10)) CHARACTER SET latin1;
      ALTER TABLE ${p}_inc2.t2 ADD COLUMN extra VARCHAR(5) CHARACTER SET utf8, MODIFY note VARCHAR(10) CHARACTER SET utf8mb4;
      CREATE TABLE ${p}_server.t_check (id INT PRIMARY KEY, name VARCHAR(20));
      ALTER TABLE ${p}_server.t_check CONVERT TO CHARACTER SET latin1;
      INSERT INTO ${p}_inc2.t2 VALUES (1, 'Aa', 'x', 'e'), (2, 'aA', 'y', 'f'); INSERT INTO ${p}_server.t_check VALUES (1, 'Aa'), (2, 'aA');`;
    await up.query(increment('coll_s') + increment('coll_l'));
    await waitSynced(c, 'coll-strict');
    await waitSynced(c, 'coll-loose');

    const upS = await collations(up, 'coll\\_s\\_%');
    assert.ok(
      upS.includes('coll_s_inc utf8mb3_general_ci') && upS.includes('coll_s_server utf8mb3_general_ci'),
      upS.join('\n'),
    );
    assert.deepEqual(await collations(down, 'coll\\_s\\_%'), upS, 'strict: every collation as upstream');
    const downL = await collations(down, 'coll\\_l\\_%');
    assert.ok(
      downL.includes('coll_l_inc utf8mb4_unicode_ci') && downL.includes('coll_l_inc.t1.name utf8mb4_unicode_ci'),
      `loose: a bare CREATE DATABASE takes the downstream's default\n${downL.join('\n')}`,
    );
    const tables: { up: [string, string] }[] = [];
    for (const p of ['coll_s', 'coll_l'])
      tables.push(
        { up: [`${p}_db`, 't1'] },
        { up: [`${p}_db`, 't2'] },
        { up: [`${p}_server`, 't1'] },
        { up: [`${p}_server`, 't_check'] },
        { up: [`${p}_inc`, 't1'] },
        { up: [`${p}_inc2`, 't2'] },
      );
    await assertSame(up, down, tables);
  } finally {
    await down.query("SET GLOBAL character_set_server = 'latin1', GLOBAL collation_server = 'latin1_swedish_ci'");
  }
});
