import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockAllowList } from '../../src/filter/block-allow-list.ts';
import type { BlockAllowRule } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';

type T = [string, string];

function rule(r: Partial<BlockAllowRule> & { doTbls?: T[]; ignoreTbls?: T[] }): BlockAllowRule {
  return {
    doDbs: r.doDbs ?? [],
    ignoreDbs: r.ignoreDbs ?? [],
    doTables: (r.doTbls ?? []).map(([dbName, tblName]) => ({ dbName, tblName })),
    ignoreTables: (r.ignoreTbls ?? []).map(([dbName, tblName]) => ({ dbName, tblName })),
  };
}

/** DM's `Filter.Apply`: the inputs that pass (table '' = schema-level name). */
function apply(r: BlockAllowRule | undefined, input: T[], caseSensitive = false): T[] {
  const f = new BlockAllowList(r, caseSensitive);
  return input.filter(([s, t]) => f.allowTable(s, t));
}

// The cases of DM's TestFilterOnSchema / TestCaseSensitiveApply (tidb-tools pkg/filter filter_test.go).
test('no rules: everything passes', () => {
  assert.deepEqual(
    apply(undefined, [
      ['foo', 'bar'],
      ['foo', ''],
    ]),
    [
      ['foo', 'bar'],
      ['foo', ''],
    ],
  );
  assert.deepEqual(
    apply(rule({}), [
      ['foo', 'bar'],
      ['foo', ''],
    ]),
    [
      ['foo', 'bar'],
      ['foo', ''],
    ],
  );
});

test('do-dbs wins and ignore-dbs is not consulted when do-dbs is set', () => {
  const r = rule({ doDbs: ['foo'], ignoreDbs: ['foo'] });
  assert.deepEqual(
    apply(r, [
      ['foo', 'bar'],
      ['foo', ''],
      ['foo1', 'bar'],
      ['foo1', ''],
    ]),
    [
      ['foo', 'bar'],
      ['foo', ''],
    ],
  );
});

test('ignore-dbs alone', () => {
  const r = rule({ ignoreDbs: ['foo1'] });
  assert.deepEqual(
    apply(r, [
      ['foo', 'bar'],
      ['foo', ''],
      ['foo1', 'bar'],
      ['foo1', ''],
    ]),
    [
      ['foo', 'bar'],
      ['foo', ''],
    ],
  );
});

test('do-tables: only listed tables, schema-level names pass', () => {
  const r = rule({ doTbls: [['foo', 'bar1']] });
  assert.deepEqual(
    apply(r, [
      ['foo', 'bar'],
      ['foo', 'bar1'],
      ['foo', ''],
      ['fff', 'bar1'],
    ]),
    [
      ['foo', 'bar1'],
      ['foo', ''],
    ],
  );
});

test('ignore-tables without regex', () => {
  const r = rule({ ignoreTbls: [['foo', 'bar']] });
  assert.deepEqual(
    apply(r, [
      ['foo', 'bar'],
      ['foo', 'bar1'],
      ['foo', ''],
      ['fff', 'bar1'],
    ]),
    [
      ['foo', 'bar1'],
      ['foo', ''],
      ['fff', 'bar1'],
    ],
  );
});

test('all regexes: do-dbs ~^foo, ignore-tables ~^foo / ~^sbtest-\\d', () => {
  const r = rule({ doDbs: ['~^foo'], ignoreTbls: [['~^foo', '~^sbtest-\\d']] });
  assert.deepEqual(
    apply(r, [
      ['foo', 'sbtest'],
      ['foo1', 'sbtest-1'],
      ['foo2', ''],
      ['fff', 'bar'],
    ]),
    [
      ['foo', 'sbtest'],
      ['foo2', ''],
    ],
  );
});

test('wildcards in ignore-dbs', () => {
  const r = rule({ ignoreDbs: ['foo[bar]', 'foo?', 'special\\'] });
  assert.deepEqual(
    apply(r, [
      ['foor', 'a'],
      ['foo[bar]', 'b'],
      ['fo', 'c'],
      ['foo?', 'd'],
      ['special\\', 'e'],
    ]),
    [
      ['foo[bar]', 'b'],
      ['fo', 'c'],
    ],
  );
  assert.deepEqual(
    apply(r, [
      ['foor', 'a'],
      ['foo[bar]', 'b'],
      ['Fo', 'c'],
      ['foo?', 'd'],
      ['special\\', 'e'],
    ]),
    [
      ['foo[bar]', 'b'],
      ['Fo', 'c'],
    ],
  );
});

test('regex rules, case-insensitive: everything but 5.5 is blocked', () => {
  const r = rule({ ignoreDbs: ['~^FOO'], ignoreTbls: [['~.*', '~FoO$']] });
  const input: T[] = [
    ['FOO1', 'a'],
    ['foo2', 'b'],
    ['BoO3', 'cFoO'],
    ['Foo4', 'dfoo'],
    ['5', '5'],
  ];
  assert.deepEqual(apply(r, input, false), [['5', '5']]);
});

test('regex rules, case-sensitive', () => {
  const r = rule({ ignoreDbs: ['~^FOO'], ignoreTbls: [['~.*', '~FoO$']] });
  assert.deepEqual(
    apply(
      r,
      [
        ['FOO1', 'a'],
        ['foo2', 'b'],
        ['BoO3', 'cFoo'],
        ['Foo4', 'dfoo'],
        ['5', '5'],
      ],
      true,
    ),
    [
      ['foo2', 'b'],
      ['BoO3', 'cFoo'],
      ['Foo4', 'dfoo'],
      ['5', '5'],
    ],
  );
  assert.deepEqual(
    apply(
      r,
      [
        ['FOO1', 'a'],
        ['foo2', 'b'],
        ['BoO3', 'cFoO'],
        ['Foo4', 'dfoo'],
        ['5', '5'],
      ],
      true,
    ),
    [
      ['foo2', 'b'],
      ['Foo4', 'dfoo'],
      ['5', '5'],
    ],
  );
  assert.equal(new BlockAllowList(r, true).allowTable('FOO', 'a'), false);
});

