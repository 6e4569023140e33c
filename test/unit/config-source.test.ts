import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSourceConfig, parseSourceConfig, sampleSourceYaml } from '../../src/config/index.ts';
import { withSourceRules } from '../../src/config/task-instance.ts';
import type { SubtaskSpec } from '../../src/config/types.ts';
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
  // checker has no effect, but DM refuses a backoff-max under its fixed backoff-min of 1s (dmctl_command).
  const backoff = DM_SOURCE.replace('backoff-max: 5m', 'backoff-max: 0.1s');
  expectError(() => parseSourceConfig(backoff, FILE), 'ConfigInvalid', {
    line: lineOf(backoff, 'backoff-max'),
    key: 'checker.backoff-max',
    message: /less than `backoff-min` value 1s: please increase `backoff-max`/,
  });
  const from = DM_SOURCE.replace(/from:\n( {2}.*\n)+/, '');
  expectError(() => parseSourceConfig(from, FILE), 'ConfigInvalid', {
    line: 3,
    key: 'from',
    message: /required key "from"/,
  });
});

test('source-level filters are read as DM reads them; an unknown event type is an error; case-sensitive unsupported', () => {
  const text =
    DM_SOURCE +
    'filters:\n  - schema-pattern: "dmctl"\n    table-pattern: "t_1"\n    sql-pattern: ["alter table .* add column aaa int"]\n    action: Ignore\n  - schema-pattern: "*"\n    events: ["truncate table"]\n    action: error\n';
  const cfg = parseSourceConfig(text, FILE);
  assert.deepEqual(cfg.filters, [
    {
      name: 'mysql-replica-01.filters[0]',
      schemaPattern: 'dmctl',
      tablePattern: 't_1',
      events: [],
      sqlPattern: ['alter table .* add column aaa int'],
      action: 'Ignore',
    },
    {
      name: 'mysql-replica-01.filters[1]',
      schemaPattern: '*',
      tablePattern: '',
      events: ['truncate table'],
      sqlPattern: [],
      action: 'Error',
    },
  ]);
  assert.equal(parseSourceConfig(DM_SOURCE, FILE).filters, undefined);
  const bad = DM_SOURCE + 'filters:\n  - schema-pattern: "*"\n    events: ["all dmll"]\n    action: Ignore\n';
  expectError(() => parseSourceConfig(bad, FILE), 'ConfigInvalid', {
    line: lineOf(bad, 'all dmll'),
    key: 'filters[0].events[0]',
    message: /"all dmll" is not a DM event type \(did you mean "all dml"\?\)/,
  });
  const twice =
    DM_SOURCE +
    'filters:\n  - schema-pattern: "db"\n    events: ["delete"]\n    action: Ignore\n  - schema-pattern: "db"\n    events: ["insert"]\n    action: Ignore\n';
  expectError(() => parseSourceConfig(twice, FILE), 'ConfigInvalid', {
    line: twice.split('\n').lastIndexOf('  - schema-pattern: "db"') + 1,
    key: 'filters[1]',
    message: /same schema-pattern and table-pattern as filters\[0\]/,
  });
  // Compared case-insensitively, as DM keys a source's rules.
  expectError(
    () =>
      parseSourceConfig(
        twice.replace(
          '- schema-pattern: "db"\n    events: ["insert"]',
          '- schema-pattern: "DB"\n    events: ["insert"]',
        ),
        FILE,
      ),
    'ConfigInvalid',
    {
      line: twice.split('\n').lastIndexOf('  - schema-pattern: "db"') + 1,
      key: 'filters[1]',
    },
  );
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

test("withSourceRules: a source's filters follow the task's; the task's rule wins on equal patterns", () => {
  const rule = (name: string, schemaPattern: string, tablePattern: string, action: 'Do' | 'Ignore' | 'Error') => ({
    name,
    schemaPattern,
    tablePattern,
    events: ['all dml'],
    sqlPattern: [],
    action,
  });
  const spec = {
    sourceId: 's1',
    filters: [rule('task', 'db', 'T1', 'Do')],
  } as unknown as SubtaskSpec; // only the fields withSourceRules reads
  const source = { filters: [rule('s.0', 'DB', 't1', 'Ignore'), rule('s.1', 'db', 't2', 'Ignore')] };
  const left: string[] = [];
  assert.deepEqual(
    withSourceRules(spec, source, false, (r) => left.push(r.name)).filters.map((r) => r.name),
    ['task', 's.1'],
  );
  assert.deepEqual(left, ['s.0']);
  // Case-sensitive: DB.t1 is another pattern, so the source's rule is added too.
  assert.deepEqual(
    withSourceRules(spec, source, true).filters.map((r) => r.name),
    ['task', 's.0', 's.1'],
  );
  assert.equal(withSourceRules(spec, {}, false), spec);
});
