import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  loadTaskConfig,
  parseTaskConfig,
  recordLoadOptions,
  UNSUPPORTED_KEYS,
  NO_EFFECT_KEYS,
} from '../../src/config/index.ts';
import { DmError, Errors, type ErrorName } from '../../src/errors/index.ts';

const FILE = 'task.yaml';

/** 1-based line of the first line containing `marker` (and after `after`, if given). */
function lineOf(text: string, marker: string, after?: string): number {
  const lines = text.split('\n');
  const start = after ? lines.findIndex((l) => l.includes(after)) : 0;
  const i = lines.findIndex((l, n) => n >= start && l.includes(marker));
  assert.ok(i >= 0, `marker ${marker} not in text`);
  return i + 1;
}

/** Asserts the call throws a DmError with this code, located at file:line with this key path. */
function expectError(
  fn: () => unknown,
  name: ErrorName,
  where: { line?: number; key: string; message?: RegExp },
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
  assert.equal(err.context.key, where.key, `key: ${err.format()}`);
  assert.ok(typeof err.context.line === 'number' && err.context.line >= 1);
  if (where.line !== undefined) assert.equal(err.context.line, where.line, `line: ${err.format()}`);
  if (where.message) assert.match(err.message, where.message);
  // The one-line form a user sees names file, line and key.
  assert.match(
    err.format(),
    new RegExp(
      `\\[${err.code}\\] ${FILE}:${err.context.line}(:\\d+)? key ${where.key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `,
    ),
  );
  return err;
}

const BASE = `---
name: test
task-mode: all
target-database:
  host: "127.0.0.1"
  port: 4000
  user: "root"
  password: ""
mysql-instances:
  - source-id: "mysql-replica-01"
    block-allow-list: "instance"
`;
const BA = `block-allow-list:
  instance:
    do-dbs: ["all_mode"]
`;

test('minimal task gets DM defaults', () => {
  const t = parseTaskConfig(BASE + BA, FILE);
  assert.equal(t.name, 'test');
  assert.equal(t.taskMode, 'all');
  assert.equal(t.shardMode, '');
  assert.equal(t.metaSchema, 'dm_meta');
  assert.equal(t.timezone, '');
  assert.equal(t.caseSensitive, false);
  assert.deepEqual(t.targetDatabase, { host: '127.0.0.1', port: 4000, user: 'root', password: '', session: {} });
  assert.equal(t.subtasks.length, 1);
  const s = t.subtasks[0]!;
  assert.equal(s.sourceId, 'mysql-replica-01');
  assert.equal(s.meta, undefined);
  assert.deepEqual(s.blockAllowList, { doDbs: ['all_mode'], ignoreDbs: [], doTables: [], ignoreTables: [] });
  assert.deepEqual(s.routes, []);
  assert.deepEqual(s.filters, []);
  assert.deepEqual(s.dump, { threads: 4, rows: 10000, chunkFilesize: 64, skipTzUtc: true, where: '' });
  assert.deepEqual(s.load, { poolSize: 16, onDuplicate: 'replace' });
  assert.deepEqual(s.sync, {
    writerCount: 2,
    batch: 100,
    safeMode: false,
    safeModeDuration: 60,
    compact: false,
    multipleRows: false,
    largeTxnRows: 10000,
  });
});

