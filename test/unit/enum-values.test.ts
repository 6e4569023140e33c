import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnumMembers } from '../../src/schema/enum-members.ts';

test('ENUM/SET members keep commas, quotes and backslashes', () => {
  assert.deepEqual(parseEnumMembers("enum('small','x,y','it''s')"), ['small', 'x,y', "it's"]);
  assert.deepEqual(parseEnumMembers("set('a','b','cd')"), ['a', 'b', 'cd']);
  assert.deepEqual(parseEnumMembers("enum('')"), ['']);
  assert.equal(parseEnumMembers('int(11)'), undefined);
});
