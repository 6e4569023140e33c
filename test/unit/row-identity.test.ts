import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  causalityKeys,
  downstreamTableFromRows,
  foldValue,
  identityFor,
  RowIdentities,
  valuesKey,
  whereColumns,
  type DownstreamTable,
} from '../../agent/sync/row-identity.ts';
import { Dispatcher, type RoutedChange } from '../../agent/sync/dispatcher.ts';
import { writerStatements } from '../../agent/sync/writer-sql.ts';
import type { TableInfo } from '../../agent/db/schema.ts';
import type { Value } from '../../agent/db/mysql.ts';

const col = (name: string, collation: string | null = null) => ({
  name,
  dataType: collation ? 'varchar' : 'int',
  columnType: collation ? 'varchar(20)' : 'int',
  nullable: true,
  generated: false,
  charset: null,
  collation,
  comment: '',
  binary: false,
});
/** Upstream t(c1 PK, c2, c3): DM case downstream_diff_index. */
const UP: TableInfo = {
  schema: 'd1',
  table: 't1',
  columns: [col('c1'), col('c2'), col('c3', 'utf8mb4_general_ci')],
  primaryKey: ['c1'],
  uniqueKeys: [],
};

/** A downstream table from information_schema-shaped rows: columns [name, nullable, collation], unique indexes. */
function down(cols: [string, boolean, string | null][], idx: [string, string, number | null][]): DownstreamTable {
  return downstreamTableFromRows(
    cols.map(([n, nullable, coll]) => ({
      COLUMN_NAME: n,
      IS_NULLABLE: nullable ? 'YES' : 'NO',
      COLLATION_NAME: coll,
      DATA_TYPE: coll ? 'varchar' : 'int',
    })),
    idx.map(([i, c, sub]) => ({ INDEX_NAME: i, COLUMN_NAME: c, SUB_PART: sub })),
  );
}
const COLS: [string, boolean, string | null][] = [
  ['c1', true, null],
  ['c2', true, null],
  ['c3', true, 'utf8mb4_general_ci'],
];

test('the downstream key wins: primary key, else a unique NOT NULL index, else none', () => {
  assert.deepEqual(identityFor(UP, down(COLS, [])).key, [], 'downstream without keys: no key, whatever upstream has');
  assert.deepEqual(identityFor(UP, down(COLS, [['c2', 'c2', null]])).key, [], 'a nullable unique index is no key');
  assert.deepEqual(
    identityFor(UP, down(COLS, [['c2', 'c2', null]])).uniques.map((u) => u.columns),
    [['c2']],
  );
  const nn: [string, boolean, string | null][] = [
    ['c1', true, null],
    ['c2', false, null],
    ['c3', true, 'utf8mb4_bin'],
  ];
  assert.deepEqual(identityFor(UP, down(nn, [['c2', 'c2', null]])).key, ['c2'], 'unique over NOT NULL columns');
  const pk = identityFor(
    UP,
    down(nn, [
      ['PRIMARY', 'c3', null],
      ['c2', 'c2', null],
    ]),
  );
  assert.deepEqual(pk.key, ['c3'], 'primary key before unique NOT NULL');
  assert.deepEqual(
    pk.uniques.map((u) => u.columns),
    [['c3'], ['c2']],
  );
  // Column names compare case-insensitively; the identity uses the upstream rows' names.
  assert.deepEqual(
    identityFor(
      UP,
      down(
        [
          ['C1', false, null],
          ['C2', true, null],
          ['C3', true, null],
        ],
        [['PRIMARY', 'C2', null]],
      ),
    ).key,
    ['c2'],
  );
  // An index over a column the upstream rows lack (extra downstream column) cannot identify them.
  const extra = identityFor(
    UP,
    down(
      [...COLS, ['a', false, null]],
      [
        ['PRIMARY', 'a', null],
        ['u', 'c1', null],
      ],
    ),
  );
  assert.deepEqual(extra.key, [], 'the unique on c1 is nullable downstream');
  assert.deepEqual(
    extra.uniques.map((u) => u.columns),
    [['c1']],
  );
  // Unknown downstream table: the upstream's keys stand in.
  const stand = identityFor(UP, undefined);
  assert.deepEqual([stand.key, stand.fromDownstream], [['c1'], false]);
  // Upstream without any key, downstream with a primary key: keyed by it.
  assert.deepEqual(identityFor({ ...UP, primaryKey: [] }, down(nn, [['PRIMARY', 'c2', null]])).key, ['c2']);
});