const FULL = `name: full
task-mode: incremental
meta-schema: my_meta
timezone: "+04:00"
case-sensitive: true
target-database:
  host: db.example
  user: u
  password: '012345'
  session:
    tidb_disable_txn_auto_retry: off
    SQL_MODE: "ANSI_QUOTES"
    tidb_retry_limit: 10
mysql-instances:
  - source-id: s1
    meta:
      binlog-name: mysql-bin.000003
      binlog-pos: 1234
    block-allow-list: ba
    route-rules: [r-table, r-schema]
    filter-rules: [f1]
    mydumper-config-name: global
    loader-config-name: global
    syncer-config-name: global
    mydumper-thread: 8
    loader-thread: 6
    syncer-thread: 32
  - source-id: s2
    meta:
      binlog-gtid: "3ccc475b-2343-11e7-be21-6c0b84d59f30:1-100"
    block-allow-list: ba
    mydumper:
      threads: 2
      rows: 500
      where: "id > 10"
      skip-tz-utc: false
    loader:
      pool-size: 3
      on-duplicate: ERROR
    syncer:
      batch: 50
      safe-mode: true
      safe-mode-duration: 1m30s
      compact: true
      multiple-rows: true
routes:
  r-table:
    schema-pattern: "shard_*"
    table-pattern: "t_?"
    target-schema: merged
    target-table: t
  r-schema:
    schema-pattern: "~^shard_[0-9]+$"
    target-schema: merged
filters:
  f1:
    schema-pattern: "*"
    events: ["Create Schema", "DROP TABLE", "all dml"]
    sql-pattern: ["(?i)^DROP\\\\s+"]
    action: ignore
block-allow-list:
  ba:
    do-dbs: ["~^shard_"]
    ignore-dbs: [mysql]
    do-tables:
      - db-name: "shard_*"
        tbl-name: "t_?"
    ignore-tables:
      - db-name: shard_1
        tbl-name: tmp
mydumpers:
  global:
    threads: 16
    chunk-filesize: 32
loaders:
  global:
    pool-size: 9
    on-duplicate-logical: ignore
syncers:
  global:
    worker-count: 4
    checkpoint-flush-interval: 10
`;

test('full task: rule resolution, overrides, inline units, normalised filters', () => {
  const { config: t, notes } = loadTaskConfig(FULL, FILE);
  assert.equal(t.taskMode, 'incremental');
  assert.equal(t.metaSchema, 'my_meta');
  assert.equal(t.timezone, '+04:00');
  assert.equal(t.caseSensitive, true);
  assert.equal(t.targetDatabase.port, 3306);
  // Strings keep their source text (DM decodes them as Go strings): no octal, no YAML 1.1 boolean.
  assert.equal(t.targetDatabase.password, '012345');
  assert.deepEqual(t.targetDatabase.session, {
    tidb_disable_txn_auto_retry: 'off',
    sql_mode: 'ANSI_QUOTES',
    tidb_retry_limit: '10',
  });

  const [a, b] = t.subtasks;
  assert.deepEqual(a!.meta, { binlogName: 'mysql-bin.000003', binlogPos: 1234, binlogGtid: '' });
  assert.deepEqual(
    a!.routes.map((r) => r.name),
    ['r-table', 'r-schema'],
  );
  assert.deepEqual(a!.routes[0], {
    name: 'r-table',
    schemaPattern: 'shard_*',
    tablePattern: 't_?',
    targetSchema: 'merged',
    targetTable: 't',
  });
  assert.deepEqual(a!.routes[1], {
    name: 'r-schema',
    schemaPattern: '~^shard_[0-9]+$',
    tablePattern: '',
    targetSchema: 'merged',
    targetTable: '',
  });
  assert.deepEqual(a!.filters, [
    {
      name: 'f1',
      schemaPattern: '*',
      tablePattern: '',
      events: ['create database', 'drop table', 'all dml'],
      sqlPattern: ['(?i)^DROP\\s+'],
      action: 'Ignore',
    },
  ]);
  assert.deepEqual(a!.blockAllowList!.doTables, [{ dbName: 'shard_*', tblName: 't_?' }]);
  assert.deepEqual(a!.blockAllowList!.ignoreTables, [{ dbName: 'shard_1', tblName: 'tmp' }]);
  // -thread keys override the named configs.
  assert.deepEqual(a!.dump, { threads: 8, rows: 10000, chunkFilesize: 32, skipTzUtc: true, where: '' });
  assert.deepEqual(a!.load, { poolSize: 6, onDuplicate: 'ignore' });
  assert.deepEqual(a!.sync, {
    writerCount: 32,
    batch: 100,
    safeMode: false,
    safeModeDuration: 20,
    compact: false,
    multipleRows: false,
    largeTxnRows: 10000,
  });

  assert.deepEqual(b!.meta, { binlogName: '', binlogPos: 4, binlogGtid: '3ccc475b-2343-11e7-be21-6c0b84d59f30:1-100' });
  assert.deepEqual(b!.dump, { threads: 2, rows: 500, chunkFilesize: 64, skipTzUtc: false, where: 'id > 10' });
  assert.deepEqual(b!.load, { poolSize: 3, onDuplicate: 'error' });
  assert.deepEqual(b!.sync, {
    writerCount: 2,
    batch: 50,
    safeMode: true,
    safeModeDuration: 90,
    compact: true,
    multipleRows: true,
    largeTxnRows: 10000,
  });
  assert.deepEqual(b!.routes, []);

  // DM only accepts the exact "Ignore": the note says tsdm reads it case-insensitively.
  const actionNote = notes.find((n) => n.key === 'filters.f1.action');
  assert.ok(actionNote && actionNote.kind === 'dm-compat' && actionNote.line === lineOf(FULL, 'action: ignore'));
  assert.ok(notes.some((n) => n.key === 'mydumpers.global.chunk-filesize' && n.kind === 'no-effect'));
});

