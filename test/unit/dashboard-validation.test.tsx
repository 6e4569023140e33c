/** Issue #15: the dashboard's task detail shows a subtask's continuous validation (stage, mode, counts, errors). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bound, leader, member, renderAt, replay, status, syncing, task } from './dashboard-fixtures.ts';

test('the task detail: continuous validation with its error rows and where to see them', async () => {
  const s = replay([
    member('agent-1', 1000),
    leader('agent-1'),
    bound('src-a', 'agent-1'),
    task('val', ['src-a']),
    status('val', 'src-a', 'agent-1', {
      ...syncing(0, true),
      validation: {
        mode: 'full',
        stage: 'Running',
        processed: { insert: 20, update: 10, delete: 5 },
        pending: { insert: 1, update: 0, delete: 0 },
        errors: { new: 1, ignored: 0, resolved: 0 },
        tables: [],
      },
    }),
  ]);
  const r = await renderAt(s, 160, 60, { initial: { view: 'tasks' } });
  await r.press('enter');
  const t = r.text();
  r.unmount();
  assert.match(t, /Continuous validation \(dmctl validation\)/);
  assert.match(t, /validation Running \(mode full\): processed 20\/10\/5 {2}pending 1\/0\/0/);
  assert.match(t, /errors new\/ignored\/resolved 1\/0\/0/);
  assert.match(t, /dmctl validation show-error val/);
});
