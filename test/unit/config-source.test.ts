import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSourceConfig, parseSourceConfig, sampleSourceYaml } from '../../src/config/index.ts';
import { DmError, Errors, type ErrorName } from '../../src/errors/index.ts';

const FILE = 'source1.yaml';

function lineOf(text: string, marker: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(marker));
  assert.ok(i >= 0, `marker ${marker} not in text`);
  return i + 1;
}

function expectError(
  fn: () => unknown,
  name: ErrorName,
  where: { line: number; key: string; message?: RegExp },
): DmError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DmError, `expected DmError ${name}, got ${String(err)}`);
  assert.equal(err.code, Errors[name].code, `code: ${err.format()}`);
  assert.equal(err.context.file, FILE);
  assert.equal(err.context.line, where.line, `line: ${err.format()}`);
  assert.equal(err.context.key, where.key, `key: ${err.format()}`);
  if (where.message) assert.match(err.message, where.message);
  assert.ok(err.format().includes(`${FILE}:${where.line}`));
  return err;
}

/** DM's all_mode/conf/source1.yaml, as DM's own integration suite has it. */
const DM_SOURCE = `# MySQL Configuration.

source-id: mysql-replica-01
flavor: ''
enable-gtid: true
enable-relay: true
relay-binlog-name: ''
relay-binlog-gtid: ''
from:
  host: 127.0.0.1
  user: root
  password: '123456'
  port: 3306
checker:
  check-enable: true
  backoff-rollback: 5m
  backoff-max: 5m
`;

test('DM source file parses with DM defaults; checker is accepted without effect', () => {
  const { config, notes } = loadSourceConfig(DM_SOURCE, FILE);
  assert.deepEqual(config, {
    sourceId: 'mysql-replica-01',
    enableGtid: true,
    enableRelay: true,
    relayBinlogName: '',
    relayBinlogGtid: '',
    serverId: 0,
    from: { host: '127.0.0.1', port: 3306, user: 'root', password: '123456', session: {} },
    purge: { interval: 3600, expires: 0, remainSpace: 15 },
  });
  assert.equal('flavor' in config, false, "flavor '' means detect at connect time");
  const note = notes.find((n) => n.key === 'checker');
  assert.ok(note && note.kind === 'no-effect' && note.line === lineOf(DM_SOURCE, 'checker:'));
});

test('all keys: flavor, server-id, relay start, purge, TLS, YAML 1.1 booleans, string source text', () => {
  const text = `source-id: maria-1
flavor: mariadb
enable-gtid: yes
enable-relay: on
relay-binlog-name: mariadb-bin.000007
relay-binlog-gtid: "0-1-100,1-2-5"
server-id: 4242
relay-dir: ./relay
from:
  host: db1
  port: 3307
  user: repl
  password: 0123
  session:
    sql_mode: ''
  security:
    ssl-ca: /etc/ca.pem
    ssl-cert: /etc/c.pem
    ssl-key: /etc/c.key
    cert-allowed-cn: [dm]
purge:
  interval: 60
  expires: 24
`;
  const { config, notes } = loadSourceConfig(text, FILE);
  assert.equal(config.flavor, 'mariadb');
  assert.equal(config.enableGtid, true);
  assert.equal(config.enableRelay, true);
  assert.equal(config.relayBinlogName, 'mariadb-bin.000007');
  assert.equal(config.relayBinlogGtid, '0-1-100,1-2-5');
  assert.equal(config.serverId, 4242);
  assert.equal(config.from.password, '0123', 'a string field keeps the source text (not octal 83)');
  assert.deepEqual(config.from.session, { sql_mode: '' });
  assert.deepEqual(config.from.security, {
    sslCa: '/etc/ca.pem',
    sslCert: '/etc/c.pem',
    sslKey: '/etc/c.key',
    certAllowedCn: ['dm'],
  });
  assert.deepEqual(config.purge, { interval: 60, expires: 24, remainSpace: 15 });
  assert.ok(notes.some((n) => n.key === 'relay-dir' && n.kind === 'no-effect'));
});

test('the sample source.yaml parses', () => {
  const c = parseSourceConfig(sampleSourceYaml(), FILE);
  assert.equal(c.sourceId, 'mysql-replica-01');
  assert.equal(c.enableGtid, true);
  assert.equal(c.from.port, 3306);
});

test('missing source-id: ConfigInvalid naming the key', () => {
  const text = DM_SOURCE.replace('source-id: mysql-replica-01\n', '');
  expectError(() => parseSourceConfig(text, FILE), 'ConfigInvalid', {
    line: 3,
    key: 'source-id',
    message: /required key "source-id" is missing/,
  });
  const empty = DM_SOURCE.replace('source-id: mysql-replica-01', "source-id: ''");
  expectError(() => parseSourceConfig(empty, FILE), 'ConfigInvalid', {
    line: 3,
    key: 'source-id',
    message: /must not be empty/,
  });
});