test('deprecated aliases: black-white-list, is-sharding false, heartbeat keys accepted', () => {
  const text = `name: t
task-mode: full
is-sharding: false
enable-heartbeat: false
heartbeat-update-interval: 1
heartbeat-report-interval: 1
target-database: {host: h, user: u}
mysql-instances:
  - source-id: a
    black-white-list: instance
  - source-id: b
    block-allow-list: instance
black-white-list:
  instance:
    do-dbs: [x]
`;
  const { config, notes } = loadTaskConfig(text, FILE);
  assert.equal(config.shardMode, '');
  assert.deepEqual(
    config.subtasks.map((s) => s.blockAllowList?.doDbs),
    [['x'], ['x']],
  );
  assert.ok(
    notes.some(
      (n) =>
        n.kind === 'deprecated' &&
        n.key === 'black-white-list' &&
        n.line === text.split('\n').indexOf('black-white-list:') + 1,
    ),
  );
  assert.ok(notes.some((n) => n.kind === 'deprecated' && n.key === 'mysql-instances[0].black-white-list'));
  assert.ok(notes.some((n) => n.kind === 'no-effect' && n.key === 'heartbeat-update-interval'));
});

test('meta is ignored (with a note, its values unchecked) for task-mode all; incremental without meta keeps it undefined', () => {
  const withMeta =
    BASE.replace(
      '    block-allow-list',
      '    meta: {binlog-name: mysql-bin.000001, binlog-pos: 4}\n    block-allow-list',
    ) + BA;
  const r = loadTaskConfig(withMeta, FILE);
  assert.equal(r.config.subtasks[0]!.meta, undefined);
  assert.ok(r.notes.some((n) => n.key === 'mysql-instances[0].meta' && n.kind === 'no-effect'));
  const inc = parseTaskConfig(BASE.replace('task-mode: all', 'task-mode: incremental') + BA, FILE);
  assert.equal(inc.subtasks[0]!.meta, undefined);
  // DM's task files leave placeholders in the meta that mode all ignores (adjust_gtid): accepted, like DM does;
  // in incremental mode, where meta is the start position, the same values are rejected at their key.
  const placeholders =
    BASE.replace(
      '    block-allow-list',
      '    meta: {binlog-name: binlog-name-placeholder-1, binlog-pos: 4, binlog-gtid: binlog-gtid-placeholder-1}\n    block-allow-list',
    ) + BA;
  assert.equal(loadTaskConfig(placeholders, FILE).config.subtasks[0]!.meta, undefined);
  assert.throws(
    () => parseTaskConfig(placeholders.replace('task-mode: all', 'task-mode: incremental'), FILE),
    (e: DmError) =>
      e.message.includes('mysql-instances[0].meta.binlog-gtid') &&
      e.message.includes('is not a binlog file name') &&
      e.message.includes('is not a MySQL or MariaDB GTID set'),
  );
});

test('filter rule with an event DM does not know is dropped like DM does, or rejected in strict mode', () => {
  const text =
    BASE.replace('    block-allow-list: "instance"\n', '    block-allow-list: "instance"\n    filter-rules: [f]\n') +
    BA +
    `filters:
  f:
    schema-pattern: "*"
    table-pattern: "*"
    events: ["truncate table", "truncate"]
    action: Ignore
`;
  const { config, notes } = loadTaskConfig(text, FILE);
  assert.deepEqual(config.subtasks[0]!.filters, []);
  const note = notes.find((n) => n.kind === 'dm-compat');
  assert.ok(note);
  assert.equal(note.key, 'filters.f.events[1]');
  assert.equal(note.line, lineOf(text, 'events:'));
  assert.match(note.message, /"truncate" is not a DM event type \(did you mean "truncate table"\?\)/);
  expectError(() => parseTaskConfig(text, FILE, { strict: true }), 'ConfigInvalid', {
    key: 'filters.f.events[1]',
    line: lineOf(text, 'events:'),
    message: /not a DM event type/,
  });
});

