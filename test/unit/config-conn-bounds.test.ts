/**
 * Issue #16 item 5: every count that opens database connections is bounded in the task schema (0..128), so
 * `syncer-thread: 100000` is a config error naming file, line and key instead of a task that exhausts the downstream's
 * max_connections.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTaskConfig } from '../../src/config/index.ts';
import { MAX_UNIT_CONNECTIONS } from '../../src/config/schema-parts.ts';
import { DmError, Errors } from '../../src/errors/index.ts';

const HEAD = `name: t
task-mode: all
target-database: { host: 127.0.0.1, port: 3306, user: root, password: "" }
`;

/** Each case: the task body, the key path the error must name, and the 1-based line of that key. */
const cases: { body: string; key: string; line: number }[] = [
  {
    body: 'mysql-instances:\n  - source-id: s1\n    syncer-thread: 100000\n',
    key: 'mysql-instances[0].syncer-thread',
    line: 6,
  },
  {
    body: 'mysql-instances:\n  - source-id: s1\n    loader-thread: 129\n',
    key: 'mysql-instances[0].loader-thread',
    line: 6,
  },
  {
    body: 'mysql-instances:\n  - source-id: s1\n    mydumper-thread: 1000\n',
    key: 'mysql-instances[0].mydumper-thread',
    line: 6,
  },
  {
    body: 'mysql-instances:\n  - source-id: s1\n    syncer-config-name: g\nsyncers:\n  g:\n    worker-count: 500\n',
    key: 'syncers.g.worker-count',
    line: 9,
  },
  {
    body: 'mysql-instances:\n  - source-id: s1\n    loader-config-name: g\nloaders:\n  g:\n    pool-size: 4096\n',
    key: 'loaders.g.pool-size',
    line: 9,
  },
  {
    body: 'mysql-instances:\n  - source-id: s1\n    mydumper-config-name: g\nmydumpers:\n  g:\n    threads: 256\n',
    key: 'mydumpers.g.threads',
    line: 9,
  },
  {
    body: 'mysql-instances:\n  - source-id: s1\n    validator-config-name: v\nvalidators:\n  v:\n    mode: full\n    worker-count: 1000\n',
    key: 'validators.v.worker-count',
    line: 10,
  },
  {
    body: 'mysql-instances:\n  - source-id: s1\n    syncer:\n      worker-count: 129\n',
    key: 'mysql-instances[0].syncer.worker-count',
    line: 7,
  },
];

test('a connection count above the bound is ConfigInvalid naming file, line and key, with a suggestion', () => {
  for (const c of cases) {
    let err: unknown;
    try {
      parseTaskConfig(HEAD + c.body, 'task.yaml');
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof DmError, `${c.key}: expected a DmError, got ${String(err)}`);
    assert.equal(err.code, Errors.ConfigInvalid.code, err.format());
    assert.equal(err.context.file, 'task.yaml');
    assert.equal(err.context.key, c.key, err.format());
    assert.equal(err.context.line, c.line, err.format());
    assert.match(err.message, new RegExp(`more than ${MAX_UNIT_CONNECTIONS}`));
    assert.match(err.format(), /max_connections/);
  }
});

test('the bound itself and 0 (the default) are accepted; the values reach the units', () => {
  const t = parseTaskConfig(
    `${HEAD}mysql-instances:\n  - source-id: s1\n    syncer-thread: ${MAX_UNIT_CONNECTIONS}\n    loader-thread: 0\n    mydumper-thread: 8\n`,
    'task.yaml',
  );
  const s = t.subtasks[0]!;
  assert.equal(s.sync.writerCount, MAX_UNIT_CONNECTIONS);
  assert.equal(s.load.poolSize, 16, 'loader-thread 0 is the default pool size');
  assert.equal(s.dump.threads, 8);
});
