import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadTaskConfig, parseTaskConfig } from '../../src/config/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { ValidatorQueue } from '../../agent/verify/validator-queue.ts';
import { validationLine } from '../../src/coord/index.ts';
import { expectations, sameValue } from '../../agent/verify/validator-rows.ts';
import type { RoutedChange } from '../../agent/sync/dispatcher.ts';
import type { TableInfo } from '../../agent/db/schema.ts';

const TASK = (validators: string, name = '    validator-config-name: v\n') => `---
name: test
task-mode: all
target-database: {host: "127.0.0.1", port: 4000, user: root, password: ""}
mysql-instances:
  - source-id: "s1"
    block-allow-list: "instance"
${name}block-allow-list:
  instance:
    do-dbs: ["d"]
${validators}`;

test('validators: DM keys, defaults and durations', () => {
  const t = parseTaskConfig(
    TASK(
      'validators:\n  v:\n    mode: full\n    worker-count: 2\n    row-error-delay: 3s\n    check-interval: 500ms\n    validate-interval: 1s\n    batch-query-size: 10\n    max-pending-row-count: 50\n',
    ),
    'task.yaml',
  );
  assert.deepEqual(t.subtasks[0]!.validator, {
    mode: 'full',
    workerCount: 2,
    validateIntervalMs: 1000,
    checkIntervalMs: 500,
    rowErrorDelayMs: 3000,
    batchQuerySize: 10,
    maxPendingRowCount: 50,
  });
  const d = parseTaskConfig(TASK('validators:\n  v:\n    mode: fast\n'), 'task.yaml').subtasks[0]!.validator;
  assert.equal(d.mode, 'fast');
  assert.equal(d.workerCount, 4);
  assert.equal(d.rowErrorDelayMs, 30 * 60 * 1000, "DM's default row-error-delay 30m");
  assert.equal(d.validateIntervalMs, 10_000);
  assert.equal(d.checkIntervalMs, 5000);
  const none = parseTaskConfig(TASK('', ''), 'task.yaml').subtasks[0]!.validator;
  assert.equal(none.mode, 'none', 'no validator-config-name: no validation');
});

test('validators: a bad duration or mode names file, line and key; no-effect keys are notes', () => {
  const bad = TASK('validators:\n  v:\n    mode: full\n    row-error-delay: soon\n');
  let err: unknown;
  try {
    parseTaskConfig(bad, 'task.yaml');
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DmError);
  assert.equal(err.context.key, 'validators.v.row-error-delay');
  assert.equal(err.context.file, 'task.yaml');
  assert.equal(err.context.line, bad.split('\n').findIndex((l) => l.includes('row-error-delay')) + 1);
  assert.throws(() => parseTaskConfig(TASK('validators:\n  v:\n    mode: slow\n'), 'task.yaml'), /mode/);
  const { notes } = loadTaskConfig(
    TASK('validators:\n  v:\n    mode: full\n    meta-flush-interval: 1m\n    max-pending-row-size: 100m\n'),
    'task.yaml',
  );
  assert.ok(notes.some((n) => n.key === 'validators.v.meta-flush-interval' && n.kind === 'no-effect'));
  assert.ok(notes.some((n) => n.key === 'validators.v.max-pending-row-size' && n.kind === 'no-effect'));
});

const OPTS = {
  validateIntervalMs: 1000,
  checkIntervalMs: 500,
  rowErrorDelayMs: 3000,
  batchQuerySize: 2,
  maxPendingRowCount: 5,
};
const row = (key: string, expected: Record<string, string> | null = { id: key, v: 'a' }) => ({
  table: 'd.t',
  key,
  keyValues: [key],
  keyColumns: ['id'],
  expected,
  kind: 'insert' as const,
  srcTable: 'd.t',
});

test('queue: rows wait validate-interval unless a batch is full; confirmed rows count as processed', () => {
  const q = new ValidatorQueue(OPTS);
  q.add(row('1'), 0);
  assert.equal(q.take(500), undefined, 'a lone new row waits for its batch');
  const got = q.take(1000)!;
  assert.deepEqual(
    got.map((r) => r.key),
    ['1'],
  );
  assert.equal(q.settle(got[0]!, { ok: true }, 1000), undefined);
  assert.equal(q.pendingCount, 0);
  assert.equal(q.processed.insert, 1);
  q.add(row('2'), 2000);
  q.add(row('3'), 2000);
  assert.equal(q.take(2001)?.length, 2, 'batch-query-size rows are read at once');
});