test('source-id longer than 32 characters: ConfigInvalid', () => {
  const text = DM_SOURCE.replace('mysql-replica-01', 'x'.repeat(33));
  expectError(() => parseSourceConfig(text, FILE), 'ConfigInvalid', {
    line: 3,
    key: 'source-id',
    message: /at most 32 characters/,
  });
});

test('unknown keys, top and nested, with suggestions', () => {
  const top = DM_SOURCE.replace('enable-gtid', 'enable_gtid');
  expectError(() => parseSourceConfig(top, FILE), 'ConfigUnknownKey', {
    line: 5,
    key: 'enable_gtid',
    message: /did you mean "enable-gtid"/,
  });
  const nested = DM_SOURCE.replace('  user: root', '  usr: root');
  const err = expectError(() => parseSourceConfig(nested, FILE), 'ConfigUnknownKey', {
    line: lineOf(nested, 'usr:'),
    key: 'from.usr',
    message: /did you mean "user"/,
  });
  assert.match(err.suggestion, /Rename "usr" to "user"/);
});

test('wrong types and values: ConfigInvalid at the key', () => {
  const port = DM_SOURCE.replace('port: 3306', 'port: three');
  expectError(() => parseSourceConfig(port, FILE), 'ConfigInvalid', {
    line: lineOf(port, 'port: three'),
    key: 'from.port',
    message: /expected a number/,
  });
  const flavor = DM_SOURCE.replace("flavor: ''", 'flavor: percona');
  expectError(() => parseSourceConfig(flavor, FILE), 'ConfigInvalid', {
    line: 4,
    key: 'flavor',
    message: /must be one of "", "mysql", "mariadb"/,
  });
  const gtid = DM_SOURCE.replace('enable-gtid: true', "enable-gtid: 'true'");
  expectError(() => parseSourceConfig(gtid, FILE), 'ConfigInvalid', {
    line: 5,
    key: 'enable-gtid',
    message: /expected a boolean/,
  });
  const name = DM_SOURCE.replace("relay-binlog-name: ''", 'relay-binlog-name: binlog-name-placeholder');
  expectError(() => parseSourceConfig(name, FILE), 'ConfigInvalid', {
    line: 7,
    key: 'relay-binlog-name',
    message: /not a binlog file name/,
  });
  const set = DM_SOURCE.replace("flavor: ''", 'flavor: mysql').replace(
    "relay-binlog-gtid: ''",
    'relay-binlog-gtid: 0-1-2',
  );
  expectError(() => parseSourceConfig(set, FILE), 'ConfigInvalid', {
    line: 8,
    key: 'relay-binlog-gtid',
    message: /not a mysql GTID set/,
  });
  const from = DM_SOURCE.replace(/from:\n( {2}.*\n)+/, '');
  expectError(() => parseSourceConfig(from, FILE), 'ConfigInvalid', {
    line: 3,
    key: 'from',
    message: /required key "from"/,
  });
});

test('source-level filters and case-sensitive: ConfigUnsupportedKey', () => {
  const text = DM_SOURCE + 'filters:\n  - schema-pattern: "*"\n    events: ["all dml"]\n    action: Ignore\n';
  expectError(() => parseSourceConfig(text, FILE), 'ConfigUnsupportedKey', {
    line: lineOf(text, 'filters:'),
    key: 'filters',
    message: /source-level binlog event filters/,
  });
  const cs = DM_SOURCE + 'case-sensitive: true\n';
  expectError(() => parseSourceConfig(cs, FILE), 'ConfigUnsupportedKey', {
    line: lineOf(cs, 'case-sensitive'),
    key: 'case-sensitive',
  });
  const certs = DM_SOURCE + '  security:\n    ssl-ca-base64: AAAA\n';
  expectError(
    () =>
      parseSourceConfig(
        certs.replace('checker:\n  check-enable: true\n  backoff-rollback: 5m\n  backoff-max: 5m\n', ''),
        FILE,
      ),
    'ConfigUnsupportedKey',
    { line: 15, key: 'from.security.ssl-ca-base64' },
  );
});

test('bad YAML: ConfigYamlSyntax with file, line and column', () => {
  const text = DM_SOURCE.replace('  user: root', ' user: root');
  let err: unknown;
  try {
    parseSourceConfig(text, FILE);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DmError);
  assert.equal(err.code, Errors.ConfigYamlSyntax.code);
  assert.equal(err.context.file, FILE);
  assert.equal(err.context.line, lineOf(text, ' user: root'));
  assert.ok(err.context.column);
});
