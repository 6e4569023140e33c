/**
 * check-data's table compare (issue #15, agent/verify/compare-table.ts) on real servers: equal tables of every type
 * class compare equal with the two sessions in different time zones; each planted difference is found with its key
 * and columns and nothing else is (JSON key order, CHAR trailing spaces, a type that renders differently); the fix
 * SQL and repairKeys make the copy equal; a 2-shard merge with and without extended columns; a table without a key;
 * a downstream-only column; several chunks; resume after a stored lastKey.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'mysql2/promise';
import { startMariaDB, type MariaDBInstance } from '../harness/index.ts';
import { compareTable, repairKeys, type CompareOptions } from '../../agent/verify/compare-table.ts';
import type { TablePlan, TableProgress, TableResult, View } from '../../agent/verify/types.ts';

let up: MariaDBInstance, down: MariaDBInstance;
/** The task's time zone: the downstream session's, as the sync writers have it. */
const TASK_ZONE = '-03:30';

before(async () => {
  [up, down] = await Promise.all([
    startMariaDB({ name: 'vc-up', upstream: true, serverId: 131, timeZone: '+08:00' }),
    startMariaDB({ name: 'vc-down', serverId: 231, timeZone: '-05:00' }),
  ]);
});
after(async () => {
  await Promise.all([up?.stop(), down?.stop()]);
});

/** A View built by hand: every connection in a consistent snapshot, the upstream in UTC, the downstream in the task's
 * zone (consistent-point.ts builds the real ones). `sources` map to the one upstream server. */
async function openView(sources: string[]): Promise<View & { close(): Promise<void> }> {
  const upstream = new Map<string, Connection>();
  for (const s of sources) {
    const c = await up.connect();
    await c.query("SET SESSION time_zone = '+00:00'");
    await c.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    upstream.set(s, c);
  }
  const d = await down.connect();
  await d.query(`SET SESSION time_zone = '${TASK_ZONE}'`);
  await d.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
  return {
    upstream,
    downstream: d,
    positions: new Map(),
    close: async () => {
      await Promise.all([...upstream.values(), d].map((c) => c.end()));
    },
  };
}

async function compare(plan: TablePlan, opts: Partial<CompareOptions> = {}): Promise<TableResult> {
  const v = await openView([...new Set(plan.shards.map((s) => s.source))]);
  try {
    return await compareTable(plan, v, { chunkRows: 10_000, maxSamples: 100, ...opts });
  } finally {
    await v.close();
  }
}

/** Runs statements downstream in a normal session of the task's zone (as a repair would). */
async function applyDown(sql: string[]): Promise<void> {
  const c = await down.connect();
  try {
    await c.query(`SET SESSION time_zone = '${TASK_ZONE}'`);
    for (const s of sql) await c.query(s);
  } finally {
    await c.end();
  }
}

/** Same statements on both servers, same session (so TIMESTAMPs hold the same instants). */
async function both(sql: string): Promise<void> {
  const s = `SET SESSION sql_mode = ''; SET SESSION time_zone = '+01:00'; ${sql}`;
  await Promise.all([up.query(s), down.query(s)]);
}

const plan1 = (schema: string, table: string, target = { schema, table }): TablePlan => ({
  target,
  shards: [{ source: 's1', schema, table, constants: {} }],
});

const byKey = (r: TableResult) =>
  Object.fromEntries(
    r.samples.map((d) => [
      Object.values(d.key).join('/'),
      `${d.kind}:${d.kind === 'changed' ? d.columns.map((c) => c.name).join(',') : ''}`,
    ]),
  );

