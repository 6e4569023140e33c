/**
 * `dmctl plan` explains with the rule objects the task decides with: BlockAllowList.decide() is allowTable()'s
 * decision with its reason, Router.ruleFor() names the rule route() used, EventFilter.rulesOn() and
 * ExpressionFilter.describe() list what applies to a table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockAllowList } from '../../src/filter/block-allow-list.ts';
import { EventFilter } from '../../src/filter/event-filter.ts';
import { ExpressionFilter } from '../../src/filter/expression-filter.ts';
import { Router } from '../../src/route/router.ts';

test('BlockAllowList.decide: the same answer as allowTable, with the rule that decided', () => {
  const bal = new BlockAllowList(
    {
      doDbs: ['~^shop_[0-9]+$', 'app'],
      ignoreDbs: [],
      doTables: [],
      ignoreTables: [{ dbName: 'app', tblName: 'tmp_*' }],
    },
    false,
    { metaSchema: 'dm_meta' },
  );
  const cases: [string, string, boolean, RegExp | undefined][] = [
    ['shop_1', 'orders', true, undefined],
    ['app', 'tmp_x', false, /ignore-tables \{db-name: app, tbl-name: tmp_\*\}/],
    ['other', 't', false, /no do-dbs pattern/],
    ['mysql', 'user', false, /system schema/],
    ['DM_META', 'x', false, /meta-schema/],
  ];
  for (const [s, t, ok, reason] of cases) {
    const d = bal.decide(s, t);
    assert.equal(d.allowed, ok, `${s}.${t}`);
    assert.equal(bal.allowTable(s, t), ok, `${s}.${t}`);
    if (reason) assert.match(d.reason ?? '', reason);
  }
  const doTables = new BlockAllowList(
    { doDbs: [], ignoreDbs: ['junk'], doTables: [{ dbName: 'a', tblName: 't*' }], ignoreTables: [] },
    false,
  );
  assert.match(doTables.decide('a', 't1').reason ?? '', /do-tables/);
  assert.deepEqual(doTables.decide('a', 'x'), { allowed: false, reason: 'matches no do-tables entry' });
  assert.match(doTables.decide('junk', 't1').reason ?? '', /ignore-dbs pattern junk/);
});

test('Router.ruleFor names the deciding rule; EventFilter.rulesOn and ExpressionFilter.describe list what applies', () => {
  const r = new Router(
    [
      { name: 'tables', schemaPattern: 's*', tablePattern: 't*', targetSchema: 'm', targetTable: 't' },
      { name: 'schemas', schemaPattern: 's*', tablePattern: '', targetSchema: 'm', targetTable: '' },
    ],
    false,
  );
  assert.equal(r.ruleFor('s1', 't1'), 'tables');
  assert.equal(r.ruleFor('s1', 'x'), 'schemas');
  assert.equal(r.ruleFor('other', 'x'), undefined);
  assert.deepEqual(r.route('s1', 't1'), { schema: 'm', table: 't' });
  const f = new EventFilter(
    [
      {
        name: 'no-del',
        schemaPattern: 's*',
        tablePattern: 't*',
        events: ['delete'],
        sqlPattern: [],
        action: 'Ignore',
      },
    ],
    false,
  );
  assert.deepEqual(
    f.rulesOn('s1', 't1').map((x) => x.name),
    ['no-del'],
  );
  assert.deepEqual(f.rulesOn('s1', 'x'), []);
  const e = new ExpressionFilter([{ name: 'cheap', schema: 's1', table: 't1', insertValueExpr: 'a < 10' }], false, {
    zoneMinutes: 0,
    now: Date.now,
  });
  assert.deepEqual(e.describe('S1', 'T1'), [{ rule: 'cheap', key: 'insert-value-expr', expr: 'a < 10' }]);
  assert.deepEqual(e.describe('s1', 'x'), []);
});
