/**
 * Issue #16 item 2: TLS verifies the server. Certificates are made by openssl here: a CA, a server certificate for
 * IP:127.0.0.1 (CN tsdm-db) on the upstream and the downstream, one for DNS:wrong.example on a third server, and an
 * unrelated CA. The task connects as a user created with REQUIRE SSL on both servers, so the end-to-end sync proves
 * that every link (load, sync writers, checkpoints, the binlog connection) ran over verified TLS.
 *
 * NATS too (issue #16 acceptance 2): the cluster's nats-server requires TLS with a client certificate
 * (`verify: true`, as --tlsverify), and the agent, dmctl and the test's own connection give the CA, certificate and
 * key through TSDM_NATS_TLS_*: all three links of the end-to-end run are TLS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sourceYaml, writeTemp } from '../harness/tsdm.ts';
import { startMariaDB, type MariaDBInstance } from '../harness/index.ts';
import { makeCerts, type TestCerts } from '../harness/certs.ts';
import { assertSame, startCluster, startTask, taskYaml, waitSynced, type Cluster } from './helpers.ts';
import { connect } from '../../agent/db/mysql.ts';
import type { DbConfig, TlsConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';

const TLS_PW = 'tls-Pw-1';
let certs: TestCerts;
let c: Cluster;
let wrong: MariaDBInstance;
let plain: MariaDBInstance;
const tlsArgs = (name: string) => [
  `--ssl-ca=${certs.ca}`,
  `--ssl-cert=${certs.server[name]!.cert}`,
  `--ssl-key=${certs.server[name]!.key}`,
];

before(async () => {
  certs = makeCerts({
    ip: { cn: 'tsdm-db', san: 'IP:127.0.0.1' },
    wrong: { cn: 'wrong.example', san: 'DNS:wrong.example' },
    client: { cn: 'tsdm-agent', san: '' },
  });
  const ip = certs.server.ip!;
  const client = certs.server.client!;
  const nats = {
    config: `tls {\n  cert_file: "${ip.cert}"\n  key_file: "${ip.key}"\n  ca_file: "${certs.ca}"\n  verify: true\n}\n`,
    env: { TSDM_NATS_TLS_CA: certs.ca, TSDM_NATS_TLS_CERT: client.cert, TSDM_NATS_TLS_KEY: client.key },
  };
  [c, wrong, plain] = await Promise.all([
    startCluster({ sources: false, upstreamArgs: tlsArgs('ip'), downstreamArgs: tlsArgs('ip'), nats }),
    startMariaDB({ name: 'wrongname', serverId: 301, extraArgs: tlsArgs('wrong') }),
    startMariaDB({ name: 'plain', serverId: 302 }),
  ]);
});
after(async () => {
  await Promise.allSettled([c?.stop(), wrong?.stop(), plain?.stop()]);
});

function db(server: MariaDBInstance, security: TlsConfig): DbConfig {
  return { host: '127.0.0.1', port: server.port, user: 'root', password: server.password, session: {}, security };
}

async function refused(cfg: DbConfig, side: 'upstream' | 'downstream'): Promise<DmError> {
  try {
    (await connect(cfg, side)).destroy();
  } catch (err) {
    assert.ok(err instanceof DmError, `not a DmError: ${String(err)}`);
    assert.equal(err.class, 'config', `${err.code} ${err.message}`);
    assert.equal(err.retryable, false);
    return err;
  }
  assert.fail('the connection was accepted');
}

test('the right name is accepted (IP SAN), over TLS', async () => {
  for (const side of ['upstream', 'downstream'] as const) {
    const server = side === 'upstream' ? c.sb.upstreams[0]! : c.sb.downstream;
    const conn = await connect(db(server, { sslCa: certs.ca, certAllowedCn: ['tsdm-db'] }), side);
    const [rows] = await conn.query("SHOW SESSION STATUS LIKE 'Ssl_version'");
    assert.match(String((rows as { Value: string }[])[0]?.Value), /^TLS/);
    conn.destroy();
  }
});

test('a certificate for another name signed by the trusted CA is refused, unless the check is turned off', async () => {
  const err = await refused(db(wrong, { sslCa: certs.ca }), 'downstream');
  assert.equal(err.code, 'TSDM-10026');
  assert.match(err.message, /not for 127\.0\.0\.1.*wrong\.example/);
  assert.match(err.suggestion ?? '', /target-database\.security\.ssl-verify-server-cert/);
  const conn = await connect(db(wrong, { sslCa: certs.ca, verifyServerCert: false }), 'downstream');
  conn.destroy();
});

test('cert-allowed-cn is enforced', async () => {
  const err = await refused(db(c.sb.upstreams[0]!, { sslCa: certs.ca, certAllowedCn: ['other-db'] }), 'upstream');
  assert.equal(err.code, 'TSDM-10027');
  assert.match(err.message, /"tsdm-db" is not in from\.security\.cert-allowed-cn/);
});

test('an unknown CA, a missing CA file and a server without TLS are config errors naming the file or block', async () => {
  const bad = await refused(db(c.sb.upstreams[0]!, { sslCa: certs.otherCa }), 'upstream');
  assert.equal(bad.code, 'TSDM-10025');
  assert.ok(bad.message.includes(certs.otherCa), bad.message);
  const missing = join(certs.dir, 'nope.pem');
  const gone = await refused(db(c.sb.downstream, { sslCa: missing }), 'downstream');
  assert.equal(gone.code, 'TSDM-10024');
  assert.ok(gone.message.includes(`target-database.security.ssl-ca: file ${missing} does not exist`), gone.message);
  const noTls = await refused(db(plain, { sslCa: certs.ca }), 'upstream');
  assert.equal(noTls.code, 'TSDM-10028');
  assert.match(noTls.message, /^from\.security asks for TLS but the upstream server does not offer it/);
  const notPem = await refused(db(c.sb.downstream, { sslCa: certs.server.ip!.key }), 'downstream');
  assert.equal(notPem.code, 'TSDM-10024');
});

test('a task syncs end to end over verified TLS (upstream, binlog, downstream, NATS); the opt-out is warned about', {
  timeout: 60_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  for (const s of [up, c.sb.downstream])
    await s.query(
      `CREATE USER tls@'127.0.0.1' IDENTIFIED BY '${TLS_PW}' REQUIRE SSL; GRANT ALL ON *.* TO tls@'127.0.0.1'`,
    );
  const asTls = (yaml: string) => yaml.replace(/user: root\n  password: "[^"]*"/, `user: tls\n  password: "${TLS_PW}"`);
  await up.query(
    'CREATE DATABASE tl; CREATE TABLE tl.t (id INT PRIMARY KEY, v VARCHAR(20)); INSERT INTO tl.t VALUES (1, "a")',
  );
  const security = `  security:\n    ssl-ca: ${certs.ca}\n    cert-allowed-cn: ["tsdm-db"]\n`;
  const r = await c.ctl([
    'operate-source',
    'create',
    writeTemp('source1.yaml', asTls(sourceYaml('source1', up, security))),
  ]);
  assert.equal(r.code, 0, `operate-source create: ${r.stdout}${r.stderr}`);
  const body =
    'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["tl"]\n';
  const optOut = `  security:\n    ssl-ca: ${certs.ca}\n    ssl-verify-server-cert: false\n`;
  const yaml = asTls(
    taskYaml('tl', c.sb.downstream, body).replace('target-database:\n', `target-database:\n${optOut}`),
  );
  const check = await c.ctl(['check-task', writeTemp('task.yaml', yaml)]);
  assert.match(check.stdout + check.stderr, /target-database\.security\.ssl-verify-server-cert is false/);
  await startTask(c, yaml);
  await up.query('INSERT INTO tl.t VALUES (2, "b"); UPDATE tl.t SET v = "c" WHERE id = 1');
  await waitSynced(c, 'tl', 45_000);
  await assertSame(up, c.sb.downstream, [{ up: ['tl', 't'] }]);
  // The binlog stream is the REQUIRE SSL user's too: it ran over TLS, through the same check.
  const dumps = await up.query(
    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' AND USER = 'tls'",
  );
  assert.equal(Number(dumps[0].n), 1);
  // Every NATS client (the agent, this test's connection) is on TLS with a client certificate: the server's view.
  const connz = (await (await fetch(`http://127.0.0.1:${c.sb.nats.monitorPort}/connz`)).json()) as {
    connections: { name?: string; tls_version?: string }[];
  };
  const agentConn = connz.connections.find((x) => x.name === 'dm-agent agent-1');
  assert.ok(agentConn, JSON.stringify(connz.connections));
  assert.ok(
    connz.connections.every((x) => /^1\.[23]$/.test(x.tls_version ?? '')),
    JSON.stringify(connz.connections),
  );
  const rows = await c.sb.downstream.query('SELECT id, v FROM tl.t ORDER BY id');
  assert.deepEqual(
    rows.map((x: { id: number; v: string }) => [x.id, x.v]),
    [
      [1, 'c'],
      [2, 'b'],
    ],
  );
});