const TYPES = `CREATE TABLE ty.t (
  id INT NOT NULL PRIMARY KEY,
  d DECIMAL(20,6), bu BIGINT UNSIGNED, f FLOAT, db DOUBLE, tm TIME(6), dt DATETIME(6), ts TIMESTAMP(6) NULL DEFAULT NULL,
  b BIT(9), e ENUM('a','b,c',''), s SET('x','y','z'), vb VARBINARY(10), bn BINARY(4), c CHAR(10), vc VARCHAR(50),
  j JSON, u VARCHAR(20) COLLATE utf8mb4_general_ci, lt VARCHAR(20) CHARACTER SET latin1, bl BLOB
) DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_bin`;
const row = (id: number) =>
  `(${id}, '-12345678901234.123450', 18446744073709551615, 3.40282e38, 1.7976931348623157e308, '-838:59:59.999999',
    '9999-12-31 23:59:59.999999', '2038-01-19 03:14:07.99999${id % 10}', b'100000001', 'b,c', 'x,z', x'0000', x'01000000',
    'ab  ', 'x😀', '{"k": "v", "n": [1, 2.5]}', 'a', 'ÿé', x'00ff00')`;

test('every type class: equal, then each planted difference found exactly, fixed by fixSql and by repairKeys', async () => {
  await both(`CREATE DATABASE ty; ${TYPES};
    INSERT INTO ty.t VALUES ${Array.from({ length: 18 }, (_v, i) => row(i + 1)).join(',')};
    INSERT INTO ty.t (id) VALUES (19);
    INSERT INTO ty.t VALUES (20, 0, 0, 0, 0, '00:00:00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', b'0', '', '', x'', x'00000000', '', '', '{}', '', '', x'')`);
  const plan = plan1('ty', 't');
  let r = await compare(plan);
  assert.equal(r.status, 'equal', JSON.stringify(r.samples));
  assert.equal(r.rows, 20);
  assert.equal(r.reason, undefined, 'same types: the checksum fast path');
  assert.deepEqual(r.chunks, { compared: 1, readRows: 0 }, 'equal values checksum equal across time zones');
  // Differences of every class; and changes that are not differences: JSON key order, CHAR trailing spaces.
  await down.query(`SET SESSION sql_mode = ''; SET SESSION time_zone = '+01:00';
    UPDATE ty.t SET d = '-12345678901234.123451' WHERE id = 2; UPDATE ty.t SET bu = 18446744073709551614 WHERE id = 3;
    UPDATE ty.t SET f = 1.5 WHERE id = 4; UPDATE ty.t SET tm = '-838:59:59.999998' WHERE id = 5;
    UPDATE ty.t SET dt = '9999-12-31 23:59:59.999998' WHERE id = 6; UPDATE ty.t SET ts = ts + INTERVAL 1 SECOND WHERE id = 7;
    UPDATE ty.t SET b = b'100000000' WHERE id = 8; UPDATE ty.t SET e = 'a', s = 'x,y,z' WHERE id = 9;
    UPDATE ty.t SET vb = x'000000' WHERE id = 10; UPDATE ty.t SET bn = x'01000001' WHERE id = 11;
    UPDATE ty.t SET vc = 'x😀 ' WHERE id = 12; UPDATE ty.t SET j = '{"k": "w", "n": [1, 2.5]}' WHERE id = 13;
    UPDATE ty.t SET j = '{"n": [1, 2.50], "k":"v"}', c = 'ab' WHERE id = 14; UPDATE ty.t SET u = 'A' WHERE id = 15;
    UPDATE ty.t SET vc = 'x😃' WHERE id = 17; UPDATE ty.t SET vc = NULL WHERE id = 20; UPDATE ty.t SET bl = x'00ff' WHERE id = 16;
    DELETE FROM ty.t WHERE id = 18; INSERT INTO ty.t (id, vc) VALUES (1000, 'extra')`);
  r = await compare(plan);
  assert.equal(r.status, 'different');
  assert.deepEqual(byKey(r), {
    '2': 'changed:d',
    '3': 'changed:bu',
    '4': 'changed:f',
    '5': 'changed:tm',
    '6': 'changed:dt',
    '7': 'changed:ts',
    '8': 'changed:b',
    '9': 'changed:e,s',
    '10': 'changed:vb',
    '11': 'changed:bn',
    '12': 'changed:vc',
    '13': 'changed:j',
    '15': 'changed:u',
    '16': 'changed:bl',
    '17': 'changed:vc',
    '20': 'changed:vc',
    '18': 'missing:',
    '1000': 'extra:',
  });
  assert.equal(r.differences, 18);
  const col = (id: string, name: string) =>
    r.samples.find((d) => d.key.id === id)!.columns.find((c) => c.name === name)!;
  assert.deepEqual(col('7', 'ts'), {
    name: 'ts',
    upstream: '2038-01-19 02:14:07.999997 UTC',
    downstream: '2038-01-19 02:14:08.999997 UTC',
  });
  assert.deepEqual(col('10', 'vb'), { name: 'vb', upstream: '0x0000', downstream: '0x000000' });
  assert.deepEqual(col('20', 'vc'), { name: 'vc', upstream: '', downstream: null });
  assert.deepEqual(col('3', 'bu'), {
    name: 'bu',
    upstream: '18446744073709551615',
    downstream: '18446744073709551614',
  });
  assert.match(r.fixSql[0]!, /^DELETE FROM `ty`.`t` WHERE `id` IN \(1000\)$/);
  await applyDown(r.fixSql);
  r = await compare(plan);
  assert.equal(r.status, 'equal', JSON.stringify(r.samples));

  // repairKeys: from the keys of a report, re-read upstream in the View, written through a normal connection.
  await down.query(`UPDATE ty.t SET ts = NULL, bn = x'00000000' WHERE id = 2; DELETE FROM ty.t WHERE id = 3;
    INSERT INTO ty.t (id) VALUES (2000)`);
  r = await compare(plan);
  assert.equal(r.differences, 3);
  const v = await openView(['s1']);
  const conn = await down.connect();
  try {
    await conn.query(`SET SESSION time_zone = '${TASK_ZONE}'`);
    const run = await repairKeys(
      plan,
      v,
      conn,
      r.samples.map((d) => d.key),
    );
    assert.equal(run.length, 2, run.join('\n'));
  } finally {
    await conn.end();
    await v.close();
  }
  r = await compare(plan);
  assert.equal(r.status, 'equal', JSON.stringify(r.samples));
});