test('queue: a differing row is read again and becomes an error only after row-error-delay', () => {
  const q = new ValidatorQueue(OPTS);
  q.add(row('1'), 0);
  let r = q.take(1000)![0]!;
  assert.equal(q.settle(r, { ok: false, actual: null }, 1000), undefined, 'within the delay: retried');
  assert.equal(q.take(1200), undefined, 'not before check-interval');
  r = q.take(1500)![0]!;
  assert.equal(q.settle(r, { ok: false, actual: null }, 1500), undefined);
  r = q.take(2000)![0]!;
  assert.equal(q.settle(r, { ok: false, actual: null }, 2500), undefined);
  // The last read is due at the delay exactly (not check-interval past it).
  r = q.take(3000)![0]!;
  const err = q.settle(r, { ok: false, actual: null }, 3000);
  assert.equal(err?.key, '1', 'row-error-delay passed: an error row');
  assert.equal(q.pendingCount, 0);
});

test('queue: the latest image wins; a fixed row is no error; overflow past max-pending-row-count', () => {
  const q = new ValidatorQueue(OPTS);
  q.add(row('1'), 0);
  const old = q.take(1000)![0]!;
  q.add(row('1', { id: '1', v: 'b' }), 1100); // a newer change while the old one was being read
  assert.equal(q.settle(old, { ok: false, actual: null }, 5000), undefined, "the old image's outcome is dropped");
  assert.equal(q.pendingCount, 1);
  const cur = q.take(2100)![0]!;
  assert.deepEqual(cur.expected, { id: '1', v: 'b' });
  assert.equal(q.settle(cur, { ok: false, actual: null }, 2100), undefined);
  const again = q.take(2600)![0]!;
  assert.equal(q.settle(again, { ok: true }, 2600), undefined, 'fixed within the delay: processed, no error');
  assert.equal(q.processed.insert, 1);
  for (let i = 0; i < 6; i++) q.add(row(String(i)), 0);
  assert.equal(q.overflowing, true);
});

const INFO = {
  schema: 'd',
  table: 't',
  columns: [
    { name: 'id', dataType: 'int' },
    { name: 'v', dataType: 'varchar' },
    { name: 'g', dataType: 'int', generated: true },
  ],
} as unknown as TableInfo;
const rc = (op: 'insert' | 'update' | 'delete', before?: Record<string, string>, after?: Record<string, string>) =>
  ({
    change: { op, schema: 'd', table: 't', info: INFO, ...(before ? { before } : {}), ...(after ? { after } : {}) },
    target: { schema: 'd', table: 't' },
    info: INFO,
    key: ['id'],
    txnEnd: { name: 'b.000001', pos: 4 },
  }) as unknown as RoutedChange;

test('expectations: the written image at its key, absence after a delete or a key change', () => {
  const ins = expectations(rc('insert', undefined, { id: '1', v: 'x', g: '9' }));
  assert.deepEqual(ins.length, 1);
  assert.deepEqual(ins[0]!.expected, { id: '1', v: 'x' }, 'generated columns are not expected');
  const del = expectations(rc('delete', { id: '1', v: 'x' }));
  assert.equal(del[0]!.expected, null);
  const same = expectations(rc('update', { id: '1', v: 'x' }, { id: '1', v: 'y' }));
  assert.equal(same.length, 1);
  const moved = expectations(rc('update', { id: '1', v: 'x' }, { id: '2', v: 'x' }));
  assert.deepEqual(
    moved.map((m) => [m.keyValues[0], m.expected === null]),
    [
      ['2', false],
      ['1', true],
    ],
  );
  assert.deepEqual(expectations({ ...rc('insert', undefined, { id: '1' }), key: [] }), [], 'no key: not validated');
});

test('sameValue: exact canonical values, floats within 1e-6', () => {
  assert.ok(sameValue('number', '1.50', '1.5'));
  assert.ok(!sameValue('text', 'a', 'A'));
  assert.ok(!sameValue('text', '', null));
  assert.ok(sameValue('float', '1.100000023841858', '1.1'));
  assert.ok(!sameValue('float', '1.1', '1.2'));
  assert.ok(sameValue('temporal', '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00'));
});

test('validationLine: stage, mode, counts and why it stopped, as query-status prints it', () => {
  const line = validationLine({
    mode: 'full',
    stage: 'Stopped',
    processed: { insert: 20, update: 10, delete: 5 },
    pending: { insert: 0, update: 1, delete: 0 },
    errors: { new: 1, ignored: 2, resolved: 3 },
    result: 'more than 5 rows pending',
    tables: [{ srcTable: '`d`.`k`', dstTable: '`d`.`k`', stage: 'Stopped', message: 'no primary key' }],
  });
  assert.equal(
    line,
    'validation Stopped (mode full): processed 20/10/5  pending 0/1/0 (insert/update/delete)  errors new/ignored/resolved 1/2/3  1 table(s) not validated  — more than 5 rows pending',
  );
});
