/**
 * Issue #3 acceptance 2: exact types end to end, in dump/load and in sync, with upstream, downstream and agent in
 * three different time zones. Values are compared exactly as the servers print them (strings and bytes), never
 * through JS numbers.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Coord } from '../../src/coord/index.ts';
import { compareTables, startMariaDB, startNats, type MariaDBInstance, type NatsInstance } from '../harness/index.ts';
import { dmctl, sourceYaml, startAgent, writeTemp, type AgentProcess } from '../harness/tsdm.ts';
import { startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';

let up: MariaDBInstance, down: MariaDBInstance, nats: NatsInstance, agent: AgentProcess, coord: Coord;
let c: Cluster;

const TABLE = `CREATE TABLE IF NOT EXISTS types.t (
  id INT NOT NULL PRIMARY KEY,
  ti TINYINT, tu TINYINT UNSIGNED, si SMALLINT, mi MEDIUMINT, mu MEDIUMINT UNSIGNED, i INT, iu INT UNSIGNED,
  bi BIGINT, bu BIGINT UNSIGNED, d1 DECIMAL(65,30), d2 DECIMAL(10,0), d3 DECIMAL(5,5),
  f FLOAT, db DOUBLE, b1 BIT(1), b64 BIT(64), b9 BIT(9),
  dt DATE, tm TIME(6), tm0 TIME, dtm DATETIME(6), dtm0 DATETIME, ts TIMESTAMP(6) NULL DEFAULT NULL, y YEAR,
  c CHAR(10), vc VARCHAR(100), tx TEXT, lt VARCHAR(20) CHARACTER SET latin1, lt2 TEXT CHARACTER SET latin1,
  bn BINARY(4), vb VARBINARY(10), bl BLOB, mb MEDIUMBLOB,
  e ENUM('a','b,c','d''e',''), s SET('x','y','z'), j JSON,
  gv INT AS (i + 1) VIRTUAL, gs VARCHAR(120) AS (CONCAT(vc, '!')) STORED
) DEFAULT CHARSET=utf8mb4`;

const COLS =
  'id,ti,tu,si,mi,mu,i,iu,bi,bu,d1,d2,d3,f,db,b1,b64,b9,dt,tm,tm0,dtm,dtm0,ts,y,c,vc,tx,lt,lt2,bn,vb,bl,mb,e,s,j';
const ROWS = (base: number) => [
  `(${base + 1},-128,255,-32768,-8388608,16777215,-2147483648,4294967295,-9223372036854775808,18446744073709551615,
    '-99999999999999999999999999999999999.999999999999999999999999999999','9999999999','0.99999',
    3.40282e38,1.7976931348623157e308,b'1',x'FFFFFFFFFFFFFFFF',b'100000001',
    '1000-01-01','-838:59:59.999999','838:59:59','9999-12-31 23:59:59.999999','1000-01-01 00:00:00','2038-01-19 03:14:07.999999',1901,
    'x','😀 emoji ünïcode','${'long '.repeat(500)}','ÿé','àçñ€“”Ÿ',x'00000000',x'00',x'0001000200',x'FF00FF',
    'b,c','x,z','{"k": "v", "n": [1, 2.5, null], "u": "ü😀"}')`,
  `(${base + 2},127,0,32767,8388607,0,2147483647,0,9223372036854775807,0,
    '99999999999999999999999999999999999.000000000000000000000000000001','-9999999999','-0.00001',
    -1.17549e-38,-0.0,b'0',x'0000000000000000',b'0',
    '9999-12-31','00:00:00.000001','-00:00:01','1970-01-01 00:00:00.000001','9999-12-31 23:59:59','1970-01-01 00:00:01.000000',2155,
    '','','','','',x'01020300',x'',x'',x'',
    'd''e','','[]')`,
  `(${base + 3},NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,
    NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL)`,
  `(${base + 4},0,1,0,0,1,0,1,0,1,'0','0','0',0,1e-300,b'1',x'8000000000000001',b'111111111',
    '0000-00-00','12:34:56.5','-12:00:00','0000-00-00 00:00:00','2024-02-29 12:00:00','2024-03-31 01:30:00.123456',0,
    'trailing  ','  lead','tab\\there\\nnewline','\\\\back','quote''s',x'FFFFFFFF',x'FEFF',x'00',x'00',
    '','x,y,z','{"deep": {"a": {"b": [true, false]}}}')`,
];

before(async () => {
  [up, down, nats] = await Promise.all([
    startMariaDB({ name: 'tz-up', upstream: true, serverId: 111, timeZone: '+08:00' }),
    startMariaDB({ name: 'tz-down', serverId: 211, timeZone: '-05:00' }),
    startNats({ name: 'tz-nats' }),
  ]);
  agent = startAgent({ name: 'tz-agent', nats: nats.url, env: { TZ: 'America/Sao_Paulo' } });
  await agent.ready();
  coord = await Coord.connect({ servers: nats.url, cluster: 'dm' });
  c = {
    sb: { upstreams: [up], downstream: down, nats, stop: async () => undefined },
    agent,
    coord,
    ctl: (a) => dmctl(nats.url, a),
    stop: async () => undefined,
  };
  const r = await c.ctl(['operate-source', 'create', writeTemp('tz.yaml', sourceYaml('source1', up))]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await agent?.stop();
  await coord?.close();
  await Promise.all([up?.stop(), down?.stop(), nats?.stop()]);
});

async function insert(base: number): Promise<void> {
  // A permissive sql_mode so zero dates are allowed, as a legacy application would have them.
  await up.query(
    `SET SESSION sql_mode = ''; SET SESSION time_zone = '+03:00'; INSERT INTO types.t (${COLS}) VALUES ${ROWS(base).join(',')}`,
  );
}

test('every type survives dump/load and sync exactly, across time zones', { timeout: 240_000 }, async () => {
  await up.query('CREATE DATABASE types');
  await up.query(TABLE);
  await insert(0);
  await startTask(
    c,
    taskYaml(
      'types',
      down,
      'timezone: "-03:30"\nmysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["types"]\n',
    ),
  );
  await waitSynced(c, 'types');
  let r = await compareTables(up, { schema: 'types', table: 't' }, down, { schema: 'types', table: 't' });
  assert.ok(r.equal, `dump/load: ${r.diffs.join('\n')}`);
  await insert(100);
  await up.query(`SET SESSION sql_mode = ''; UPDATE types.t SET d1 = -d1, bu = 18446744073709551614, b64 = x'7FFFFFFFFFFFFFFF', tm = '-00:00:00.5', j = '{"updated": true}', vc = CONCAT(vc, '✓'), e = '' WHERE id IN (1, 101, 104);
    DELETE FROM types.t WHERE id IN (3, 102); UPDATE types.t SET ts = '2001-01-01 00:00:00' WHERE id = 4`);
  await waitSynced(c, 'types');
  r = await compareTables(up, { schema: 'types', table: 't' }, down, { schema: 'types', table: 't' });
  assert.ok(r.equal, `sync: ${r.diffs.join('\n')}`);
  const v = await waitStage(c, 'types', (s) => s.sources[0]!.unit === 'sync', 'syncing');
  assert.equal(v.sources[0]!.error, undefined);
});
