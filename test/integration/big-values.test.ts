/**
 * Large single values: a LONGBLOB and a LONGTEXT of several MB through load and sync. The load writes BLOBs as their
 * own bytes (every byte value and tricky multi-byte-looking sequences checked), so a 9 MB BLOB loads under a 16 MB
 * max_allowed_packet. Sync writes them as hex SQL literals, which doubles them, so a row the upstream's
 * max_allowed_packet admits can exceed the downstream's: the task pauses with TSDM-30022 (not a retry loop, not a
 * generic exec error) and a suggestion to raise it; after the DBA does, resume-task finishes, equal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSame, fileCluster, schemasBody, startTask, taskYaml, waitStage, waitSynced } from './helpers.ts';

const cluster = fileCluster({ upstreams: 1 });

const BODY = schemasBody('bv');

const MB = 1 << 20;

test('multi-MB BLOB and TEXT values: a row over max_allowed_packet pauses with TSDM-30022, raising it and resume-task finish equal', {
  timeout: 240_000,
}, async () => {
  const c = cluster();
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await down.query('SET GLOBAL max_allowed_packet = 16777216');
  await up.query('CREATE DATABASE bv');
  await up.query(
    'CREATE TABLE bv.t (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT, n INT, vb VARBINARY(64), bn BINARY(8))',
  );
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

  // 9 MB of bytes: 18 MB as hex, over the downstream's 16 MB, although the row fits the upstream's.
  await up.query(
    `INSERT INTO bv.t (id, b, t, n) VALUES (2, CONCAT(UNHEX(REPEAT('cd', ${4.5 * MB})), UNHEX(REPEAT('ef', ${4.5 * MB}))), 'small', 2)`,
  );
  await up.query('UPDATE bv.t SET n = 10 WHERE id = 1');
  await up.query(`INSERT INTO bv.t (id, b, t, n) VALUES (3, NULL, NULL, 3)`);
  const paused = await waitStage(
    c,
    'bv',
    (v) => v.sources[0]?.stage === 'Paused' && v.sources[0]?.error !== undefined,
    'the task paused on the large row',
  );
  const err = paused.sources[0]!.error!;
  assert.equal(err.code, 'TSDM-30022', JSON.stringify(err));
  assert.match(err.suggestion ?? '', /max_allowed_packet/);
  assert.equal(err.retryable, false);

  await down.query('SET GLOBAL max_allowed_packet = 67108864');
  assert.equal((await c.ctl(['resume-task', 'bv'])).code, 0);
  await waitSynced(c, 'bv', 180_000);
  await assertSame(up, down, [{ up: ['bv', 't'] }]);
  assert.deepEqual(await down.query(sums), await up.query(sums));
});
