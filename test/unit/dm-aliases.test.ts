import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewriteDmAlias, sourceList } from '../../tui/dm-aliases.ts';
import { relayPosition } from '../../tui/commands/binlog.ts';

const G = new Set(['--nats', '--cluster']);
const rw = (line: string) => {
  const [name, ...rest] = line.split(' ');
  const r = rewriteDmAlias(name!, rest, G);
  return r && [r.name, ...r.rest].join(' ');
};

test("DM's deprecated dmctl commands become the commands that replaced them, arguments in their order", () => {
  // downstream_more_column's run.sh
  assert.equal(
    rw('operate-schema set -s mysql-replica-01 test -d db1 -t t1 /x/schema.sql'),
    'binlog-schema update test db1 t1 /x/schema.sql -s mysql-replica-01',
  );
  assert.equal(rw('operate-schema get -s s1 test --database=db --table t'), 'binlog-schema list test db t -s s1');
  assert.equal(
    rw('operate-schema remove --nats nats://h:1 -s s1 test -d db -t t'),
    'binlog-schema delete test db t --nats nats://h:1 -s s1',
  );
  assert.equal(
    rw('operate-schema set -s s1 test -d db -t t f.sql --flush --sync'),
    'binlog-schema update test db t f.sql -s s1 --flush --sync',
  );
  assert.equal(rw('show-ddl-locks'), 'shard-ddl-lock');
  assert.equal(rw('show-ddl-locks -s s1 test'), 'shard-ddl-lock test');
  assert.equal(rw('unlock-ddl-lock test-`db`.`t`'), 'shard-ddl-lock unlock test-`db`.`t`');
  assert.equal(
    rw('unlock-ddl-lock test-`db`.`t` -o s2 -f -s s1 --action exec'),
    'shard-ddl-lock unlock test-`db`.`t` --owner s2 --action exec --force-remove -s s1',
  );
  assert.equal(rw('handle-error test skip'), 'binlog skip test');
  assert.equal(
    rw('handle-error test -s s1 -b mysql-bin.000001:420 replace alter table t add c int;'),
    'binlog replace test alter table t add c int; -s s1 -b mysql-bin.000001:420',
  );
  assert.equal(rw('get-config task test'), 'config task test');
  assert.equal(rw('query-status test'), undefined);
});

test("a binlog position in DM's relay form names the binlog file", () => {
  assert.equal(relayPosition('mysql-bin|000001.000003:3270'), 'mysql-bin.000003:3270');
  assert.equal(relayPosition('binlog.000001:4512'), 'binlog.000001:4512');
});

test("DM's -s list form: a,b names two sources", () => {
  assert.deepEqual(sourceList(['a,b', 'c', 'd, ,']), ['a', 'b', 'c', 'd']);
});