test('2-shard merge with extended columns in the key, and without; a downstream-only column is ignored', async () => {
  await up.query(`CREATE DATABASE sh1; CREATE DATABASE sh2;
    CREATE TABLE sh1.o (id INT NOT NULL PRIMARY KEY, v VARCHAR(20)); CREATE TABLE sh2.o LIKE sh1.o;
    INSERT INTO sh1.o SELECT seq, CONCAT('a', seq) FROM mysql.seq_1_to_300; INSERT INTO sh2.o SELECT seq, CONCAT('b', seq) FROM mysql.seq_1_to_300;
    CREATE TABLE sh1.p (id INT NOT NULL PRIMARY KEY, v VARCHAR(20)); CREATE TABLE sh2.p LIKE sh1.p;
    INSERT INTO sh1.p SELECT seq, 'one' FROM mysql.seq_1_to_100; INSERT INTO sh2.p SELECT seq, 'two' FROM mysql.seq_101_to_200;`);
  await down.query(`CREATE DATABASE m;
    CREATE TABLE m.o (id INT NOT NULL, v VARCHAR(20), c_src VARCHAR(10) NOT NULL, PRIMARY KEY (id, c_src));
    INSERT INTO m.o SELECT seq, CONCAT('a', seq), 's1' FROM mysql.seq_1_to_300; INSERT INTO m.o SELECT seq, CONCAT('b', seq), 's2' FROM mysql.seq_1_to_300;
    CREATE TABLE m.p (id INT NOT NULL PRIMARY KEY, v VARCHAR(20), extra_col INT NOT NULL DEFAULT 7);
    INSERT INTO m.p (id, v) SELECT seq, 'one' FROM mysql.seq_1_to_100; INSERT INTO m.p (id, v) SELECT seq, 'two' FROM mysql.seq_101_to_200;`);
  const merged: TablePlan = {
    target: { schema: 'm', table: 'o' },
    shards: [
      { source: 's1', schema: 'sh1', table: 'o', constants: { c_src: 's1' } },
      { source: 's2', schema: 'sh2', table: 'o', constants: { c_src: 's2' } },
    ],
  };
  const plain: TablePlan = {
    target: { schema: 'm', table: 'p' },
    shards: [
      { source: 's1', schema: 'sh1', table: 'p', constants: {} },
      { source: 's2', schema: 'sh2', table: 'p', constants: {} },
    ],
  };
  const progress: TableProgress[] = [];
  let r = await compare(merged, { chunkRows: 50, onProgress: (p) => void progress.push(p) });
  assert.equal(r.status, 'equal', JSON.stringify(r.samples));
  assert.equal(r.rows, 600);
  assert.equal(r.chunks!.readRows, 0);
  assert.ok(progress.length > 2, `chunks: ${progress.length}`);
  assert.equal(progress.at(-1)!.done, true);
  r = await compare(plain, { chunkRows: 30 });
  assert.equal(r.status, 'equal', JSON.stringify(r.samples));
  assert.equal(r.rows, 200);

  // A row changed only in shard 2's rows downstream; a row of shard 1 missing; extra_col changed (ignored).
  await down.query(`UPDATE m.o SET v = 'changed' WHERE id = 7 AND c_src = 's2'; DELETE FROM m.o WHERE id = 299 AND c_src = 's1';
    UPDATE m.p SET v = 'x', extra_col = 9 WHERE id = 150; UPDATE m.p SET extra_col = 8 WHERE id = 3`);
  r = await compare(merged, { chunkRows: 50 });
  assert.deepEqual(byKey(r), { '7/s2': 'changed:v', '299/s1': 'missing:' });
  await applyDown(r.fixSql);
  r = await compare(plain, { chunkRows: 30 });
  assert.deepEqual(byKey(r), { '150': 'changed:v' });
  await applyDown(r.fixSql);
  assert.equal((await compare(merged, { chunkRows: 50 })).status, 'equal');
  assert.equal((await compare(plain)).status, 'equal');
  const [x] = await down.query('SELECT extra_col FROM m.p WHERE id = 150');
  assert.equal(Number(x.extra_col), 9, 'the fix keeps downstream-only columns');
});

