/**
 * Large single values: a LONGBLOB and a LONGTEXT of several MB through load and sync. The load writes BLOBs as their
 * own bytes (every byte value and tricky multi-byte-looking sequences checked), so a 9 MB BLOB loads under a 16 MB
 * max_allowed_packet. Sync binds a row with large binary values (sqlgen.ts BIND_BYTES) instead of writing them as hex,
 * which doubles them: 9 MB BLOBs sync under the same 16 MB, keyed and keyless. A row over the downstream's
 * max_allowed_packet even so (the upstream's admits it) pauses the task with TSDM-30022 (not a retry loop, not a
 * generic exec error) and a suggestion to raise it; after the DBA does, resume-task finishes, equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertSame,
  fileCluster,
  schemasBody,
  startTask,
  taskYaml,
  pausedWithError,
  waitStage,
  waitSynced,
} from './helpers.ts';

const cluster = fileCluster({ upstreams: 1 });

const BODY = schemasBody('bv');

const MB = 1 << 20;

/** The file's cluster, its downstream's max_allowed_packet at 16 MB (MariaDB's default; a test before may raise it). */
async function at16MB() {
  const c = cluster();
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await down.query('SET GLOBAL max_allowed_packet = 16777216');
  return { c, up, down };
}

test('multi-MB BLOB and TEXT values: a row over max_allowed_packet pauses with TSDM-30022, raising it and resume-task finish equal', {
  timeout: 240_000,
}, async () => {
  const { c, up, down } = await at16MB();
  await up.query('CREATE DATABASE bv');
  await up.query(
    'CREATE TABLE bv.t (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT, n INT, vb VARBINARY(64), bn BINARY(8))',
  );
  await up.query('CREATE TABLE bv.k (b LONGBLOB, n INT)');
  // Every byte value, and sequences a multi-byte reader could misread: a UTF-8 lead byte before a backslash, a tab, a
  // newline or the end; a valid 4-byte character; CR LF; NUL. Loaded as the BLOB's own bytes (no hex) since 706d8f0+.
  const tricky = 'E35C74F09F98805C0DE30AC30DFF00C35CE3805CF09F5C0A0D0A5C4E00095C5C';
  await up.query(
    `INSERT INTO bv.t SELECT 100 + seq, CONCAT(UNHEX('${tricky}'), CHAR(seq), UNHEX(REPEAT('${tricky}', seq))), NULL, seq,
       UNHEX('${tricky}'), CHAR(seq, 92, 9, 10, 0, 255) FROM mysql.seq_0_to_255`,
  );
  const all = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0')).join('');
  await up.query(
    `INSERT INTO bv.t (id, b, vb) VALUES (99, UNHEX(REPEAT('${all}', 1000)), UNHEX('${all.slice(0, 128)}'))`,
  );
  // 9 MB of bytes and 2M two-byte characters: a 13 MB line in the load's file, under the 16 MB limit; as hex (22 MB)
  // neither LOAD DATA nor an INSERT could carry it.
  await up.query(
    `INSERT INTO bv.t (id, b, t, n) VALUES (1, CONCAT(UNHEX(REPEAT('ab', ${4.5 * MB})), UNHEX(REPEAT('ba', ${4.5 * MB}))), REPEAT('ü', ${2 * MB}), 1)`,
  );
  const sums =
    'SELECT id, LENGTH(b) lb, MD5(b) mb, CHAR_LENGTH(t) ct, MD5(t) mt, n, HEX(vb) v, HEX(bn) bn FROM bv.t ORDER BY id';
  await startTask(c, taskYaml('bv', down, BODY));
  await waitSynced(c, 'bv');
  assert.deepEqual(await down.query(sums), await up.query(sums), 'after the load');

  // Sync, each row under the downstream's 16 MB as bytes and over it as hex: 9 MB BLOBs inserted (keyed and keyless),
  // row 1 (9 MB BLOB + 4 MB text) updated, a keyless 5 MB row updated (its before and after images both bound: 10 MB)
  // and deleted.
  const blob = (a: string, b: string, mb = 4.5) =>
    `CONCAT(UNHEX(REPEAT('${a}', ${mb * MB})), UNHEX(REPEAT('${b}', ${mb * MB})))`;
  await up.query(`INSERT INTO bv.t (id, b, t, n) VALUES (2, ${blob('cd', 'ef')}, 'small', 2)`);
  await up.query('UPDATE bv.t SET n = 10 WHERE id = 1');
  await up.query(`INSERT INTO bv.t (id, b, t, n) VALUES (3, NULL, NULL, 3)`);
  await up.query(
    `INSERT INTO bv.k VALUES (${blob('01', '02')}, 1), (${blob('03', '04', 2.5)}, 2), (${blob('05', '06', 2.5)}, 3)`,
  );
  await up.query('UPDATE bv.k SET n = 20 WHERE n = 2');
  await up.query('DELETE FROM bv.k WHERE n = 3');
  await waitSynced(c, 'bv');
  const ksums = 'SELECT LENGTH(b) lb, MD5(b) mb, n FROM bv.k ORDER BY n';
  assert.deepEqual(await down.query(sums), await up.query(sums), 'after sync');
  assert.deepEqual(await down.query(ksums), await up.query(ksums), 'keyless after sync');

  // 20 MB of bytes: over the downstream's 16 MB however it is sent; the upstream admits it (64 MB).
  await up.query('SET GLOBAL max_allowed_packet = 67108864');
  const big = await up.connect();
  try {
    await big.query(`INSERT INTO bv.t (id, b, n) VALUES (4, ${blob('aa', 'bb', 10)}, 4)`);
  } finally {
    await big.end();
  }
  await up.query(`INSERT INTO bv.t (id, b, t, n) VALUES (5, NULL, NULL, 5)`);
  const paused = await waitStage(c, 'bv', pausedWithError, 'the task paused on the large row');
  const err = paused.sources[0]!.error!;
  assert.equal(err.code, 'TSDM-30022', JSON.stringify(err));
  assert.match(err.suggestion ?? '', /max_allowed_packet/);
  assert.equal(err.retryable, false);

  await down.query('SET GLOBAL max_allowed_packet = 67108864');
  assert.equal((await c.ctl(['resume-task', 'bv'])).code, 0);
  await waitSynced(c, 'bv', 180_000);
  // bv.k by ksums: a keyless table's row-by-row compare sorts on the BLOB, over the server's sort memory
  await assertSame(up, down, [{ up: ['bv', 't'] }]);
  assert.deepEqual(await down.query(sums), await up.query(sums));
  assert.deepEqual(await down.query(ksums), await up.query(ksums));
});

