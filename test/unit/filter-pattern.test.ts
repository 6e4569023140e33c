import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePattern } from '../../src/filter/pattern.ts';
import { compileRe2, translateRe2 } from '../../src/filter/re2.ts';
import { DmError } from '../../src/errors/index.ts';

const m = (p: string, name: string, cs = true): boolean => compilePattern(p, cs)(name);

function assertBadPattern(fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => e instanceof DmError && e.code === 'TSDM-10008');
}

// Cases from DM's trie selector test (tidb-tools pkg/table-rule-selector selector_test.go), as behaviour.
test('wildcard: * at the end matches any suffix, also empty', () => {
  assert.ok(m('t*', 't'));
  assert.ok(m('t*', 'test1'));
  assert.ok(m('schema*', 'schema1'));
  assert.ok(!m('schema*', 'schem'));
  assert.ok(m('*', ''));
  assert.ok(m('*', 'anything'));
  assert.ok(!m('ab*', 'a'));
});

test('wildcard: ? matches exactly one character', () => {
  assert.ok(m('?bc', 'abc'));
  assert.ok(m('a?c', 'adc'));
  assert.ok(m('ab?', 'abd'));
  assert.ok(!m('ab?', 'ab'));
  assert.ok(!m('ab?', 'abcd'));
  assert.ok(m('a?b?', 'abbd'));
  assert.ok(m('t1_ab?', 't1_abc'));
});

test('wildcard: [set], [a-z] ranges and [!negation]', () => {
  assert.ok(m('ik[hjkl]', 'ikj'));
  assert.ok(!m('ik[hjkl]', 'ikm'));
  assert.ok(m('ik[!zxc]', 'ikb'));
  assert.ok(!m('ik[!zxc]', 'ikz'));
  assert.ok(m('ik[f-h]', 'ikh'));
  assert.ok(m('ik[!a-ce-g]', 'iky'));
  assert.ok(!m('ik[!a-ce-g]', 'ikf'));
  assert.ok(m('i[x-z][1-3]', 'iz3'));
  assert.ok(m('i?[x-z]', 'ixz'));
});

test('wildcard: DM corner cases of sets', () => {
  // `[!]` is the character `!`; `[a-]` is a or -; `[a-c-f]` is a..c, - and f.
  assert.ok(m('[!]', '!'));
  assert.ok(m('[a-]', '-'));
  assert.ok(m('[a-]', 'a'));
  assert.ok(m('[a-c-f]', '-'));
  assert.ok(m('[a-c-f]', 'c'));
  assert.ok(m('[a-c-f]', 'f'));
  assert.ok(!m('[a-c-f]', 'e'));
  assert.ok(m('[!a-c!f-g]', 'd'));
  assert.ok(!m('[!a-c!f-g]', '!'));
  // `[]` matches nothing; a `[` without `]` is literal; `\` is literal.
  assert.ok(!m('[]*', 'a'));
  assert.ok(m('a[b', 'a[b'));
  assert.ok(m('special\\', 'special\\'));
});

test('wildcard: cases from DM filter test (ignore-dbs foo[bar], foo?, special\\)', () => {
  const ignored = ['foo[bar]', 'foo?', 'special\\'].map((p) => compilePattern(p, false));
  const hit = (s: string): boolean => ignored.some((f) => f(s));
  assert.ok(hit('foor'));
  assert.ok(!hit('foo[bar]'));
  assert.ok(!hit('fo'));
  assert.ok(hit('foo?'));
  assert.ok(hit('special\\'));
});

test('wildcard: * must be the last character', () => {
  assertBadPattern(() => compilePattern('ab**', true));
  assertBadPattern(() => compilePattern('a*b', true));
  assertBadPattern(() => compilePattern('', true));
});

test('wildcard: case-insensitive lowers pattern and name; sensitive does not', () => {
  assert.ok(m('A*', 'ab', false));
  assert.ok(m('a*', 'AB', false));
  assert.ok(!m('a*', 'AB', true));
  assert.ok(m('[A-C]x', 'bX', false));
});

test('wildcard: works on characters, not bytes', () => {
  assert.ok(m('t?', 'té'));
  assert.ok(m('名?', '名前'));
  assert.ok(m('😀*', '😀x'));
});

test('regex: ~ starts a Go regex matched unanchored, like DM', () => {
  assert.ok(m('~test', 'mytest1'));
  assert.ok(m('~^foo', 'foo2'));
  assert.ok(!m('~^foo', 'xfoo'));
  assert.ok(m('~^sbtest-\\d', 'sbtest-1'));
  assert.ok(!m('~^sbtest-\\d', 'sbtest'));
  assert.ok(m('~f[0-9]', 'f1'));
  assert.ok(m('~FoO$', 'cFoO'));
  assert.ok(!m('~FoO$', 'cfoo', true));
  assert.ok(m('~FoO$', 'cfoo', false));
});

test('regex: invalid or unsupported by RE2 is ConfigBadPattern (DM TestInvalidRegex)', () => {
  assertBadPattern(() => compilePattern('~^t[0-9]+((?!_copy).)*$', true));
  assertBadPattern(() => compilePattern('~^t[0-9]+sp(?=copy).*', true));
  assertBadPattern(() => compilePattern('~(a', true));
  assertBadPattern(() => compilePattern('~(a)\\1', true));
  assertBadPattern(() => compilePattern('~a\\y', true));
  assertBadPattern(() => compilePattern('~a{2000}', true));
  assertBadPattern(() => compilePattern('~', true));
});

test('re2: Go syntax translated to JS', () => {
  assert.ok(compileRe2('(?i)^abc').test('ABC'));
  assert.ok(compileRe2('(?P<n>a+)b').exec('aab')?.groups?.n === 'aa');
  assert.ok(compileRe2('\\Aab\\z').test('ab'));
  assert.ok(!compileRe2('\\Aab\\z').test('abc'));
  assert.ok(compileRe2('\\Qa.b\\E').test('a.b'));
  assert.ok(!compileRe2('\\Qa.b\\E').test('axb'));
  assert.ok(compileRe2('^[[:alpha:]]+[[:digit:]]$').test('abc1'));
  assert.ok(compileRe2('^\\pL+$').test('Таблица'));
  assert.ok(compileRe2('^\\p{Greek}+$').test('αβγ'));
  assert.ok(compileRe2('^\\x{1F600}$').test('😀'));
  assert.ok(compileRe2('^\\101$').test('A'));
  assert.ok(compileRe2('^a_\\_\\-$').test('a__-'));
  assert.ok(compileRe2('^a{,2}$').test('a{,2}'), '`{` not starting a repeat is literal in Go');
  assert.ok(compileRe2('^a{2}$').test('aa'));
  assert.ok(compileRe2('^[]a]+$').test(']a'), '] first in a class is literal');
  assert.ok(!compileRe2('^.$').test('\n'));
  assert.ok(compileRe2('^.$').test('\r'), 'Go dot matches \\r');
  assert.ok(compileRe2('(?s)^.$').test('\n'));
  assert.equal(translateRe2('a', true).flags, 'iu');
});

test('regex: sql-pattern style (case-insensitive, ALTER ... ADD COLUMN)', () => {
  const re = compileRe2('^ALTER TABLE .* ADD COLUMN', true);
  assert.ok(re.test('alter table `db`.`t` add column c int'));
  assert.ok(!re.test('ALTER TABLE t DROP COLUMN c'));
});