test('a table without a key: multiset compare, duplicates counted', async () => {
  await both(`CREATE DATABASE nk; CREATE TABLE nk.t (a INT, b VARCHAR(10));
    INSERT INTO nk.t VALUES (1, 'x'), (1, 'x'), (2, NULL), (3, '')`);
  const plan = plan1('nk', 't');
  assert.equal((await compare(plan)).status, 'equal');
  await down.query(
    `DELETE FROM nk.t WHERE a = 1 LIMIT 1; UPDATE nk.t SET b = NULL WHERE a = 3; INSERT INTO nk.t VALUES (4, 'y')`,
  );
  const r = await compare(plan);
  assert.equal(r.differences, 4);
  assert.deepEqual(r.samples.map((d) => `${d.kind}:${d.key.a}/${d.key.b}`).sort(), [
    'extra:3/null',
    'extra:4/y',
    'missing:1/x',
    'missing:3/',
  ]);
  await applyDown(r.fixSql);
  assert.equal((await compare(plan)).status, 'equal');
});

test('several chunks, rows beyond the downstream max key, resume after lastKey, types that render differently', async () => {
  await up.query(`CREATE DATABASE big; CREATE TABLE big.t (id INT NOT NULL PRIMARY KEY, v VARCHAR(40), d DECIMAL(10,2));
    INSERT INTO big.t SELECT seq, MD5(seq), seq / 4 FROM mysql.seq_1_to_5000;`);
  await down.query(`CREATE DATABASE big; CREATE TABLE big.t (id INT NOT NULL PRIMARY KEY, v VARCHAR(40), d DECIMAL(10,2));
    INSERT INTO big.t SELECT seq, MD5(seq), seq / 4 FROM mysql.seq_1_to_4990;
    UPDATE big.t SET v = 'x' WHERE id IN (10, 2500);`);
  const plan = plan1('big', 't');
  const progress: TableProgress[] = [];
  let r = await compare(plan, { chunkRows: 1000, onProgress: (p) => void progress.push(p) });
  assert.equal(r.differences, 12);
  assert.equal(r.rows, 5000);
  assert.ok(progress.length >= 3, `chunks: ${progress.length}`);
  assert.equal(r.chunks!.readRows, 3, 'the chunks of ids 10, 2500 and 4991..5000 only');
  // Resume after the first chunk: the difference in it (id 10) is not read again; the counts continue.
  const first = progress[0]!;
  assert.deepEqual(first.lastKey, ['1000']);
  r = await compare(plan, { chunkRows: 1000, resume: first });
  assert.equal(r.differences, first.differences + 11);
  assert.equal(r.rows, 5000);
  assert.ok(!r.samples.some((d) => d.key.id === '10'));

  // A table the copy lacks entirely: the open-ended last chunk is read upstream in pages, every row missing.
  await up.query('CREATE TABLE big.e LIKE big.t; INSERT INTO big.e SELECT * FROM big.t WHERE id <= 2500');
  await down.query('CREATE TABLE big.e LIKE big.t');
  r = await compare(plan1('big', 'e'), { chunkRows: 1000, maxSamples: 5 });
  assert.equal(r.differences, 2500);
  assert.equal(r.rows, 2500);
  assert.equal(r.samples.length, 5);
  assert.equal(r.fixSql.length, 5, '500 rows per INSERT');
  await applyDown(r.fixSql);
  assert.equal((await compare(plan1('big', 'e'), { chunkRows: 1000 })).status, 'equal');

  // utf8mb3 upstream, utf8mb4 downstream (the usual upgrade), and integer display widths: still the fast path.
  await up.query(`CREATE TABLE big.cs (id INT(11) NOT NULL PRIMARY KEY, v VARCHAR(20) CHARACTER SET utf8mb3, l TEXT CHARACTER SET latin1);
    INSERT INTO big.cs SELECT seq, CONCAT('é€', seq), CONCAT('ÿ', seq) FROM mysql.seq_1_to_500`);
  await down.query(`CREATE TABLE big.cs (id INT(5) NOT NULL PRIMARY KEY, v VARCHAR(20) CHARACTER SET utf8mb4, l TEXT CHARACTER SET utf8mb4);
    INSERT INTO big.cs SELECT seq, CONCAT('é€', seq), CONCAT('ÿ', seq) FROM mysql.seq_1_to_500; UPDATE big.cs SET v = 'e€7' WHERE id = 7`);
  r = await compare(plan1('big', 'cs'), { chunkRows: 100 });
  assert.equal(r.reason, undefined);
  assert.deepEqual(byKey(r), { '7': 'changed:v' });
  assert.equal(r.chunks!.readRows, 1, 'only the chunk of id 7 is read row by row');

  // DECIMAL(10,2) upstream, DECIMAL(12,4) downstream: rows compared one by one, equal values equal.
  await down.query('ALTER TABLE big.t MODIFY d DECIMAL(12,4); DELETE FROM big.t WHERE id > 100');
  await up.query("DELETE FROM big.t WHERE id > 100; UPDATE big.t SET v = 'x' WHERE id = 10");
  r = await compare(plan, { chunkRows: 30 });
  assert.equal(r.status, 'equal', JSON.stringify(r.samples));
  assert.match(r.reason ?? '', /DECIMAL|decimal/);
  // An upstream column missing downstream: not comparable, with the reason.
  await down.query('ALTER TABLE big.t DROP COLUMN v');
  r = await compare(plan);
  assert.equal(r.status, 'not-comparable');
  assert.match(r.reason!, /column v .* does not exist downstream/);
});