test('a downstream refusing LOAD DATA LOCAL: the load writes a 9 MB BLOB bound, under a 16 MB max_allowed_packet', {
  timeout: 240_000,
}, async () => {
  const { c, up, down } = await at16MB();
  await down.query('SET GLOBAL local_infile = 0');
  try {
    await up.query('CREATE DATABASE bv2');
    await up.query('CREATE TABLE bv2.t (id INT PRIMARY KEY, b LONGBLOB, n INT)');
    await up.query('CREATE TABLE bv2.k (b LONGBLOB, n INT)');
    const blob = `CONCAT(UNHEX(REPEAT('ab', ${4.5 * MB})), UNHEX(REPEAT('ba', ${4.5 * MB})))`;
    await up.query(`INSERT INTO bv2.t SELECT seq, UNHEX(REPEAT(HEX(seq), seq)), seq FROM mysql.seq_1_to_200`);
    await up.query(`INSERT INTO bv2.t VALUES (1000, ${blob}, 1000), (1001, NULL, 1001)`);
    await up.query(`INSERT INTO bv2.k VALUES (${blob}, 1), (UNHEX('00FF'), 2)`);
    await startTask(c, taskYaml('bv2', down, schemasBody('bv2')));
    await waitSynced(c, 'bv2');
    for (const t of ['t', 'k']) {
      const sums = `SELECT LENGTH(b) lb, MD5(b) mb, n FROM bv2.${t} ORDER BY n`;
      assert.deepEqual(await down.query(sums), await up.query(sums), `bv2.${t}`);
    }
  } finally {
    await down.query('SET GLOBAL local_infile = 1');
  }
});

test('a 17 MB text row over the downstream limit: the task pauses with TSDM-30022 in its status, its SQL clipped', {
  timeout: 240_000,
}, async () => {
  const { c, up, down } = await at16MB();
  await up.query('CREATE DATABASE bv3');
  await up.query('CREATE TABLE bv3.t (id INT PRIMARY KEY, t LONGTEXT)');
  await up.query(`INSERT INTO bv3.t VALUES (1, 'one')`);
  await startTask(c, taskYaml('bv3', down, schemasBody('bv3')));
  await waitSynced(c, 'bv3');
  // Text is not bound (only binary values double as literals): a 17 MB statement, over 16 MB. Before the SQL in
  // an error was clipped, its status record passed NATS's 1 MB limit and the task never showed as paused.
  const big = await up.connect();
  try {
    await big.query(`INSERT INTO bv3.t VALUES (2, REPEAT('t', ${17 * MB}))`);
  } finally {
    await big.end();
  }
  const paused = await waitStage(c, 'bv3', pausedWithError, 'the task paused on the 17 MB row');
  const err = paused.sources[0]!.error!;
  assert.equal(err.code, 'TSDM-30022', JSON.stringify(err).slice(0, 2000));
  assert.ok((err.context?.sql ?? '').length < 4100, `SQL clipped: ${(err.context?.sql ?? '').length} characters`);
  await down.query('SET GLOBAL max_allowed_packet = 67108864');
  assert.equal((await c.ctl(['resume-task', 'bv3'])).code, 0);
  await waitSynced(c, 'bv3', 180_000);
  const sums = 'SELECT id, LENGTH(t) l, MD5(t) m FROM bv3.t ORDER BY id';
  assert.deepEqual(await down.query(sums), await up.query(sums));
});