test('wildcard schema with regex table, and regex schema with wildcard table', () => {
  const a = rule({ ignoreTbls: [['a?b?', '~f[0-9]']] });
  assert.deepEqual(
    apply(a, [
      ['abbd', 'f1'],
      ['aaaa', 'f2'],
      ['5', '5'],
      ['abbc', 'fa'],
    ]),
    [
      ['aaaa', 'f2'],
      ['5', '5'],
      ['abbc', 'fa'],
    ],
  );
  assert.deepEqual(
    apply(a, [
      ['abBd', 'f1'],
      ['aAAa', 'f2'],
      ['5', '5'],
      ['abbc', 'FA'],
    ]),
    [
      ['aAAa', 'f2'],
      ['5', '5'],
      ['abbc', 'FA'],
    ],
  );
  const b = rule({ ignoreTbls: [['~t[0-8]', 'a??']] });
  assert.deepEqual(
    apply(b, [
      ['t1', 'a01'],
      ['t9', 'a02'],
      ['5', '5'],
      ['t9', 'a001'],
    ]),
    [
      ['t9', 'a02'],
      ['5', '5'],
      ['t9', 'a001'],
    ],
  );
  const c = rule({ ignoreTbls: [['~t[0-8]', 'A??']] });
  assert.deepEqual(
    apply(c, [
      ['t1', 'a01'],
      ['t9', 'A02'],
      ['5', '5'],
      ['T9', 'a001'],
    ]),
    [
      ['t9', 'A02'],
      ['5', '5'],
      ['T9', 'a001'],
    ],
  );
});

test('case sensitivity of wildcards', () => {
  const r = rule({ ignoreTbls: [['a*', 'A*']] });
  const input: T[] = [
    ['aB', 'Ab'],
    ['AaB', 'aab'],
    ['acB', 'Afb'],
  ];
  assert.deepEqual(apply(r, input, true), [['AaB', 'aab']]);
  assert.deepEqual(apply(r, input, false), []);
  const bar = new BlockAllowList(rule({ doDbs: ['BAR'] }), false);
  assert.ok(bar.allowTable('bar', 'a'));
  assert.ok(bar.allowTable('BAR', 'a'));
});

test('do-tables wins over ignore-tables; the schema itself passes (DM TestMaxBox)', () => {
  const f = new BlockAllowList(rule({ doTbls: [['test1', 't1']], ignoreTbls: [['test1', 't2']] }), false);
  assert.ok(f.allowSchema('test1'));
  assert.ok(f.allowTable('test1', 't1'));
  assert.ok(!f.allowTable('test1', 't2'));
  assert.ok(!f.allowTable('test1', 't3'));
  const both = new BlockAllowList(rule({ doTbls: [['db', 't*']], ignoreTbls: [['db', 't1']] }), false);
  assert.ok(both.allowTable('db', 't1'), 'a table in do-tables is allowed even if ignore-tables matches it');
});

test('do-dbs: match returns a boolean for schema-level names (DM TestMatchReturnsBool)', () => {
  const f = new BlockAllowList(rule({ doDbs: ['sns'] }), true);
  assert.equal(f.allowSchema('sns'), true);
  assert.equal(f.allowSchema('other'), false);
  assert.equal(new BlockAllowList(undefined, true).allowSchema('other'), true);
});

test('ignore-tables with a regex table name', () => {
  const f = new BlockAllowList(rule({ ignoreTbls: [['shop', '~^tmp_|_bak$']] }), false);
  assert.ok(!f.allowTable('shop', 'tmp_orders'));
  assert.ok(!f.allowTable('shop', 'orders_bak'));
  assert.ok(f.allowTable('shop', 'orders'));
  assert.ok(f.allowTable('other', 'tmp_orders'));
});

test('system schemas are always blocked, case-insensitively; meta schema on request', () => {
  const open = new BlockAllowList(undefined, true);
  for (const s of [
    'mysql',
    'MYSQL',
    'information_schema',
    'performance_schema',
    'sys',
    'dm_heartbeat',
    'METRICS_SCHEMA',
  ]) {
    assert.equal(open.allowTable(s, 't'), false, s);
    assert.equal(open.allowSchema(s), false, s);
  }
  const all = new BlockAllowList(rule({ doDbs: ['*'] }), false, { metaSchema: 'dm_meta' });
  assert.equal(all.allowTable('mysql', 'user'), false);
  assert.equal(all.allowTable('DM_META', 'ckpt'), false);
  assert.equal(all.allowTable('app', 't'), true);
  assert.ok(BlockAllowList.isSystemSchema('Sys'));
});

test('empty patterns are configuration errors', () => {
  const bad = (e: unknown): boolean => e instanceof DmError && e.code === 'TSDM-10008';
  assert.throws(() => new BlockAllowList(rule({ doDbs: [''] }), false), bad);
  assert.throws(() => new BlockAllowList(rule({ ignoreTbls: [['db', '']] }), false), bad);
  assert.throws(() => new BlockAllowList(rule({ doTbls: [['', 't']] }), false), bad);
  assert.throws(() => new BlockAllowList(rule({ doDbs: ['~(x'] }), false), bad);
});