test('keys of every kind chunk, resume and repair exactly: TIMESTAMP, VARBINARY with 0x00, BIGINT UNSIGNED, composite', async () => {
  await both(`CREATE DATABASE ky;
    CREATE TABLE ky.ts (k TIMESTAMP(3) NOT NULL PRIMARY KEY, v INT);
    INSERT INTO ky.ts SELECT FROM_UNIXTIME(1600000000 + seq * 3600 + seq / 1000), seq FROM mysql.seq_1_to_300;
    CREATE TABLE ky.vb (k VARBINARY(8) NOT NULL PRIMARY KEY, v INT);
    INSERT INTO ky.vb SELECT UNHEX(LPAD(HEX(seq), IF(seq % 2, 4, 6), '0')), seq FROM mysql.seq_1_to_300;
    CREATE TABLE ky.bu (k BIGINT UNSIGNED NOT NULL PRIMARY KEY, v INT);
    INSERT INTO ky.bu SELECT 18446744073709551615 - seq, seq FROM mysql.seq_0_to_299;
    CREATE TABLE ky.cp (a DATE NOT NULL, b VARCHAR(10) NOT NULL, v INT, PRIMARY KEY (a, b));
    INSERT INTO ky.cp SELECT DATE('2024-01-01') + INTERVAL seq % 7 DAY, CONCAT('b', seq), seq FROM mysql.seq_1_to_300;`);
  // One changed, one missing, one extra row per table, in the middle of the key order.
  await down.query(`SET SESSION time_zone = '+01:00';
    UPDATE ky.ts SET v = -1 WHERE v = 150; DELETE FROM ky.ts WHERE v = 200;
    INSERT INTO ky.ts VALUES ('2020-09-13 12:26:40.5', 0);
    UPDATE ky.vb SET v = -1 WHERE v = 150; DELETE FROM ky.vb WHERE k = x'0000c8'; INSERT INTO ky.vb VALUES (x'00', 0);
    UPDATE ky.bu SET v = -1 WHERE k = 18446744073709551615; DELETE FROM ky.bu WHERE k = 18446744073709551614;
    INSERT INTO ky.bu VALUES (9223372036854775808, 0);
    UPDATE ky.cp SET v = -1 WHERE b = 'b150'; DELETE FROM ky.cp WHERE b = 'b200'; INSERT INTO ky.cp VALUES ('2024-01-03', 'b', 0);`);
  for (const t of ['ts', 'vb', 'bu', 'cp']) {
    const plan = plan1('ky', t);
    const progress: TableProgress[] = [];
    let r = await compare(plan, { chunkRows: 40, onProgress: (p) => void progress.push(p) });
    assert.equal(r.differences, 3, `${t}: ${JSON.stringify(r.samples)}`);
    assert.deepEqual(r.samples.map((d) => d.kind).sort(), ['changed', 'extra', 'missing'], t);
    assert.ok(progress.length > 3, `${t}: chunks ${progress.length}`);
    // Resuming after every stored point gives the same total (the chunks before it keep their counted differences).
    for (const p of progress.slice(0, -1)) {
      const again = await compare(plan, { chunkRows: 40, resume: p });
      assert.equal(again.differences, 3, `${t} resumed after ${JSON.stringify(p.lastKey)}`);
      assert.equal(again.rows, 300, `${t} resumed after ${JSON.stringify(p.lastKey)}`);
    }
    // Half repaired by key, half by the fix SQL.
    const v = await openView(['s1']);
    const conn = await down.connect();
    try {
      await conn.query(`SET SESSION time_zone = '${TASK_ZONE}'`);
      await repairKeys(plan, v, conn, [r.samples[0]!.key]);
    } finally {
      await conn.end();
      await v.close();
    }
    r = await compare(plan, { chunkRows: 40 });
    assert.equal(r.differences, 2, t);
    await applyDown(r.fixSql);
    r = await compare(plan, { chunkRows: 40 });
    assert.equal(r.status, 'equal', `${t}: ${JSON.stringify(r.samples)}`);
  }
});