// ------------------------------------------------------------------------------------------ errors

test('bad YAML: ConfigYamlSyntax with line and column', () => {
  const text = BASE + 'routes:\n  r1:\n    schema-pattern: [unclosed\n  r2: x\n';
  let err: unknown;
  try {
    parseTaskConfig(text, FILE);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DmError);
  assert.equal(err.code, Errors.ConfigYamlSyntax.code);
  assert.equal(err.context.file, FILE);
  assert.ok((err.context.line ?? 0) >= lineOf(text, 'schema-pattern: [unclosed'));
  assert.ok(err.context.column);
  // The key path around the error, when the broken document still shows one.
  assert.match(err.context.key ?? '', /^routes\.r1/);
  assert.match(err.format(), /task\.yaml:\d+:\d+ key routes\.r1/);
});

test('unknown top-level key: ConfigUnknownKey with a suggestion', () => {
  const text = BASE.replace('mysql-instances:', 'mysql-instance:') + BA;
  const err = expectError(() => parseTaskConfig(text, FILE), 'ConfigUnknownKey', {
    key: 'mysql-instance',
    line: lineOf(text, 'mysql-instance:'),
    message: /did you mean "mysql-instances"/,
  });
  // The consequence (mysql-instances missing) is listed after the cause.
  assert.match(err.message, /and \d+ more:[\s\S]*mysql-instances/);
});

test('unknown nested key: ConfigUnknownKey names the path and suggests the DM key', () => {
  const text = BASE + '    route-rule: ["r"]\n' + BA;
  expectError(() => parseTaskConfig(text, FILE), 'ConfigUnknownKey', {
    key: 'mysql-instances[0].route-rule',
    line: lineOf(text, 'route-rule:'),
    message: /did you mean "route-rules"/,
  });
  const deep = BASE + BA + '    do-table: []\n';
  expectError(() => parseTaskConfig(deep, FILE), 'ConfigUnknownKey', {
    key: 'block-allow-list.instance.do-table',
    line: lineOf(deep, 'do-table:'),
    message: /did you mean "do-tables"/,
  });
});

test('wrong type: ConfigInvalid at the value', () => {
  const text =
    BASE.replace(
      '    block-allow-list: "instance"\n',
      '    block-allow-list: "instance"\n    syncer-config-name: g\n',
    ) +
    BA +
    'syncers:\n  g:\n    batch: many\n';
  expectError(() => parseTaskConfig(text, FILE), 'ConfigInvalid', {
    key: 'syncers.g.batch',
    line: lineOf(text, 'batch: many'),
    message: /expected a number, got the string "many"/,
  });
  // chunk-filesize has no effect, but DM refuses what is not a size (dmctl_command: 6qwe4).
  const size = (v: string) =>
    BASE.replace(
      '    block-allow-list: "instance"\n',
      '    block-allow-list: "instance"\n    mydumper-config-name: d\n',
    ) +
    BA +
    `mydumpers:\n  d:\n    chunk-filesize: ${v}\n`;
  expectError(() => parseTaskConfig(size('6qwe4'), FILE), 'ConfigInvalid', {
    key: 'mydumpers.d.chunk-filesize',
    line: lineOf(size('6qwe4'), '6qwe4'),
    message: /invalid `chunk-filesize` 6qwe4/,
  });
  for (const ok of ['64', '"64"', '64MiB', '1.5GB', '256 kb', '""']) assert.ok(parseTaskConfig(size(ok), FILE), ok);
  const port = BASE.replace('port: 4000', 'port: "4000"') + BA;
  expectError(() => parseTaskConfig(port, FILE), 'ConfigInvalid', {
    key: 'target-database.port',
    line: lineOf(port, 'port:'),
  });
});

