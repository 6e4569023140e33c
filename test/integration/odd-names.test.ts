/**
 * Identifiers that need quoting everywhere tsdm writes SQL: a schema with a dash, a table with a backtick, a dot and a
 * space, columns named after reserved words, with spaces, dots, backticks and non-ASCII letters, an index on them.
 * Through the load (LOAD DATA's column list), sync (INSERT, in-place UPDATE, DELETE) and DDL (ADD / RENAME / DROP
 * COLUMN, ADD INDEX), then a RENAME TABLE to another odd name; compared row by row.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSame, fileCluster, schemasBody, startTask, taskYaml, waitSynced } from './helpers.ts';

const cluster = fileCluster({ upstreams: 1 });

const BODY = schemasBody('my-db');

const T = '`my-db`.`odd``name.t x`';

test('schema, table and column names that need quoting, through load, sync and DDL', { timeout: 180_000 }, async () => {
  const c = cluster();
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE `my-db`');
  await up.query(`CREATE TABLE ${T} (
    \`select\` INT PRIMARY KEY, \`col with space\` VARCHAR(20), \`a.b\` INT, \`back\`\`tick\` TEXT, \`ünï\` VARCHAR(10),
    \`order\` INT, KEY \`idx.odd name\` (\`a.b\`, \`order\`)
  )`);
  await up.query(
    `INSERT INTO ${T} SELECT seq, CONCAT('s', seq), seq % 7, CONCAT('b\`', seq), 'ü', seq FROM mysql.seq_1_to_500`,
  );
  await startTask(c, taskYaml('odd', down, BODY));
  await waitSynced(c, 'odd');

  await up.query(`INSERT INTO ${T} VALUES (1001, 'new', 1, 'x', 'é', 1)`);
  await up.query(`UPDATE ${T} SET \`col with space\` = 'upd', \`order\` = \`order\` + 1 WHERE \`select\` <= 20`);
  await up.query(`DELETE FROM ${T} WHERE \`select\` BETWEEN 30 AND 40`);
  await up.query(`ALTER TABLE ${T} ADD COLUMN \`new col\` INT DEFAULT 5, ADD INDEX \`i 2\` (\`ünï\`)`);
  await up.query(`UPDATE ${T} SET \`new col\` = \`select\` WHERE \`select\` <= 10`);
  await up.query(`ALTER TABLE ${T} CHANGE \`ünï\` \`ünï 2\` VARCHAR(12)`);
  await up.query(`INSERT INTO ${T} (\`select\`, \`ünï 2\`, \`new col\`) VALUES (1002, 'ñ', 9)`);
  await up.query(`ALTER TABLE ${T} DROP COLUMN \`a.b\``);
  await up.query(`UPDATE ${T} SET \`back\`\`tick\` = 'after drop' WHERE \`select\` = 50`);
  await up.query('RENAME TABLE `my-db`.`odd``name.t x` TO `my-db`.`other ``name`');
  await up.query('INSERT INTO `my-db`.`other ``name` (`select`, `new col`) VALUES (1003, 3)');
  await waitSynced(c, 'odd');

  await assertSame(up, down, [{ up: ['my-db', 'other `name'] }]);
  const [n] = await down.query('SELECT COUNT(*) AS n FROM `my-db`.`other ``name`');
  assert.equal(Number((n as { n: number }).n), 492);
});
