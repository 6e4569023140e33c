import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSourceConfig, parseTaskConfig } from '../../src/config/index.ts';
import { DmError, Errors } from '../../src/errors/index.ts';
import {
  planSession,
  sanitiseSqlMode,
  sessionValueSql,
  sessionVarName,
  setSessionSql,
  type SessionPlan,
} from '../../src/sql/session-vars.ts';

test('session values: numbers and ON/OFF/TRUE/FALSE/DEFAULT bare, everything else a quoted string', () => {
  for (const [v, sql] of [
    ['1', '1'],
    ['0', '0'],
    ['-3', '-3'],
    ['0.25', '0.25'],
    ['1e3', '1e3'],
    [' 600 ', '600'],
    ['off', 'OFF'],
    ['On', 'ON'],
    ['true', 'TRUE'],
    ['FALSE', 'FALSE'],
    ['default', 'DEFAULT'],
  ] as const) {
    assert.equal(sessionValueSql(v), sql, v);
  }
  assert.equal(sessionValueSql('+08:00'), "'+08:00'");
  assert.equal(sessionValueSql('STRICT_TRANS_TABLES,NO_ZERO_DATE'), "'STRICT_TRANS_TABLES,NO_ZERO_DATE'");
  assert.equal(sessionValueSql(''), "''");
  assert.equal(sessionValueSql("it's a \\ path"), "'it''s a \\\\ path'");
  assert.equal(sessionValueSql('READ-COMMITTED'), "'READ-COMMITTED'");
  assert.equal(setSessionSql({ name: 'foreign_key_checks', value: '1' }), 'SET SESSION foreign_key_checks = 1');
});

test('session names: @@, @@session. and session. prefixes, lower case; anything but an identifier is refused', () => {
  assert.equal(sessionVarName('SQL_MODE'), 'sql_mode');
  assert.equal(sessionVarName('@@sql_mode'), 'sql_mode');
  assert.equal(sessionVarName('@@session.Time_Zone'), 'time_zone');
  assert.equal(sessionVarName('@@SESSION.wait_timeout'), 'wait_timeout');
  assert.equal(sessionVarName('session.net_read_timeout'), 'net_read_timeout');
  for (const bad of ['@@global.sql_mode', 'sql-mode', 'a b', 'x;DROP TABLE t', '1abc', '', '@@'])
    assert.equal(sessionVarName(bad), undefined, bad);
});

test('sql_mode: modes that break tsdm SQL are stripped, NO_AUTO_VALUE_ON_ZERO added downstream', () => {
  assert.deepEqual(sanitiseSqlMode('ANSI_QUOTES,STRICT_TRANS_TABLES', 'downstream'), {
    mode: 'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO',
    removed: ['ANSI_QUOTES'],
  });
  assert.deepEqual(sanitiseSqlMode('no_backslash_escapes, pipes_as_concat', 'upstream'), {
    mode: 'PIPES_AS_CONCAT',
    removed: ['NO_BACKSLASH_ESCAPES'],
  });
  assert.deepEqual(sanitiseSqlMode('ANSI', 'upstream'), {
    mode: 'REAL_AS_FLOAT,PIPES_AS_CONCAT,IGNORE_SPACE',
    removed: ['ANSI_QUOTES (of ANSI)'],
  });
  assert.deepEqual(sanitiseSqlMode('', 'downstream'), { mode: 'NO_AUTO_VALUE_ON_ZERO', removed: [] });
  assert.deepEqual(sanitiseSqlMode('NO_AUTO_VALUE_ON_ZERO,ORACLE', 'downstream'), {
    mode: 'NO_AUTO_VALUE_ON_ZERO',
    removed: ['ORACLE'],
  });
});

const asMap = (p: SessionPlan) => Object.fromEntries(p.vars.map((v) => [v.name, v.value]));
const down = (user: Record<string, string>, timeZone = '+00:00') =>
  planSession('downstream', user, { timeZone, keyPrefix: 'target-database.session' });

