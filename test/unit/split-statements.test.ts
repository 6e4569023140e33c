import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStatements } from '../../src/sql/split.ts';

test('statements split at semicolons outside strings, names and comments', () => {
  assert.deepEqual(splitStatements("ALTER TABLE t ADD c INT; UPDATE t SET s = 'a;b'"), [
    'ALTER TABLE t ADD c INT',
    "UPDATE t SET s = 'a;b'",
  ]);
  assert.deepEqual(splitStatements('CREATE TABLE `x;y` (id INT); /* ; */ ;'), [
    'CREATE TABLE `x;y` (id INT)',
    '/* ; */',
  ]);
  assert.deepEqual(splitStatements('  '), []);
});