test('undefined rule name: ConfigUnknownRule names instance, key and rule', () => {
  const text =
    BASE +
    '    route-rules: ["rule1", "rule2"]\n' +
    BA +
    'routes:\n  rule1:\n    schema-pattern: a\n    target-schema: b\n';
  expectError(() => parseTaskConfig(text, FILE), 'ConfigUnknownRule', {
    key: 'mysql-instances[0].route-rules[1]',
    line: lineOf(text, 'route-rules:'),
    message:
      /mysql-instances\[0\]\.route-rules names "rule2", which is not defined under routes; did you mean "rule1"\?/,
  });
  const ba = BASE.replace('"instance"', '"instanse"') + BA;
  expectError(() => parseTaskConfig(ba, FILE), 'ConfigUnknownRule', {
    key: 'mysql-instances[0].block-allow-list',
    line: lineOf(ba, 'instanse'),
    message: /"instanse".*did you mean "instance"/,
  });
  const syncer = BASE + '    syncer-config-name: nope\n' + BA;
  expectError(() => parseTaskConfig(syncer, FILE), 'ConfigUnknownRule', {
    key: 'mysql-instances[0].syncer-config-name',
    line: lineOf(syncer, 'nope'),
    message: /syncers is empty/,
  });
});

test('deprecated alias and its replacement both set: ConfigDeprecatedConflict', () => {
  const text = BASE + '    black-white-list: "instance"\n' + BA;
  expectError(() => parseTaskConfig(text, FILE), 'ConfigDeprecatedConflict', {
    key: 'mysql-instances[0].black-white-list',
    line: lineOf(text, 'black-white-list'),
  });
  // is-sharding and shard-mode both written and disagreeing: DM's dmctl refuses the file (dmctl_basic dm-task5/6).
  for (const [isSharding, mode] of [
    ['false', '"pessimistic"'],
    ['true', '""'],
  ] as const) {
    const both = BASE.replace('task-mode: all', `task-mode: all\nis-sharding: ${isSharding}\nshard-mode: ${mode}`) + BA;
    expectError(() => parseTaskConfig(both, FILE), 'ConfigDeprecatedConflict', {
      key: 'is-sharding',
      line: lineOf(both, 'is-sharding'),
      message: /please use `shard-mode` only/,
    });
  }
  // Both written and agreeing, or one of them alone: accepted.
  for (const head of [
    'is-sharding: true\nshard-mode: optimistic',
    'is-sharding: false\nshard-mode: ""',
    'is-sharding: true',
  ])
    assert.ok(parseTaskConfig(BASE.replace('task-mode: all', `task-mode: all\n${head}`) + BA, FILE));
  const top = BASE + BA + 'black-white-list:\n  other:\n    do-dbs: [x]\n';
  expectError(() => parseTaskConfig(top, FILE), 'ConfigDeprecatedConflict', {
    key: 'black-white-list',
    line: lineOf(top, 'black-white-list:'),
  });
});

test('bad regular expression and bad wildcard: ConfigBadPattern', () => {
  const text = BASE + 'block-allow-list:\n  instance:\n    do-dbs: ["ok", "~^(unclosed"]\n';
  expectError(() => parseTaskConfig(text, FILE), 'ConfigBadPattern', {
    key: 'block-allow-list.instance.do-dbs[1]',
    line: lineOf(text, 'unclosed'),
    message: /invalid regular expression/,
  });
  const wild =
    BASE + '    route-rules: [r]\n' + BA + 'routes:\n  r:\n    schema-pattern: "a*b"\n    target-schema: x\n';
  expectError(() => parseTaskConfig(wild, FILE), 'ConfigBadPattern', {
    key: 'routes.r.schema-pattern',
    line: lineOf(wild, 'a*b'),
    message: /must be the last character/,
  });
  const sql =
    BASE +
    '    filter-rules: [f]\n' +
    BA +
    'filters:\n  f:\n    schema-pattern: "*"\n    sql-pattern: ["ALTER[\\\\s"]\n    action: Ignore\n';
  expectError(() => parseTaskConfig(sql, FILE), 'ConfigBadPattern', {
    key: 'filters.f.sql-pattern[0]',
    line: lineOf(sql, 'sql-pattern'),
  });
});

test('missing target-database and missing name: ConfigInvalid naming the key', () => {
  const text = BASE.replace(/target-database:\n( {2}.*\n)+/, '') + BA;
  expectError(() => parseTaskConfig(text, FILE), 'ConfigInvalid', {
    key: 'target-database',
    line: 2,
    message: /required key "target-database" is missing/,
  });
  const noName = BASE.replace('name: test\n', '') + BA;
  expectError(() => parseTaskConfig(noName, FILE), 'ConfigInvalid', { key: 'name', message: /required key "name"/ });
  const noSource = BASE.replace('source-id: "mysql-replica-01"', 'source-id: ""') + BA;
  expectError(() => parseTaskConfig(noSource, FILE), 'ConfigInvalid', {
    key: 'mysql-instances[0].source-id',
    line: lineOf(noSource, 'source-id'),
    message: /must not be empty/,
  });
});

