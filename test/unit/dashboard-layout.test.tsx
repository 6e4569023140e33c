/** Text helpers and column fitting: how the dashboard degrades on narrow terminals. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { percentText as percent } from '../../src/coord/status-derive.ts';
import { ago, count, duration, exact, fit, truncate, width, wrap } from '../../tui/dashboard/format.ts';
import { fitColumns, type ColumnSpec } from '../../tui/dashboard/fit-columns.ts';
import { pageOf } from '../../tui/dashboard/DataTable.tsx';

test('truncate and fit count code points and end cut text with an ellipsis', () => {
  assert.equal(truncate('abcdef', 4), 'abc…');
  assert.equal(truncate('abc', 4), 'abc');
  assert.equal(truncate('abc', 1), '…');
  assert.equal(truncate('abc', 0), '');
  assert.equal(truncate('😀😀😀', 2), '😀…');
  assert.equal(fit('ab', 4), 'ab  ');
  assert.equal(fit('ab', 4, 'right'), '  ab');
  assert.equal(width('┌─…'), 3);
});

test('wrap keeps words whole and cuts only words longer than a line', () => {
  assert.deepEqual(wrap('the quick brown fox', 9), ['the quick', 'brown fox']);
  assert.deepEqual(wrap('abcdefghij xy', 4), ['abcd', 'efgh', 'ij', 'xy']);
  assert.deepEqual(wrap('a\nb', 10), ['a', 'b']);
});

test('numbers, percentages and durations', () => {
  assert.deepEqual(
    [count(999), count(12_345), count(123_456), count(1_234_567), count(undefined)],
    ['999', '12.3k', '123k', '1.2M', '-'],
  );
  assert.equal(exact(1234567), '1,234,567');
  // One helper with query-status (src/coord/status-derive.ts): floored to one decimal, 100 % only when done.
  assert.deepEqual(
    [
      percent(1, 3),
      percent(5, 1000),
      percent(999_999, 1_000_000),
      percent(996, 1000),
      percent(125_130, 125_132),
      percent(7, 7),
      percent(1, 0),
    ],
    ['33.3%', '0.5%', '99.9%', '99.6%', '99.9%', '100.0%', '-'],
  );
  assert.deepEqual(
    [duration(5), duration(125), duration(7300), duration(90_000), duration(undefined)],
    ['5s', '2m05s', '2h01m', '1d01h', '-'],
  );
  assert.equal(ago(1000, 4000), '3s ago');
});

const spec = (header: string, priority: number, min: number, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  header,
  priority,
  min,
  ...extra,
});

test('fitColumns: everything at natural width when it fits', () => {
  const r = fitColumns([spec('a', 9, 3), spec('b', 5, 3)], [10, 10], 80);
  assert.deepEqual(r, { visible: [0, 1], widths: [10, 10] });
});

test('fitColumns: optional columns go before a name is cut; then flexible columns shrink, widest first', () => {
  const specs = [
    spec('name', 100, 6, { flex: true }),
    spec('stage', 90, 7),
    spec('rate', 40, 6),
    spec('msg', 80, 10, { flex: true, ideal: 20 }),
  ];
  // content room for 4 columns: 40 - 13 = 27
  const r = fitColumns(specs, [20, 7, 6, 60], 40);
  assert.deepEqual(r.visible, [0, 1, 3]);
  const total = 1 + r.visible.length * 3 + r.widths.reduce((a, b) => a + b, 0);
  assert.ok(total <= 40, `table is ${total} wide`);
  assert.equal(r.widths[1], 7, 'a fixed-format column is never cut');
  assert.ok(r.widths[0]! >= 6 && r.widths[2]! >= 10);
});

test('fitColumns: below the minimums, the least important columns disappear', () => {
  const specs = [spec('name', 100, 8, { flex: true }), spec('stage', 90, 7), spec('unit', 60, 4), spec('lag', 70, 4)];
  assert.deepEqual(fitColumns(specs, [30, 7, 4, 4], 30).visible, [0, 1, 3], 'unit (60) goes before lag (70)');
  const r = fitColumns(specs, [30, 7, 4, 4], 26);
  assert.deepEqual(r.visible, [0, 1]);
  assert.ok(1 + 2 * 3 + r.widths[0]! + r.widths[1]! <= 26);
});

test('pages: the selection decides the page', () => {
  assert.deepEqual(pageOf(0, 100, 15), { start: 0, end: 15 });
  assert.deepEqual(pageOf(15, 100, 15), { start: 15, end: 30 });
  assert.deepEqual(pageOf(99, 100, 15), { start: 90, end: 100 });
  assert.deepEqual(pageOf(-1, 0, 15), { start: 0, end: 0 });
});