test('rows without a downstream key are matched on a unique index with non-NULL values, else every column', () => {
  const id = identityFor(UP, down(COLS, [['c2', 'c2', null]]));
  const cols = ['c1', 'c2', 'c3'];
  assert.deepEqual(whereColumns(id, cols, { c1: '1', c2: '1', c3: 'x' }), ['c2']);
  assert.deepEqual(whereColumns(id, cols, { c1: '1', c2: null, c3: 'x' }), cols);
  assert.deepEqual(whereColumns(undefined, cols, { c1: '1' }), cols);
  const rc: RoutedChange = {
    change: {
      op: 'update',
      schema: 'd1',
      table: 't1',
      info: UP,
      before: { c1: '1', c2: '1', c3: '1' },
      after: { c1: '1', c2: '1', c3: '111' },
    },
    target: { schema: 'd', table: 't' },
    info: UP,
    key: id.key,
    identity: id,
    txnEnd: { name: 'b.1', pos: 1 },
  };
  const del: RoutedChange = {
    ...rc,
    change: { op: 'delete', schema: 'd1', table: 't1', info: UP, before: { c1: '2', c2: null, c3: '2' } },
  };
  assert.deepEqual(writerStatements([rc, del]), [
    "UPDATE `d`.`t` SET `c1` = '1', `c2` = '1', `c3` = '111' WHERE `c2` <=> '1' LIMIT 1",
    "DELETE FROM `d`.`t` WHERE `c1` <=> '2' AND `c2` <=> NULL AND `c3` <=> '2' LIMIT 1",
  ]);
  // Keyed by the downstream's primary key (c3), not the upstream's (c1).
  const pk = identityFor(
    UP,
    down(
      [
        ['c1', true, null],
        ['c2', true, null],
        ['c3', false, 'utf8mb4_bin'],
      ],
      [['PRIMARY', 'c3', null]],
    ),
  );
  const upd: RoutedChange = {
    ...rc,
    key: pk.key,
    identity: pk,
    change: { ...rc.change, before: { c1: '3', c2: '3', c3: '3' }, after: { c1: '3', c2: '3', c3: '333' } },
  };
  assert.deepEqual(writerStatements([upd]), [
    "DELETE FROM `d`.`t` WHERE `c3` IN ('3')",
    "REPLACE INTO `d`.`t` (`c1`,`c2`,`c3`) VALUES (3,3,'333')",
  ]);
});

test('causality keys fold values as the downstream index compares them', () => {
  assert.equal(foldValue('Ä b  ', 'ci', null), 'a b');
  assert.equal(foldValue('A ', 'pad', null), 'A');
  assert.equal(foldValue('abcdef', undefined, 3), 'abc');
  assert.equal(foldValue('😀😀x', undefined, 2), '😀😀', 'prefix lengths count characters');
  assert.deepEqual(foldValue(Buffer.from('abcd'), 'ci', 2), Buffer.from('ab'));
  const ci = identityFor(
    UP,
    down(
      [
        ['c1', false, null],
        ['c2', true, null],
        ['c3', false, 'utf8mb4_general_ci'],
      ],
      [
        ['PRIMARY', 'c1', null],
        ['u3', 'c3', null],
      ],
    ),
  );
  const [a] = causalityKeys('d.t', ci, [{ c1: '1', c3: 'A' }]).filter((k) => k.includes('uk:'));
  const [b] = causalityKeys('d.t', ci, [{ c1: '2', c3: 'a' }]).filter((k) => k.includes('uk:'));
  assert.equal(a, b, "'A' and 'a' collide in a _ci unique index");
  const bin = identityFor(
    UP,
    down(
      [
        ['c1', false, null],
        ['c2', true, null],
        ['c3', false, 'utf8mb4_bin'],
      ],
      [
        ['PRIMARY', 'c1', null],
        ['u3', 'c3', null],
      ],
    ),
  );
  assert.notEqual(
    causalityKeys('d.t', bin, [{ c1: '1', c3: 'A' }])[1],
    causalityKeys('d.t', bin, [{ c1: '2', c3: 'a' }])[1],
  );
  const prefix = identityFor(
    UP,
    down(
      [
        ['c1', false, null],
        ['c2', true, null],
        ['c3', false, 'utf8mb4_bin'],
      ],
      [
        ['PRIMARY', 'c1', null],
        ['u3', 'c3', 3],
      ],
    ),
  );
  assert.equal(
    causalityKeys('d.t', prefix, [{ c1: '1', c3: 'abcX' }])[1],
    causalityKeys('d.t', prefix, [{ c1: '2', c3: 'abcY' }])[1],
  );
  // NULLs never collide; a table without a key downstream is one key.
  assert.deepEqual(causalityKeys('d.t', ci, [{ c1: '1', c3: null }]), ['d.t|pk|s1']);
  assert.deepEqual(causalityKeys('d.t', identityFor(UP, down(COLS, [])), [{ c1: '1' }]), ['d.t|*']);
});

