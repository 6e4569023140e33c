/**
 * query-status --format dm: tsdm codes with a DM counterpart carry DM's terror fields (src/errors/dm-terror.ts, the
 * one table); the others keep tsdm's number. The table's entries are DM's (errors_release.txt) as written there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dmProcessError } from '../../src/coord/dm-status.ts';
import { DM_TERROR, dmTerror } from '../../src/errors/dm-terror.ts';
import { Errors, type ErrorName, type ErrorRecord } from '../../src/errors/index.ts';

const rec = (name: ErrorName, over: Partial<ErrorRecord> = {}): ErrorRecord => ({
  code: Errors[name].code,
  class: Errors[name].class,
  retryable: Errors[name].retryable,
  message: 'm',
  suggestion: 's',
  ...over,
});

test('a purged binlog is DM 36069 (ErrSyncerGetEvent: sync-unit, upstream, high)', () => {
  const e = dmProcessError(rec('BinlogPurged'), 'sync');
  assert.deepEqual([e.ErrCode, e.ErrClass, e.ErrScope, e.ErrLevel], [36069, 'sync-unit', 'upstream', 'high']);
});

test("DM's database errors: scope not-set in DM's list, the side where tsdm knows it (DM's WithScope)", () => {
  const e = dmProcessError(rec('DownstreamExec'), 'sync');
  assert.deepEqual([e.ErrCode, e.ErrClass, e.ErrScope, e.ErrLevel], [10006, 'database', 'downstream', 'high']);
  const u = dmProcessError(rec('UpstreamConnect'), 'sync');
  assert.deepEqual([u.ErrCode, u.ErrScope], [10001, 'upstream']);
  const v = dmProcessError(rec('ValidationNotHere'), 'sync');
  assert.equal(v.ErrScope, 'not-set');
});

test('start-time too late is DM 20057; tsdm 20057 (too early: DM only warns) is 920057, not 20057', () => {
  assert.equal(dmProcessError(rec('StartTimeTooLate'), 'sync').ErrCode, 20057);
  const early = dmProcessError(rec('StartTimeTooEarly'), 'sync');
  assert.deepEqual([early.ErrCode, early.ErrClass, early.ErrScope], [920057, 'sync-unit', 'upstream']);
  assert.equal(dmTerror(Errors.StartTimeTooEarly.code), undefined);
});

test('a warning stays low; an unmapped code keeps the unit class and carries 900000 + the tsdm number (outside the DM range)', () => {
  assert.equal(dmProcessError(rec('BinlogPurged', { warning: true }), 'sync').ErrLevel, 'low');
  const e = dmProcessError(rec('DownstreamExtendColumns'), 'load');
  assert.deepEqual([e.ErrCode, e.ErrClass, e.ErrScope, e.ErrLevel], [930007, 'load-unit', 'downstream', 'high']);
});

test("the table: DM's names, codes in DM's ranges, classes, scopes and levels DM has", () => {
  const classes = new Set([
    'database',
    'functional',
    'config',
    'binlog-op',
    'checkpoint',
    'task-check',
    'source-check',
  ]);
  for (const c of ['relay-event-lib', 'relay-unit', 'dump-unit', 'load-unit', 'sync-unit', 'dm-master', 'dm-worker'])
    classes.add(c);
  for (const c of ['dm-tracer', 'schema-tracker', 'scheduler', 'dmctl', 'not-set', 'openapi', 'validator', 'ha'])
    classes.add(c);
  const names = new Map<number, string>();
  for (const [name, d] of Object.entries(DM_TERROR)) {
    assert.ok(name in Errors, name);
    assert.match(d!.name, /^Err[A-Z]/);
    assert.ok(d!.code >= 10001 && d!.code < 50000, `${name}: ${d!.code}`);
    assert.ok(classes.has(d!.class), `${name}: class ${d!.class}`);
    // One DM code is one DM error: two tsdm codes may share it, never with another name.
    assert.equal(names.get(d!.code) ?? d!.name, d!.name, `${d!.code}`);
    names.set(d!.code, d!.name);
    assert.equal(dmTerror(Errors[name as ErrorName].code), d);
  }
});

test('docs/commands.md lists every mapped code', () => {
  const doc = readFileSync(new URL('../../docs/commands.md', import.meta.url), 'utf8');
  for (const [name, d] of Object.entries(DM_TERROR))
    assert.ok(
      doc.includes(`| \`${Errors[name as ErrorName].code}\` ${name} | ${d!.code} \`${d!.name}\` |`),
      `${name} in the docs table`,
    );
});
