/**
 * Upstream data for the end-to-end tests: 3 schemas, 20 tables, the common column types, ~200k rows in total.
 * Generated server-side from MariaDB's sequence engine (seq_1_to_N), so seeding takes seconds.
 */
import type { MariaDBInstance } from '../harness/index.ts';
import type { WorkloadTable } from '../harness/workload.ts';

export const TYPES_TABLE = `CREATE TABLE shop.all_types (
  id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  i8 TINYINT, u8 TINYINT UNSIGNED, i16 SMALLINT, i32 INT, u64 BIGINT UNSIGNED, i64 BIGINT,
  dec1 DECIMAL(20,6), dec2 DECIMAL(65,30), f FLOAT, d DOUBLE,
  s VARCHAR(64) CHARACTER SET utf8mb4, c CHAR(8), t TEXT, l1 VARCHAR(20) CHARACTER SET latin1,
  b BLOB, vb VARBINARY(16), bin BINARY(4), bits BIT(12),
  dt DATE, dtm DATETIME(6), ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME(6), y YEAR,
  e ENUM('small','medium','large','x,y'), st SET('a','b','cd'), j JSON,
  gen INT AS (i32 * 2) VIRTUAL
) DEFAULT CHARSET=utf8mb4`;

const TYPES_INSERT = (from: number, to: number) => `INSERT INTO shop.all_types
  (id,i8,u8,i16,i32,u64,i64,dec1,dec2,f,d,s,c,t,l1,b,vb,bin,bits,dt,dtm,ts,tm,y,e,st,j)
  SELECT seq, (seq % 256) - 128, seq % 256, (seq % 65536) - 32768, seq * 7 - 100000,
    IF(seq % 97 = 0, 18446744073709551615, seq * 1000003), IF(seq % 89 = 0, -9223372036854775808, seq * -31),
    seq / 7, CONCAT('12345678901234567890123456789012345.', LPAD(seq, 30, '0')), seq / 3, seq / 9.0,
    IF(seq % 10 = 0, NULL, CONCAT('name-', seq, IF(seq % 13 = 0, ' 😀 ünï', ''))), LEFT(MD5(seq), 8), REPEAT('x', seq % 50),
    IF(seq % 11 = 0, 'café', 'abc'), IF(seq % 5 = 0, NULL, UNHEX(CONCAT(MD5(seq), '00FF'))), UNHEX(LPAD(HEX(seq), 8, '0')),
    UNHEX('00010203'), b'101010101010' & seq,
    DATE_ADD('2000-01-01', INTERVAL seq DAY), DATE_ADD('2020-01-01 00:00:00.000000', INTERVAL seq * 1000001 MICROSECOND),
    IF(seq % 7 = 0, NULL, FROM_UNIXTIME(1600000000 + seq, '%Y-%m-%d %H:%i:%s.%f')),
    IF(seq % 3 = 0, '-838:59:59.000000', SEC_TO_TIME(seq % 86400)), 1901 + seq % 255,
    ELT(1 + seq % 4, 'small', 'medium', 'large', 'x,y'), IF(seq % 2 = 0, 'a,cd', 'b'),
    IF(seq % 4 = 0, NULL, JSON_OBJECT('k', seq, 'arr', JSON_ARRAY(1, 'two', NULL), 's', 'q"uote'))
  FROM (SELECT CAST(seq AS SIGNED) AS seq FROM mysql.seq_${from}_to_${to}) s`;

const GENERIC = (s: string, t: string) => `CREATE TABLE \`${s}\`.\`${t}\` (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, amount DECIMAL(12,2), qty INT,
  created DATETIME(6) NOT NULL, note TEXT NULL, KEY (name)) DEFAULT CHARSET=utf8mb4`;

export const GENERIC_TABLES: [string, string][] = [
  ...['orders', 'order_items', 'products', 'customers', 'payments', 'shipments', 'carts'].map(
    (t) => ['shop', t] as [string, string],
  ),
  ...['contacts', 'accounts', 'leads', 'notes', 'tasks'].map((t) => ['crm', t] as [string, string]),
  ...['access', 'audit', 'errors', 'metrics'].map((t) => ['logs', t] as [string, string]),
];

export const ALL_TABLES: [string, string][] = [
  ['shop', 'all_types'],
  ...GENERIC_TABLES,
  ['crm', 'pairs'],
  ['crm', 'uk_only'],
  ['logs', 'events_nokey'],
];

