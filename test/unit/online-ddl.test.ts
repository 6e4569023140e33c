import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OnlineDdlTables } from '../../src/filter/online-ddl-tables.ts';
import { DEFAULT_SHADOW_TABLE_RULES, DEFAULT_TRASH_TABLE_RULES } from '../../src/config/online-ddl.ts';
import { loadTaskConfig } from '../../src/config/index.ts';
import type { DmError } from '../../src/errors/index.ts';

test("DM's default shadow/trash rules classify gh-ost and pt-osc tables and give the real name", () => {
  const t = new OnlineDdlTables({
    shadowTableRules: DEFAULT_SHADOW_TABLE_RULES,
    trashTableRules: DEFAULT_TRASH_TABLE_RULES,
  });
  const cases: [string, string, string][] = [
    ['_t1_gho', 'ghost', 't1'],
    ['_t1_new', 'ghost', 't1'],
    ['_t1_ghc', 'trash', 't1'],
    ['_t1_del', 'trash', 't1'],
    ['_t1_old', 'trash', 't1'],
    ['t1', 'real', 't1'],
    ['_t1', 'real', '_t1'],
    ['t1_gho', 'real', 't1_gho'],
    ['__a_b_gho', 'ghost', '_a_b'],
  ];
  for (const [name, type, real] of cases) {
    assert.equal(t.type(name), type, name);
    assert.equal(t.realName(name), real, name);
  }
});

const TASK = (extra: string) => `name: t
task-mode: all
${extra}
target-database: { host: 127.0.0.1, port: 4000, user: root, password: "" }
mysql-instances:
  - source-id: s1
`;

test('task files: online-ddl, online-ddl-scheme (deprecated) and custom rules', () => {
  assert.equal(loadTaskConfig(TASK('online-ddl: false'), 'f').config.onlineDdl, undefined);
  const scheme = loadTaskConfig(TASK('online-ddl-scheme: gh-ost'), 'f');
  assert.ok(scheme.config.onlineDdl, 'online-ddl-scheme: gh-ost means online-ddl: true, as in DM');
  assert.ok(scheme.notes.some((n) => /deprecated/.test(n.message)));
  const custom = loadTaskConfig(
    TASK('online-ddl: true\nshadow-table-rules: ["^(.+)_shadow$"]\ntrash-table-rules: ["^(.+)_trash$"]'),
    'f',
  ).config.onlineDdl!;
  assert.equal(new OnlineDdlTables(custom).type('x_shadow'), 'ghost');
  assert.equal(new OnlineDdlTables(custom).realName('x_trash'), 'x');
  const off = loadTaskConfig(TASK('shadow-table-rules: ["^(.+)_s$"]'), 'f');
  assert.ok(
    off.notes.some((n) => /no effect/.test(n.message)),
    'rules without online-ddl are noted',
  );
  assert.throws(
    () => loadTaskConfig(TASK('online-ddl: true\ntrash-table-rules: ["(?=x)"]'), 'f'),
    (e: unknown) => (e as DmError).code === 'TSDM-10008',
  );
  assert.throws(
    () => loadTaskConfig(TASK('online-ddl-scheme: osc'), 'f'),
    (e: unknown) => (e as DmError).code === 'TSDM-10003',
  );
});