test('collation_compatible: loose (default, "" too) or strict; anything else is ConfigInvalid at its line', () => {
  assert.equal(parseTaskConfig(BASE + BA, FILE).collationCompatible, 'loose');
  const strict = BASE.replace('task-mode: all\n', 'task-mode: all\ncollation_compatible: strict\n') + BA;
  assert.equal(parseTaskConfig(strict, FILE).collationCompatible, 'strict');
  assert.equal(
    loadTaskConfig(strict, FILE).notes.filter((n) => n.key === 'collation_compatible').length,
    0,
    'a supported key, no note',
  );
  const bad = BASE.replace('task-mode: all\n', 'task-mode: all\ncollation_compatible: stricter\n') + BA;
  expectError(() => parseTaskConfig(bad, FILE), 'ConfigInvalid', {
    key: 'collation_compatible',
    line: 4,
    message: /"loose", "strict"/,
  });
});

test('bad task-mode: ConfigInvalid; DM-only modes: ConfigUnsupportedKey', () => {
  const bad = BASE.replace('task-mode: all', 'task-mode: fulll') + BA;
  expectError(() => parseTaskConfig(bad, FILE), 'ConfigInvalid', {
    key: 'task-mode',
    line: 3,
    message: /must be one of "all", "full", "incremental"/,
  });
  const dump = BASE.replace('task-mode: all', 'task-mode: dump') + BA;
  expectError(() => parseTaskConfig(dump, FILE), 'ConfigUnsupportedKey', {
    key: 'task-mode',
    line: 3,
    message: /dump\/load\/load&sync is not implemented/,
  });
});

test('unsupported DM keys: ConfigUnsupportedKey naming the key', () => {
  const online = BASE.replace('task-mode: all\n', 'task-mode: all\nonline-ddl: true\n') + BA;
  assert.deepEqual(
    parseTaskConfig(online, FILE).onlineDdl,
    { shadowTableRules: ['^_(.+)_(?:new|gho)$'], trashTableRules: ['^_(.+)_(?:ghc|del|old)$'] },
    "online-ddl is supported now, with DM's default rules",
  );
  assert.equal(
    parseTaskConfig(BASE.replace('task-mode: all\n', 'task-mode: all\nshard-mode: optimistic\n') + BA, FILE).shardMode,
    'optimistic',
  );
  // DM: is-sharding alone means pessimistic shard mode.
  assert.equal(
    parseTaskConfig(BASE.replace('task-mode: all\n', 'task-mode: all\nis-sharding: true\n') + BA, FILE).shardMode,
    'pessimistic',
  );
  assert.equal(
    parseTaskConfig(BASE.replace('task-mode: all\n', 'task-mode: all\nshard-mode: pessimistic\n') + BA, FILE).shardMode,
    'pessimistic',
  );
  const cm = BASE + BA + 'column-mappings:\n  cm:\n    schema-pattern: x\n';
  expectError(() => parseTaskConfig(cm, FILE), 'ConfigUnsupportedKey', {
    key: 'column-mappings',
    line: lineOf(cm, 'column-mappings'),
    message: /column-mapping is not supported since DM v6\.6\.0/,
  });
  const expr =
    BASE +
    '    expression-filters: [e]\n' +
    BA +
    'expression-filter:\n  e:\n    schema: a\n    table: b\n    insert-value-expr: "c > 1"\n';
  assert.equal(parseTaskConfig(expr, FILE).subtasks[0]!.exprFilters.length, 1, 'expression filters are supported now');
  const val = BASE + '    validator-config-name: v\n' + BA + 'validators:\n  v:\n    mode: full\n';
  assert.equal(parseTaskConfig(val, FILE).subtasks[0]!.validator.mode, 'full', 'the validator is supported now');
  // Unsupported keys win over other problems in the same block (here: an invalid threads value elsewhere).
  const dumpArgs =
    BASE +
    '    mydumper-config-name: g\n' +
    BA +
    'mydumpers:\n  g:\n    extra-args: "--where id>1"\n  h:\n    threads: bogus\n';
  expectError(() => parseTaskConfig(dumpArgs, FILE), 'ConfigUnsupportedKey', {
    key: 'mydumpers.g.extra-args',
    line: lineOf(dumpArgs, 'extra-args'),
  });
  // TiDB Lightning's physical / import-into modes: the load runs logically, and a warning says so (DM's
  // lightning_mode and many_tables task files).
  for (const mode of ['physical', 'import-into']) {
    const phys =
      BASE +
      '    loader-config-name: g\n' +
      BA +
      `loaders:\n  g:\n    import-mode: ${mode}\n    on-duplicate-physical: manual\n`;
    const r = loadTaskConfig(phys, FILE);
    const note = r.notes.find((n) => n.key === 'loaders.g.import-mode');
    assert.ok(note && note.kind === 'no-effect' && /TiDB Lightning/.test(note.message), JSON.stringify(r.notes));
    assert.equal(note.line, lineOf(phys, mode));
  }
});

