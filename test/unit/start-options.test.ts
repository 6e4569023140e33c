/**
 * start-task --start-time's forms (src/config/start-time.ts), the --remove-meta request each source carries out
 * (src/coord/records.ts) and check-task's --error/--warn report (tui).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStartTime, startTimeEpoch } from '../../src/config/start-time.ts';
import { buildReport, omittedText, printReport } from '../../tui/commands/task-report.ts';
import { removeMetaRequest, type CheckItem, type TaskRecord } from '../../src/coord/index.ts';
import type { ConfigNote } from '../../src/config/index.ts';

test('--start-time takes DM forms; without an offset the upstream zone decides', () => {
  assert.deepEqual(parseStartTime('2021-10-21 00:01:00'), { local: '2021-10-21 00:01:00' });
  assert.deepEqual(parseStartTime('2021-10-21T00:01:00'), { local: '2021-10-21 00:01:00' });
  assert.equal(startTimeEpoch(parseStartTime('2021-10-21T00:01:00')), undefined);
  assert.equal(startTimeEpoch(parseStartTime('2021-10-21T00:01:00Z')), Date.UTC(2021, 9, 21, 0, 1, 0) / 1000);
  assert.equal(startTimeEpoch(parseStartTime('2021-10-21 08:01:00+08:00')), Date.UTC(2021, 9, 21, 0, 1, 0) / 1000);
  assert.equal(startTimeEpoch(parseStartTime('2021-10-20T20:01:00-0400')), Date.UTC(2021, 9, 21, 0, 1, 0) / 1000);
  for (const bad of ['2021-10-21', '21/10/2021 00:01:00', '2021-02-30 00:00:00', '2021-10-21 24:00:00', 'now', ''])
    assert.throws(
      () => parseStartTime(bad),
      (e: Error & { code?: string }) => e.code === 'TSDM-10057',
      bad,
    );
});

test('--remove-meta is a request per source: its id for the sources it was given for, none for one added later', () => {
  const rec: TaskRecord = {
    name: 't',
    yaml: '',
    file: 't.yaml',
    stage: 'Running',
    sources: ['s1', 's2'],
    generation: 3,
    updatedAt: '2026-12-04T09:00:00.000Z',
    removeMeta: { id: 'g3 2026-12-04T09:00:00.000Z', sources: ['s1'] },
  };
  assert.equal(removeMetaRequest(rec, 's1'), 'g3 2026-12-04T09:00:00.000Z');
  assert.equal(removeMetaRequest(rec, 's2'), undefined, 'start-task -s s2 later: s2 keeps its checkpoints');
  const { removeMeta: _, ...plain } = rec;
  assert.equal(removeMetaRequest(plain, 's1'), undefined);
  // A record from a dmctl before requests had ids: the generation names the request.
  const legacy = { ...plain, removeMeta: true } as unknown as TaskRecord;
  assert.equal(removeMetaRequest(legacy, 's2'), 'g3');
});

const item = (name: string, ok: boolean, warning?: string): CheckItem => ({
  name,
  ok,
  ...(warning ? { warning } : {}),
  ...(ok
    ? {}
    : { error: { code: 'TSDM-1', class: 'config', retryable: false, message: `${name} failed`, suggestion: 'fix' } }),
});
const note = (line: number, key: string): ConfigNote => ({
  kind: 'no-effect',
  file: 'task.yaml',
  line,
  key,
  message: 'accepted, no effect: why',
});

test('check-task --error/--warn: at most N of each shown, the rest counted; config notes are warnings', () => {
  const res = {
    ok: false,
    items: [item('a', true), item('f1', false), item('f2', false), item('f3', false), item('w1', true, 'careful')],
  };
  const notes = [note(3, 'enable-heartbeat'), note(9, 'clean-dump-file')];
  const r = buildReport(res, notes, { errors: 1, warnings: 2 });
  assert.deepEqual(
    r.items.map((i) => i.name),
    ['a', 'f1'],
  );
  assert.deepEqual(r.warnings, [
    'config: task.yaml:3 key enable-heartbeat: accepted, no effect: why',
    'config: task.yaml:9 key clean-dump-file: accepted, no effect: why',
  ]);
  assert.deepEqual(r.omitted, { errors: 2, warnings: 1 });
  assert.equal(omittedText(r.omitted), '… and 2 more errors, 1 more warning (--error N / --warn N show more)');
  let out = '';
  printReport({ write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream, r, notes);
  assert.match(
    out,
    /^WARN task\.yaml:3 key enable-heartbeat: accepted, no effect: why\nWARN task\.yaml:9 key clean-dump-file/,
  );
  assert.match(out, /FAIL f1\n {5}\[TSDM-1\] f1 failed/);
  assert.ok(!out.includes('f2'));
  const all = buildReport(res, notes, { errors: 10, warnings: 10 });
  assert.deepEqual(all.omitted, { errors: 0, warnings: 0 });
  assert.equal(all.items.length, 5);
});
