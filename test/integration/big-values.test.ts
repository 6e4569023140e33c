/**
 * Large single values: a LONGBLOB and a LONGTEXT of several MB through load and sync. tsdm writes BINARY/BLOB values
 * as hex (LOAD DATA fields, SQL literals), which doubles them, so a row the upstream's max_allowed_packet admits can
 * exceed the downstream's: the task pauses with TSDM-30022 (not a retry loop, not a generic exec error) and a
 * suggestion to raise it; after the DBA does, resume-task finishes, equal.
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
  await up.query('CREATE TABLE bv.t (id INT PRIMARY KEY, b LONGBLOB, t LONGTEXT, n INT)');
  // 4 MB of bytes (8 MB as hex) and 2M two-byte characters: 12 MB in the load's file, under the 16 MB limit.
  await up.query(`INSERT INTO bv.t VALUES (1, UNHEX(REPEAT('ab', ${4 * MB})), REPEAT('ü', ${2 * MB}), 1)`);
  await startTask(c, taskYaml('bv', down, BODY));
  await waitSynced(c, 'bv');

  // 9 MB of bytes: 18 MB as hex, over the downstream's 16 MB, although the row fits the upstream's.
  await up.query(
    `INSERT INTO bv.t VALUES (2, CONCAT(UNHEX(REPEAT('cd', ${4.5 * MB})), UNHEX(REPEAT('ef', ${4.5 * MB}))), 'small', 2)`,
  );
  await up.query('UPDATE bv.t SET n = 10 WHERE id = 1');
  await up.query(`INSERT INTO bv.t VALUES (3, NULL, NULL, 3)`);
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
  const sums = 'SELECT id, LENGTH(b) lb, MD5(b) mb, CHAR_LENGTH(t) ct, MD5(t) mt, n FROM bv.t ORDER BY id';
  assert.deepEqual(await down.query(sums), await up.query(sums));
});