test('cross-reference checks DM also makes: unused rule, duplicate source, conflicting safe mode, meta without position', () => {
  const unused = BASE + BA + 'routes:\n  lonely:\n    schema-pattern: a\n    target-schema: b\n';
  expectError(() => parseTaskConfig(unused, FILE), 'ConfigInvalid', {
    key: 'routes.lonely',
    line: lineOf(unused, 'lonely'),
    message: /defined but no mysql-instance uses it/,
  });
  const dup = BASE + '  - source-id: "mysql-replica-01"\n' + BA;
  expectError(() => parseTaskConfig(dup, FILE), 'ConfigInvalid', {
    key: 'mysql-instances[1].source-id',
    line: lineOf(dup, 'source-id', 'block-allow-list: "instance"'),
    message: /already used by mysql-instances\[0\]/,
  });
  const safe = BASE + '    syncer:\n      safe-mode: true\n      safe-mode-duration: "0s"\n' + BA;
  expectError(() => parseTaskConfig(safe, FILE), 'ConfigInvalid', {
    key: 'mysql-instances[0].syncer.safe-mode-duration',
    line: lineOf(safe, 'safe-mode-duration'),
    message: /conflicts/,
  });
  const meta = BASE.replace('task-mode: all', 'task-mode: incremental') + '    meta:\n      binlog-pos: 4\n' + BA;
  expectError(() => parseTaskConfig(meta, FILE), 'MetaRequired', {
    key: 'mysql-instances[0].meta',
    line: lineOf(meta, 'meta:'),
    // DM's wording (ErrConfigMetaInvalid), which its dmctl_basic case looks for.
    message: /must specify `binlog-name` without GTID enabled for the source or specify `binlog-gtid` with GTID/,
  });
  // With --start-time (start-task, check-task, and the record such a start-task stored) meta is not used: DM accepts
  // an empty one then (dmctl_basic: check_task_no_source_meta_but_start_time).
  assert.equal(parseTaskConfig(meta, FILE, { startTime: true }).subtasks[0]!.meta, undefined);
  assert.deepEqual(recordLoadOptions({ startTime: { 'mysql-replica-01': '2006-01-02 15:04:05' } }), {
    startTime: true,
  });
  assert.deepEqual(recordLoadOptions({}), {});
  const pair =
    BASE +
    '    route-rules: [r1, r2]\n' +
    BA +
    'routes:\n  r1: {schema-pattern: "Db*", target-schema: x}\n  r2: {schema-pattern: "db*", target-schema: y}\n';
  expectError(() => parseTaskConfig(pair, FILE), 'ConfigInvalid', {
    key: 'mysql-instances[0].route-rules[1]',
    line: lineOf(pair, 'route-rules'),
    message: /"r1" and "r2" have the same schema-pattern/,
  });
  const tz = BASE.replace('task-mode: all\n', 'task-mode: all\ntimezone: Mars/Olympus\n') + BA;
  expectError(() => parseTaskConfig(tz, FILE), 'ConfigInvalid', {
    key: 'timezone',
    line: 4,
    message: /unknown time zone/,
  });
  const dur = BASE + '    syncer:\n      safe-mode-duration: "60 seconds"\n' + BA;
  expectError(() => parseTaskConfig(dur, FILE), 'ConfigInvalid', {
    key: 'mysql-instances[0].syncer.safe-mode-duration',
    line: lineOf(dur, 'safe-mode-duration'),
  });
});