/** Seeds ~200k rows: all_types 20k, 16 generic tables x 10k, pairs 5k, uk_only 5k, keyless 10k (with duplicates). */
export async function seed(db: MariaDBInstance, scale = 1): Promise<void> {
  await db.query('CREATE DATABASE shop; CREATE DATABASE crm; CREATE DATABASE logs');
  await db.query(TYPES_TABLE);
  await db.query(TYPES_INSERT(1, Math.round(20_000 * scale)));
  for (const [s, t] of GENERIC_TABLES) {
    await db.query(GENERIC(s, t));
    await db.query(`INSERT INTO \`${s}\`.\`${t}\` (id, name, amount, qty, created, note) SELECT seq, CONCAT('${t}-', seq), seq * 1.25, seq % 100,
      DATE_ADD('2021-06-01', INTERVAL seq SECOND), IF(seq % 3 = 0, NULL, REPEAT('n', seq % 40)) FROM mysql.seq_1_to_${Math.round(10_000 * scale)}`);
  }
  await db.query(`CREATE TABLE crm.pairs (a INT NOT NULL, b VARCHAR(20) NOT NULL, v INT, PRIMARY KEY (a, b))`);
  await db.query(
    `INSERT INTO crm.pairs SELECT seq % 100, CONCAT('k', seq), seq FROM mysql.seq_1_to_${Math.round(5000 * scale)}`,
  );
  await db.query(`CREATE TABLE crm.uk_only (code VARCHAR(20) NOT NULL, val INT, UNIQUE KEY (code))`);
  await db.query(
    `INSERT INTO crm.uk_only SELECT CONCAT('c', seq), seq FROM mysql.seq_1_to_${Math.round(5000 * scale)}`,
  );
  await db.query(`CREATE TABLE logs.events_nokey (kind VARCHAR(10), n INT, payload VARCHAR(50))`);
  await db.query(
    `INSERT INTO logs.events_nokey SELECT ELT(1 + seq % 3, 'a', 'b', 'c'), seq % 500, 'same' FROM mysql.seq_1_to_${Math.round(10_000 * scale)}`,
  );
}

/** What the steady writer touches while the migration runs. */
export const WORKLOAD: WorkloadTable[] = [
  {
    schema: 'shop',
    table: 'orders',
    idCol: 'id',
    insert: (id) => `(id, name, amount, qty, created) VALUES (${id}, 'w-${id}', ${id % 1000}.5, 1, NOW(6))`,
    update: `amount = amount + 1, note = CONCAT(IFNULL(note, ''), 'u')`,
  },
  {
    schema: 'crm',
    table: 'contacts',
    idCol: 'id',
    insert: (id) => `(id, name, amount, qty, created) VALUES (${id}, 'c-${id}', NULL, NULL, NOW(6))`,
    update: `name = CONCAT(name, '!'), qty = IFNULL(qty, 0) + 1`,
  },
  {
    schema: 'shop',
    table: 'all_types',
    idCol: 'id',
    insert: (id) =>
      `(id, i32, s, dtm, ts, j, bits, u64, dec2) VALUES (${id}, ${id % 1000}, 'ins 😀', '2024-02-29 23:59:59.999999', '2024-01-01 00:00:00.123', '{"a":1}', b'111', 18446744073709551615, -0.000000000000000000000000000001)`,
    update: `i32 = i32 + 1, s = CONCAT(IFNULL(s, ''), 'é'), b = UNHEX('00AA00'), tm = '-12:00:00.5'`,
  },
  {
    schema: 'logs',
    table: 'events_nokey',
    idCol: 'n',
    insert: (id) => `VALUES ('w', ${id % 500}, 'same')`,
    update: `payload = 'changed'`,
  },
];

/** The seeded schemas on one source, with small dump chunks (`rows` per chunk) so that a load has many chunks to
 * interrupt: the task body the crash and failover tests share. */
export function chunkedTaskBody(rows: number): string {
  return `mysql-instances:
  - source-id: source1
    block-allow-list: b
    mydumper-thread: 2
    loader-thread: 2
    syncer-thread: 4
    mydumper-config-name: tiny
block-allow-list:
  b:
    do-dbs: ["shop", "crm", "logs"]
mydumpers:
  tiny:
    rows: ${rows}
`;
}