test('precedence downstream: defaults, then the user, then what tsdm forces (each override reported)', () => {
  const none = down({});
  assert.deepEqual(asMap(none), {
    sql_mode: 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION',
    time_zone: '+00:00',
    foreign_key_checks: '0',
    unique_checks: '1',
    autocommit: '1',
  });
  assert.deepEqual(none.overrides, []);
  assert.equal(none.vars[0]!.name, 'sql_mode', 'sql_mode first: the string escapes of the rest depend on it');

  const p = down({
    foreign_key_checks: '1',
    sql_mode: 'ANSI_QUOTES,STRICT_TRANS_TABLES',
    time_zone: '+00:00',
    autocommit: 'off',
    innodb_lock_wait_timeout: '30',
    unique_checks: 'off',
  });
  assert.deepEqual(asMap(p), {
    sql_mode: 'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO',
    time_zone: '+00:00',
    foreign_key_checks: '0',
    unique_checks: 'off',
    autocommit: '1',
    innodb_lock_wait_timeout: '30',
  });
  assert.deepEqual(
    p.overrides.map((o) => [o.key, o.value, o.used]),
    [
      [
        'target-database.session.sql_mode',
        'ANSI_QUOTES,STRICT_TRANS_TABLES',
        'STRICT_TRANS_TABLES,NO_AUTO_VALUE_ON_ZERO',
      ],
      ['target-database.session.autocommit', 'off', '1'],
      ['target-database.session.foreign_key_checks', '1', '0'],
    ],
  );
  assert.equal(
    p.vars.find((v) => v.name === 'innodb_lock_wait_timeout')?.key,
    'target-database.session.innodb_lock_wait_timeout',
  );
  // Values that already agree are not overrides.
  assert.deepEqual(
    down({ foreign_key_checks: 'OFF', autocommit: 'ON', sql_mode: 'STRICT_ALL_TABLES', time_zone: 'UTC' }).overrides,
    [],
  );
  // The connection's zone (the task's) wins over another time_zone.
  const tz = down({ time_zone: 'Asia/Shanghai' }, '+08:00');
  assert.equal(asMap(tz).time_zone, '+08:00');
  assert.deepEqual(
    tz.overrides.map((o) => o.key),
    ['target-database.session.time_zone'],
  );
});

test('precedence upstream: the user sql_mode is kept (sanitised), UTC and autocommit forced, foreign_key_checks as written', () => {
  const p = planSession(
    'upstream',
    { sql_mode: 'STRICT_TRANS_TABLES', foreign_key_checks: '1', time_zone: '+08:00' },
    { timeZone: '+00:00', keyPrefix: 'from.session' },
  );
  assert.deepEqual(asMap(p), {
    sql_mode: 'STRICT_TRANS_TABLES',
    time_zone: '+00:00',
    autocommit: '1',
    foreign_key_checks: '1',
  });
  assert.deepEqual(
    p.overrides.map((o) => o.key),
    ['from.session.time_zone'],
  );
  assert.deepEqual(asMap(planSession('upstream', {}, { timeZone: '+00:00', keyPrefix: 'from.session' })), {
    sql_mode: '',
    time_zone: '+00:00',
    autocommit: '1',
  });
});

test('config: session values as written (YAML 1.1 off, numbers) in source.yaml and task.yaml, names normalised', () => {
  const src = loadSourceConfig(
    `source-id: s1
from:
  host: db
  user: u
  session:
    foreign_key_checks: 1
    unique_checks: off
    "@@session.net_read_timeout": 600
    SQL_MODE: "STRICT_TRANS_TABLES"
`,
    'source.yaml',
  ).config;
  assert.deepEqual(src.from.session, {
    foreign_key_checks: '1',
    unique_checks: 'off',
    net_read_timeout: '600',
    sql_mode: 'STRICT_TRANS_TABLES',
  });
  assert.deepEqual(src.from.sessionOrigin, { file: 'source.yaml', key: 'from' });
  const task = parseTaskConfig(
    `name: t
task-mode: all
target-database:
  host: db
  user: u
  session:
    foreign_key_checks: off
    "@@time_zone": "+08:00"
    max_execution_time: 0
mysql-instances:
  - source-id: s1
`,
    'task.yaml',
  );
  assert.deepEqual(task.targetDatabase.session, {
    foreign_key_checks: 'off',
    time_zone: '+08:00',
    max_execution_time: '0',
  });
  assert.deepEqual(task.targetDatabase.sessionOrigin, { file: 'task.yaml', key: 'target-database' });
});

test('config: a session name that is not an identifier, or one set twice, is TSDM-10003 at its line', () => {
  const text = `source-id: s1
from:
  host: db
  user: u
  session:
    sql_mode: ''
    "sql-mode; SET x": 1
`;
  let err: unknown;
  try {
    loadSourceConfig(text, 'source.yaml');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DmError, String(err));
  assert.equal(err.code, Errors.ConfigInvalid.code);
  assert.equal(err.context.file, 'source.yaml');
  assert.equal(err.context.line, 7);
  assert.equal(err.context.key, 'from.session.sql-mode; SET x');
  assert.throws(
    () =>
      parseTaskConfig(
        'name: t\ntask-mode: all\ntarget-database:\n  host: db\n  user: u\n  session:\n    sql_mode: ""\n    "@@SQL_MODE": ""\nmysql-instances:\n  - source-id: s1\n',
        'task.yaml',
      ),
    (e: unknown) =>
      e instanceof DmError &&
      e.code === Errors.ConfigInvalid.code &&
      e.context.key === 'target-database.session.@@SQL_MODE',
  );
});