test("the dispatcher keeps changes whose downstream keys collide ('A' vs 'a') on one writer", () => {
  const id = identityFor(
    UP,
    down(
      [
        ['c1', false, null],
        ['c2', true, null],
        ['c3', false, 'utf8mb4_general_ci'],
      ],
      [
        ['PRIMARY', 'c1', null],
        ['u3', 'c3', null],
      ],
    ),
  );
  const ins = (c1: string, c3: string, pos: number): RoutedChange => ({
    change: { op: 'insert', schema: 'd1', table: 't1', info: UP, after: { c1, c2: null, c3 } },
    target: { schema: 'd', table: 't' },
    info: UP,
    key: id.key,
    identity: id,
    txnEnd: { name: 'b.1', pos },
  });
  // Without folding, each pair lands on two writers (checked with a _bin collation below).
  for (const [x, y] of [
    ['1', '3'],
    ['2', '7'],
    ['5', '6'],
  ] as const) {
    const d = new Dispatcher(4);
    assert.ok(d.tryAdd({ end: { name: 'b.1', pos: 1 }, changes: [ins(x, 'Key', 1)] }));
    assert.ok(d.tryAdd({ end: { name: 'b.1', pos: 2 }, changes: [ins(y, 'kEY', 2)] }));
    assert.equal(d.perWriter.filter((w) => w.length > 0).length, 1, `ids ${x} and ${y}: one writer`);
    // The same rows under a _bin unique index do not collide and spread.
    const exact = identityFor(
      UP,
      down(
        [
          ['c1', false, null],
          ['c2', true, null],
          ['c3', false, 'utf8mb4_bin'],
        ],
        [
          ['PRIMARY', 'c1', null],
          ['u3', 'c3', null],
        ],
      ),
    );
    const e = new Dispatcher(4);
    e.tryAdd({ end: { name: 'b.1', pos: 1 }, changes: [{ ...ins(x, 'Key', 1), identity: exact }] });
    e.tryAdd({ end: { name: 'b.1', pos: 2 }, changes: [{ ...ins(y, 'kEY', 2), identity: exact }] });
    assert.equal(e.perWriter.filter((w) => w.length > 0).length, 2, `ids ${x} and ${y} under _bin: two writers`);
  }
});

test('RowIdentities reads a downstream table once until invalidated', async () => {
  let loads = 0;
  const ids = new RowIdentities(async () => {
    loads++;
    return down(COLS, [['PRIMARY', 'c2', null]]);
  });
  const target = { schema: 'd', table: 't' };
  assert.equal(ids.peek(target, UP), undefined);
  const a = await ids.resolve(target, UP);
  assert.deepEqual(a.key, ['c2']);
  assert.equal(ids.peek(target, UP), a, 'cached per upstream structure');
  await ids.resolve(target, UP);
  assert.equal(loads, 1);
  ids.invalidate();
  assert.equal(ids.peek(target, UP), undefined);
  await ids.resolve(target, UP);
  assert.equal(loads, 2);
});

test('valuesKey: distinct tuples of one or two values never share a key (NULL, bytes, strings that look like keys)', () => {
  const vals: Value[] = [
    null,
    '',
    's',
    'sa',
    '\\N',
    'x00',
    'x',
    'a,b',
    '"a"',
    '"a","b"',
    Buffer.from([0]),
    Buffer.alloc(0),
  ];
  const tuples: Value[][] = [...vals.map((v) => [v]), ...vals.flatMap((a) => vals.map((b) => [a, b]))];
  const keys = new Set(tuples.map(valuesKey));
  assert.equal(keys.size, tuples.length);
});
