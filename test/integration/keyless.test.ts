/**
 * Tables without a primary or unique key, through the load and sync: rows are matched on every column (DM does the
 * same), so duplicates, NULLs, FLOAT/DOUBLE values (a FLOAT compared with its decimal text is not equal to itself),
 * DECIMAL, temporal and binary columns must all match the row they were read from. Each statement updates or deletes
 * one of several identical rows; the copy must keep exactly as many of each as the upstream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileCluster, schemasBody, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

const cluster = fileCluster({ upstreams: 1 });

const BODY = schemasBody('nk');

/** Every row with its multiplicity, in one text: numbers and times as the server prints them, text and bytes as HEX. */
async function multiset(db: Cluster['sb']['downstream']): Promise<string> {
  const rows = await db.query(
    `SELECT CAST(a AS CHAR) a, CAST(f AS CHAR) f, CAST(d AS CHAR) d, CAST(m AS CHAR) m, HEX(t) t, HEX(b) b,
       CAST(dt AS CHAR) dt, CAST(n AS CHAR) n, COUNT(*) k
     FROM nk.t GROUP BY a, f, d, m, t, b, dt, n ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`,
  );
  return JSON.stringify(rows);
}

test('a table without a key: duplicates, NULLs, FLOAT, DOUBLE, DECIMAL, text, bytes and times matched row by row', {
  timeout: 180_000,
}, async () => {
  const c = cluster();
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE nk');
  await up.query(
    'CREATE TABLE nk.t (a INT, f FLOAT, d DOUBLE, m DECIMAL(10,3), t VARCHAR(20), b VARBINARY(8), dt DATETIME(3), n INT NULL)',
  );
  const base = `(1, 0.1, 0.1, 1.5, 'x', x'00ff', '2024-01-01 00:00:00.123', NULL),
    (1, 0.1, 0.1, 1.5, 'x', x'00ff', '2024-01-01 00:00:00.123', NULL),
    (2, 3.14159, 2.718281828459045, -0.001, 'ü', NULL, NULL, 7),
    (2, 3.14159, 2.718281828459045, -0.001, 'ü', NULL, NULL, 7),
    (3, -1e-10, 1e300, 0, '', x'', '9999-12-31 23:59:59.999', 0)`;
  await up.query(`INSERT INTO nk.t VALUES ${base}`);
  await startTask(c, taskYaml('nk', down, BODY));
  await waitSynced(c, 'nk');
  assert.equal(await multiset(down), await multiset(up), 'after the load');

  // Sync: more duplicates, then one of each pair changed or deleted.
  await up.query(`INSERT INTO nk.t VALUES ${base}`);
  await up.query('UPDATE nk.t SET n = 1 WHERE a = 1 LIMIT 1');
  await up.query('UPDATE nk.t SET f = f * 2 WHERE a = 2 LIMIT 1');
  await up.query('DELETE FROM nk.t WHERE a = 2 AND n = 7 LIMIT 1');
  await up.query('DELETE FROM nk.t WHERE a = 3 LIMIT 1');
  await up.query("UPDATE nk.t SET t = 'y', b = x'01' WHERE a = 1 AND n IS NULL LIMIT 2");
  await up.query('UPDATE nk.t SET d = d + 1 WHERE a = 3');
  await waitSynced(c, 'nk');
  assert.equal(await multiset(down), await multiset(up), 'after sync');
  const [n] = await down.query('SELECT COUNT(*) AS n FROM nk.t');
  const [m] = await up.query('SELECT COUNT(*) AS n FROM nk.t');
  assert.equal(Number((n as { n: number }).n), Number((m as { n: number }).n));
});
