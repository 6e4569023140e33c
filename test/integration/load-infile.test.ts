/**
 * The load writes chunks with LOAD DATA LOCAL INFILE (agent/load/infile.ts). Values LOAD DATA's file format treats
 * specially (tab, newline, CR, NUL, backslash, a literal `\N`, empty strings vs NULL, bytes, geometry) arrive exact;
 * a chunk meeting rows already downstream gets the `on-duplicate: replace` result (LOAD DATA skips them, the chunk is
 * loaded again with statements); and a downstream with local_infile=OFF is loaded with statements.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSame, startCluster, startTask, taskYaml, waitStage, type Cluster } from './helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster();
});
after(async () => {
  await c?.stop();
});

const TABLE = (schema: string) => `CREATE TABLE ${schema}.t (
  id INT PRIMARY KEY, s VARCHAR(40), u VARCHAR(20), b VARBINARY(20), g GEOMETRY NULL, l TEXT CHARACTER SET latin1,
  UNIQUE KEY (u))`;

async function seed(schema: string): Promise<void> {
  const up = c.sb.upstreams[0]!;
  await up.query(`CREATE DATABASE ${schema}; ${TABLE(schema)};
    INSERT INTO ${schema}.t VALUES
      (1, 'tab\\there', 'u1', x'00090a0d5c', ST_GeomFromText('POINT(1 2)'), 'àé'),
      (2, 'new\\nline\\rcr', 'u2', x'', NULL, ''),
      (3, CONCAT('nul', CHAR(0), 'byte'), 'u3', NULL, ST_GeomFromText('LINESTRING(0 0, 1 1)'), NULL),
      (4, '\\\\N', 'u4', x'5c4e', NULL, '\\\\'),
      (5, '', NULL, x'ff', NULL, 'x'),
      (6, NULL, 'u6', x'5c', NULL, 'trailing\\\\');
    INSERT INTO ${schema}.t (id, s, u) SELECT seq + 100, CONCAT('row ', seq), CONCAT('k', seq) FROM mysql.seq_1_to_3000;`);
}

const task = (name: string, schema: string) =>
  taskYaml(
    name,
    c.sb.downstream,
    `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    mydumper-config-name: m\nmydumpers:\n  m:\n    rows: 1000\nblock-allow-list:\n  b:\n    do-dbs: ["${schema}"]\n`,
    'full',
  );

test('LOAD DATA carries special values exactly and keeps on-duplicate replace', { timeout: 180_000 }, async () => {
  await seed('li');
  const down = c.sb.downstream;
  // Rows there before the task, away from the first chunk (ids 1-6): id 2000 with other values (replaced), id 9999
  // holding row 3000's unique key (REPLACE deletes it). The downstream ends equal only if the load replaces.
  await down.query(`CREATE DATABASE li; ${TABLE('li')};
    INSERT INTO li.t (id, s, u) VALUES (2000, 'old', 'old2'), (9999, 'gone', 'k2900')`);
  const counters = async () => {
    const rows: { Variable_name: string; Value: string }[] = await down.query(
      `SHOW GLOBAL STATUS WHERE Variable_name IN ('Com_load', 'Com_replace')`,
    );
    return Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
  };
  const before = await counters();
  await startTask(c, task('infile', 'li'));
  await waitStage(c, 'infile', (v) => v.sources[0]!.stage === 'Finished', 'full task finished', 120_000);
  await assertSame(c.sb.upstreams[0]!, down, [{ up: ['li', 't'] }]);
  const done = await counters();
  // Four chunks of under 1,000 rows: each went through LOAD DATA, and only the two meeting existing rows were
  // loaded again as one REPLACE each, so the special values of the first chunk were written by LOAD DATA.
  assert.ok(done.Com_load! - before.Com_load! >= 4, `LOAD DATA statements: ${done.Com_load! - before.Com_load!}`);
  assert.equal(done.Com_replace! - before.Com_replace!, 2, 'REPLACE statements');
  assert.doesNotMatch(c.agent.log(), /refuses LOAD DATA/);
});

test('an empty target is loaded whole by one LOAD DATA; a duplicate there falls back to chunk by chunk', {
  timeout: 180_000,
}, async () => {
  await seed('lb');
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // lb.d: the target tsdm finds already created (empty) with a unique key the upstream lacks, so the one-statement
  // load meets duplicates: it is rolled back and the chunks go one by one with on-duplicate replace (the last row of
  // each v wins, as REPLACE in key order).
  await up.query(`CREATE TABLE lb.d (id INT PRIMARY KEY, v INT);
    INSERT INTO lb.d SELECT seq, seq % 10 FROM mysql.seq_1_to_2500`);
  await down.query('CREATE DATABASE lb; CREATE TABLE lb.d (id INT PRIMARY KEY, v INT, UNIQUE KEY (v))');
  const loads = async (): Promise<number> => {
    const rows: { Value: string }[] = await down.query(`SHOW GLOBAL STATUS WHERE Variable_name = 'Com_load'`);
    return Number(rows[0]!.Value);
  };
  const before = await loads();
  await startTask(c, task('bulk', 'lb'));
  await waitStage(c, 'bulk', (v) => v.sources[0]!.stage === 'Finished', 'full task finished', 120_000);
  await assertSame(up, down, [{ up: ['lb', 't'] }]);
  const got: { id: string; v: string }[] = await down.query('SELECT id, v FROM lb.d ORDER BY v');
  const want: { id: string; v: string }[] = await up.query('SELECT MAX(id) AS id, v FROM lb.d GROUP BY v ORDER BY v');
  assert.deepEqual(got, want, 'lb.d holds the last row of each v');
  // lb.t (4 chunks): one statement; lb.d (3 chunks): one statement rolled back, then one per chunk.
  assert.equal((await loads()) - before, 1 + 1 + 3, 'LOAD DATA statements');
});

test('a downstream with local_infile=OFF is loaded with statements', { timeout: 180_000 }, async () => {
  await seed('lo');
  const down = c.sb.downstream;
  await down.query('SET GLOBAL local_infile = 0');
  try {
    await startTask(c, task('no-infile', 'lo'));
    await waitStage(c, 'no-infile', (v) => v.sources[0]!.stage === 'Finished', 'full task finished', 120_000);
  } finally {
    await down.query('SET GLOBAL local_infile = 1');
  }
  await assertSame(c.sb.upstreams[0]!, down, [{ up: ['lo', 't'] }]);
  assert.match(c.agent.log(), /refuses LOAD DATA LOCAL INFILE/);
});

test('text goes as stored into columns of its own charset and is converted into others', {
  timeout: 180_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  // latin1 with cp1252's €, Ÿ and ‰ (bytes 0x80, 0x9f, 0x89), GBK whose trail byte is 0x5c (a backslash), utf8mb4
  // with an emoji, a latin1 ENUM; lc.wide has a UCS-2 column (its ASCII is two bytes, so that file stays utf8mb4);
  // lc.conv's target was created by the user in utf8mb4, so its latin1 text must be converted.
  await up.query(`CREATE DATABASE lc;
    CREATE TABLE lc.same (id INT PRIMARY KEY, l VARCHAR(20) CHARACTER SET latin1, g VARCHAR(20) CHARACTER SET gbk,
      u VARCHAR(20) CHARACTER SET utf8mb4, e ENUM('é', 'ü') CHARACTER SET latin1, KEY (l));
    INSERT INTO lc.same VALUES (1, 'é€Ÿ‰\\tx', '俓乗\\\\', '😀\\n', 'é'), (2, NULL, '', 'ü', 'ü');
    INSERT INTO lc.same SELECT seq + 10, CONCAT('ß', seq), CONCAT('中', seq), CONCAT('ü', seq), 'ü' FROM mysql.seq_1_to_2500;
    CREATE TABLE lc.wide (id INT PRIMARY KEY, w VARCHAR(20) CHARACTER SET ucs2, l VARCHAR(20) CHARACTER SET latin1);
    INSERT INTO lc.wide VALUES (1, 'ü\\tÄ€', 'é'), (2, '', NULL);
    CREATE TABLE lc.conv (id INT PRIMARY KEY, l VARCHAR(20) CHARACTER SET latin1);
    INSERT INTO lc.conv VALUES (1, 'é€Ÿ'), (2, 'plain');
    CREATE TABLE lc.dup (id INT PRIMARY KEY, l VARCHAR(20) CHARACTER SET latin1);
    INSERT INTO lc.dup VALUES (1, 'é€Ÿ'), (2, 'ß‰');
    CREATE TABLE lc.num (id INT PRIMARY KEY, n INT);
    INSERT INTO lc.num VALUES (1, 123), (2, -7)`);
  // lc.dup's target holds a row of the same key: its as-stored LOAD DATA skips it, and the chunk is loaded again with
  // statements that read the rows on the same snapshot connection (its charset must be back to utf8mb4 by then).
  // lc.num's target has a UCS-2 text column where the upstream has an INT: even digits must be converted.
  await down.query(`CREATE DATABASE lc;
    CREATE TABLE lc.conv (id INT PRIMARY KEY, l VARCHAR(20) CHARACTER SET utf8mb4);
    CREATE TABLE lc.dup (id INT PRIMARY KEY, l VARCHAR(20) CHARACTER SET latin1);
    INSERT INTO lc.dup VALUES (2, 'old');
    CREATE TABLE lc.num (id INT PRIMARY KEY, n VARCHAR(20) CHARACTER SET ucs2)`);
  await down.query("SET GLOBAL log_output = 'TABLE', GLOBAL general_log = 1");
  try {
    await startTask(c, task('stored', 'lc'));
    await waitStage(c, 'stored', (v) => v.sources[0]!.stage === 'Finished', 'full task finished', 120_000);
  } finally {
    await down.query('SET GLOBAL general_log = 0');
  }
  await assertSame(up, down, [
    { up: ['lc', 'same'] },
    { up: ['lc', 'wide'] },
    { up: ['lc', 'conv'] },
    { up: ['lc', 'dup'] },
  ]);
  const hex = async (db: typeof up, sql: string) => JSON.stringify(await db.query(sql));
  for (const t of ['same', 'wide', 'dup']) {
    const more = t === 'same' ? ', HEX(g), HEX(u), HEX(e)' : t === 'wide' ? ', HEX(w)' : '';
    const sql = `SELECT id, HEX(l)${more} FROM lc.${t} ORDER BY id`;
    assert.equal(await hex(down, sql), await hex(up, sql), `lc.${t} byte for byte`);
  }
  assert.equal(
    await hex(down, 'SELECT id, HEX(l) AS h FROM lc.conv ORDER BY id'),
    await hex(up, 'SELECT id, HEX(CONVERT(l USING utf8mb4)) AS h FROM lc.conv ORDER BY id'),
    'lc.conv converted to utf8mb4',
  );
  assert.equal(
    await hex(down, 'SELECT id, n AS v FROM lc.num ORDER BY id'),
    await hex(up, 'SELECT id, CAST(n AS CHAR) AS v FROM lc.num ORDER BY id'),
    'lc.num: the INT values in a UCS-2 column',
  );
  const loads: { t: string; cs: string }[] = await down.query(
    `SELECT REGEXP_SUBSTR(CONVERT(argument USING utf8mb4), '(?<=INTO TABLE \`lc\`.\`)[a-z]+') AS t,
            REGEXP_SUBSTR(CONVERT(argument USING utf8mb4), '(?<=CHARACTER SET )[a-z0-9]+') AS cs
       FROM mysql.general_log WHERE CONVERT(argument USING utf8mb4) LIKE 'LOAD DATA%\`lc\`%'`,
  );
  const by = (t: string) => [...new Set(loads.filter((r) => r.t === t).map((r) => r.cs))];
  assert.deepEqual(by('same'), ['binary'], 'lc.same went as stored');
  assert.deepEqual(by('wide'), ['utf8mb4'], 'lc.wide was converted');
  assert.deepEqual(by('conv'), ['utf8mb4'], 'lc.conv was converted');
  assert.deepEqual(by('dup'), ['binary'], 'lc.dup went as stored (then by statements)');
  assert.deepEqual(by('num'), ['utf8mb4'], 'lc.num was converted');
});