test('"" means the default for the keys DM adjusts when empty (DM task templates write them so)', () => {
  // dm/config/task.go and subtask.go: LoaderConfig.adjust, ValidatorConfig.Adjust, chunk-filesize, safe-mode-duration,
  // meta-schema, shard-mode, collation_compatible, online-ddl-scheme, timezone.
  const text =
    BASE.replace(
      'task-mode: all\n',
      'task-mode: all\nmeta-schema: ""\nshard-mode: ""\ncollation_compatible: ""\nonline-ddl-scheme: ""\ntimezone: ""\n',
    ) +
    '    mydumper-config-name: g\n    loader-config-name: g\n    syncer-config-name: g\n    validator-config-name: g\n' +
    BA +
    'mydumpers:\n  g: {chunk-filesize: "", extra-args: "", where: ""}\n' +
    'loaders:\n  g: {import-mode: "", on-duplicate: "", on-duplicate-logical: "", on-duplicate-physical: "", checksum-physical: "", analyze: "", dir: "", sorting-dir-physical: "", pd-addr: ""}\n' +
    'syncers:\n  g: {safe-mode-duration: "", meta-file: ""}\n' +
    'validators:\n  g: {mode: "", max-pending-row-size: ""}\n';
  const t = parseTaskConfig(text, FILE);
  assert.equal(t.metaSchema, 'dm_meta');
  assert.equal(t.shardMode, '');
  assert.equal(t.collationCompatible, 'loose');
  assert.equal(t.onlineDdl, undefined);
  const st = t.subtasks[0]!;
  assert.equal(st.dump.chunkFilesize, 64);
  assert.equal(st.load.onDuplicate, 'replace');
  assert.equal(st.sync.safeModeDuration, 60);
  // The deprecated on-duplicate "" does not conflict with a set on-duplicate-logical; "" with safe-mode: true is the
  // default duration (60s), not 0.
  const both =
    BASE +
    '    loader:\n      on-duplicate: ""\n      on-duplicate-logical: ignore\n    syncer:\n      safe-mode: true\n      safe-mode-duration: ""\n' +
    BA;
  const b = parseTaskConfig(both, FILE).subtasks[0]!;
  assert.equal(b.load.onDuplicate, 'ignore');
  assert.equal(b.sync.safeMode, true);
  assert.equal(b.sync.safeModeDuration, 60);
  // Still rejected: a value that is set and wrong, and "" where DM has no default (a filter's action).
  const bad = BASE + '    loader:\n      import-mode: fast\n' + BA;
  expectError(() => parseTaskConfig(bad, FILE), 'ConfigInvalid', {
    key: 'mysql-instances[0].loader.import-mode',
    line: lineOf(bad, 'import-mode'),
  });
  const action =
    BASE + '    filter-rules: [f]\n' + BA + 'filters:\n  f: {schema-pattern: "a", events: ["all dml"], action: ""}\n';
  expectError(() => parseTaskConfig(action, FILE), 'ConfigInvalid', {
    key: 'filters.f.action',
    line: lineOf(action, 'action'),
  });
});

test('empty file and non-mapping file', () => {
  expectError(() => parseTaskConfig('', FILE), 'ConfigInvalid', { key: '(top level)', message: /empty/ });
  expectError(() => parseTaskConfig('- a\n- b\n', FILE), 'ConfigInvalid', {
    key: '(top level)',
    line: 1,
    message: /mapping/,
  });
});

test('docs/configuration.md lists every unsupported and no-effect key', () => {
  const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  for (const r of [...UNSUPPORTED_KEYS, ...NO_EFFECT_KEYS]) {
    const last = r.key.split('.').pop()!.replace('[]', '');
    if (/^ssl-(ca|cert|key)-(base64|bytes)$/.test(last)) {
      assert.ok(doc.includes('ssl-{ca,cert,key}-{base64,bytes}'));
      continue;
    }
    assert.ok(
      new RegExp(`[\`.]${last.replace(/[.*]/g, '\\$&')}\``).test(doc),
      `docs/configuration.md does not mention ${r.key}`,
    );
  }
});
