/**
 * Issue #12 item 7: KV key listings can name a key twice (seen with nats-server 2.9: list-member showed the leader
 * twice). Coord.list's listing (the stream's subjects, src/coord/client.ts keysOf) yields each key once; list-member's rows are one per agent name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keysOf } from '../../src/coord/client.ts';
import { memberRows } from '../../tui/commands/cluster.ts';

/** A JetStream manager whose stream info pages the bucket's subjects (pages may overlap, as a Set must absorb). */
function pagedJsm(pages: string[][], total: number) {
  const requests: { subjects_filter?: string; offset?: number }[] = [];
  return {
    requests,
    streams: {
      async info(_stream: string, opts?: { subjects_filter?: string; offset?: number }) {
        requests.push(opts ?? {});
        const page = pages[requests.length - 1] ?? [];
        return { state: { subjects: Object.fromEntries(page.map((k) => [`$KV.tsdm-members.${k}`, 1])) }, total };
      },
    },
  } as unknown as Pick<import('nats').JetStreamManager, 'streams'> & {
    requests: { subjects_filter?: string; offset?: number }[];
  };
}

test('a bucket listing names each key once, across pages', async () => {
  const jsm = pagedJsm(
    [
      ['agent-1', 'agent-2'],
      ['agent-2', 'agent-3'],
    ],
    4,
  );
  assert.deepEqual((await keysOf(jsm, 'tsdm-members', undefined)).sort(), ['agent-1', 'agent-2', 'agent-3']);
  assert.deepEqual(
    jsm.requests.map((r) => [r.subjects_filter, r.offset]),
    [
      ['$KV.tsdm-members.>', 0],
      ['$KV.tsdm-members.>', 2],
    ],
  );
});

test('a bucket listing with a filter asks only for its subjects', async () => {
  const jsm = pagedJsm([['task.t1.s1']], 0);
  assert.deepEqual(await keysOf(jsm, 'tsdm-members', 'task.>'), ['task.t1.s1']);
  assert.equal(jsm.requests[0]!.subjects_filter, '$KV.tsdm-members.task.>');
});

test('list-member never lists an agent twice, even from two records of one name', () => {
  const m = (name: string, heartbeat: string) => ({
    name,
    host: 'h',
    pid: 1,
    version: '0.1.0',
    started: '2026-01-01T00:00:00Z',
    heartbeat,
  });
  const rows = memberRows(
    [m('agent-2', '2026-01-01T00:00:02Z'), m('agent-1', '2026-01-01T00:00:01Z'), m('agent-1', '2026-01-01T00:00:03Z')],
    { name: 'agent-1', term: 4, since: '2026-01-01T00:00:00Z' },
    [
      { sourceId: 's1', agent: 'agent-1', term: 4, boundAt: '' },
      { sourceId: 's1', agent: 'agent-1', term: 4, boundAt: '' },
    ],
  );
  assert.deepEqual(
    rows.map((r) => [r.name, r.leader, r.sources, r.heartbeat]),
    [
      ['agent-1', true, ['s1'], '2026-01-01T00:00:03Z'],
      ['agent-2', false, [], '2026-01-01T00:00:02Z'],
    ],
  );
});
