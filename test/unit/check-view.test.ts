import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLine, type CheckSummary } from '../../src/coord/index.ts';

const base: CheckSummary = { id: 'c1', state: 'pending', requestedAt: '2026-12-03T10:00:00Z' };

test('check-data line: pending, running with progress and throttle, finished equal or different, failed', () => {
  assert.match(checkLine(base), /c1: pending/);
  const running = checkLine({
    ...base,
    state: 'running',
    owner: 'agent-1',
    resumed: 1,
    progress: {
      tablesTotal: 5,
      tablesDone: 2,
      rowsTotal: 1000,
      rowsDone: 400,
      rowsPerSecond: 200,
      etaSeconds: 3,
      throttled: 'sync lag 12s > --max-lag 10s',
    },
  });
  assert.match(
    running,
    /running on agent-1 {2}tables 2\/5 {2}rows 400\/1000 \(40(\.0)?%\) {2}200 rows\/s {2}ETA 3s {2}resumed 1x {2}\[throttled: sync lag 12s/,
  );
  assert.match(checkLine({ ...base, state: 'finished', differences: 0, finishedAt: 'T' }), /c1: equal \(finished T/);
  assert.match(checkLine({ ...base, state: 'finished', differences: 3, finishedAt: 'T' }), /c1: 3 differing row\(s\)/);
  assert.match(
    checkLine({
      ...base,
      state: 'failed',
      finishedAt: 'T',
      error: { code: 'TSDM-50030', class: 'coordination', retryable: true, message: 'not ready', suggestion: 's' },
    }),
    /failed at T: .*TSDM-50030/,
  );
});
