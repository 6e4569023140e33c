/**
 * Non-UTF-8 upstream character sets end to end (DM's `gbk` case, and the other multi-byte and single-byte sets
 * MariaDB has): a GBK database whose tables mix GBK, Big5, Shift-JIS, EUC-KR, cp1251 and latin2 columns, a GBK string
 * primary key, and characters whose second byte is 0x5C (a backslash in ASCII: the classic multi-byte escaping trap),
 * copied by the load and then by sync (insert, update of values and of the string key, delete), then across DDL that
 * changes the encoding of later rows (a GBK column with a GBK default; CONVERT TO CHARACTER SET utf8mb4). Compared
 * byte for byte (HEX of every column) as well as by value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSame, fileCluster, schemasBody, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';

const cluster = fileCluster({ upstreams: 1 });

const BODY = schemasBody('cs');

/** Text per column; the GBK, Big5 and Shift-JIS ones hold characters whose trail byte is 0x5C. */
const TEXT = {
  g: '中文测试乗俓僜刓匼',
  b5: '繁體中文許功蓋',
  sj: '日本語ソ表能',
  kr: '한국어 텍스트',
  ru: 'Привет, мир',
  l2: 'Zażółć gęślą jaźń',
};

const row = (id: number, tag: string) =>
  `(${id}, '${TEXT.g}${tag}', '${TEXT.g.slice(0, 3)}', REPEAT('${TEXT.g}', 20), '😀${tag}', '${TEXT.b5}${tag}', '${TEXT.sj}${tag}', '${TEXT.kr}${tag}', '${TEXT.ru}${tag}', '${TEXT.l2}${tag}')`;
const COLS = 'id, a, ch, t, u, b5, sj, kr, ru, l2';

async function hexRows(db: Cluster['sb']['downstream'], table: string, key: string): Promise<string> {
  const cols = await db.query(
    `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'cs' AND TABLE_NAME = '${table}' ORDER BY ORDINAL_POSITION`,
  );
  const list = (cols as { c: string }[]).map((r) => `HEX(\`${r.c}\`)`).join(', ');
  return JSON.stringify(await db.query(`SELECT ${list} FROM cs.${table} ORDER BY ${key}`));
}

test('GBK, Big5, Shift-JIS, EUC-KR, cp1251 and latin2 text, and a GBK string key, copied byte for byte by load and sync', {
  timeout: 180_000,
}, async () => {
  const c = cluster();
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE cs DEFAULT CHARACTER SET gbk');
  await up.query(`CREATE TABLE cs.t (
    id INT PRIMARY KEY, a VARCHAR(40), ch CHAR(5), t TEXT, u VARCHAR(20) CHARACTER SET utf8mb4,
    b5 VARCHAR(40) CHARACTER SET big5, sj VARCHAR(40) CHARACTER SET sjis, kr VARCHAR(40) CHARACTER SET euckr,
    ru VARCHAR(40) CHARACTER SET cp1251, l2 VARCHAR(40) CHARACTER SET latin2, KEY (a)
  ) DEFAULT CHARSET gbk`);
  await up.query('CREATE TABLE cs.k (name VARCHAR(20) PRIMARY KEY, v INT) DEFAULT CHARSET gbk');
  await up.query(`INSERT INTO cs.t (${COLS}) VALUES ${[1, 2, 3].map((i) => row(i, `#${i}`)).join(', ')}`);
  await up.query(`INSERT INTO cs.k VALUES ('${TEXT.g}', 1), ('乗', 2), ('${TEXT.g}\\\\x', 3)`);

  await startTask(c, taskYaml('cs', down, BODY));
  await waitSynced(c, 'cs');
  const [created] = await down.query('SHOW CREATE TABLE cs.k');
  assert.match(
    String((created as Record<string, string>)['Create Table']),
    /CHARSET=gbk/,
    'the table keeps its charset',
  );

  // Sync: inserts, updates of values and of the GBK key, deletes.
  await up.query(`INSERT INTO cs.t (${COLS}) VALUES ${[4, 5].map((i) => row(i, `+${i}`)).join(', ')}`);
  await up.query(
    `UPDATE cs.t SET a = CONCAT(a, '俓'), b5 = '許', sj = 'ソ', kr = '가', ru = 'Ж', l2 = 'ł' WHERE id IN (1, 4)`,
  );
  await up.query('DELETE FROM cs.t WHERE id = 2');
  await up.query(`UPDATE cs.k SET name = '僜刓' WHERE name = '乗'`);
  await up.query(`UPDATE cs.k SET v = v + 10 WHERE name = '${TEXT.g}'`);
  await up.query(`DELETE FROM cs.k WHERE name = '${TEXT.g}\\\\x'`);
  await up.query(`INSERT INTO cs.k VALUES ('匼\\\\', 9)`);
  await waitSynced(c, 'cs');

  // DDL that changes how later rows are encoded: a GBK column with a GBK default, a table converted to utf8mb4.
  await up.query("ALTER TABLE cs.k ADD COLUMN z VARCHAR(10) CHARACTER SET gbk DEFAULT '默认值'");
  await up.query("INSERT INTO cs.k (name, v) VALUES ('新', 20)");
  await up.query("INSERT INTO cs.k VALUES ('新2', 21, '乗z')");
  // A DDL written by a client in gbk (DM's gbk case: run_sql … "gbk"): its text is gbk bytes in the binlog, a default,
  // a comment and a table name in it.
  const gbkClient = await up.connect({ charset: 'GBK_CHINESE_CI' });
  try {
    await gbkClient.query(
      "ALTER TABLE cs.k ADD COLUMN y VARCHAR(10) CHARACTER SET gbk DEFAULT '客户端' COMMENT '你好', COMMENT '表注释'",
    );
    await gbkClient.query("CREATE TABLE cs.`表一` (id INT PRIMARY KEY COMMENT '注释', v VARCHAR(10) DEFAULT '值')");
    await gbkClient.query('INSERT INTO cs.`表一` (id) VALUES (1), (2)');
  } finally {
    await gbkClient.end();
  }
  await up.query('ALTER TABLE cs.t CONVERT TO CHARACTER SET utf8mb4');
  await up.query(`UPDATE cs.t SET a = CONCAT(a, '😀'), sj = CONCAT(sj, '→') WHERE id = 3`);
  await up.query(`INSERT INTO cs.t (${COLS}) VALUES ${row(6, '😀6')}`);
  await waitSynced(c, 'cs');

  await assertSame(up, down, [{ up: ['cs', 't'] }, { up: ['cs', 'k'] }, { up: ['cs', '表一'] }]);
  for (const t of ['k', '表一']) {
    const create = async (db: Cluster['sb']['downstream']) =>
      String(((await db.query(`SHOW CREATE TABLE cs.\`${t}\``)) as Record<string, string>[])[0]!['Create Table']);
    assert.equal(await create(down), await create(up), `cs.${t}: the gbk client's names, defaults and comments`);
  }
  assert.equal(await hexRows(down, 't', 'id'), await hexRows(up, 't', 'id'), 'cs.t byte for byte');
  assert.equal(await hexRows(down, 'k', 'name'), await hexRows(up, 'k', 'name'), 'cs.k byte for byte');
  const [n] = await down.query('SELECT COUNT(*) AS n FROM cs.k');
  assert.equal(Number((n as { n: number }).n), 5);
});
