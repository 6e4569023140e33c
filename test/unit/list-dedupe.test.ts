/**
 * Issue #12 item 7: KV key listings can name a key twice (seen with nats-server 2.9: list-member showed the leader
 * twice). Coord.list's listing yields each key once; list-member's rows are one per agent name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keysOf } from '../../src/coord/client.ts';
import { memberRows } from '../../tui/commands/cluster.ts';

/** A KV whose key listing names some keys twice, as nats-server 2.9 was seen to. */
function repeatingKv(keys: string[]) {
  return {
    async keys() {
      let i = 0;
      return {
        stop() {},
        [Symbol.asyncIterator]() { return { next: async () => (i < keys.length ? { value: keys[i++]!, done: false } : { value: undefined, done: true }) }; },
      } as unknown as Awaited<ReturnType<import('nats').KV['keys']>>;
    },
  };
}

test('a KV key listing that repeats keys yields each key once', async () => {
  assert.deepEqual(await keysOf(repeatingKv(['agent-1', 'agent-2', 'agent-1', 'agent-2', 'agent-1']), undefined), ['agent-1', 'agent-2']);
});

test('list-member never lists an agent twice, even from two records of one name', () => {
  const m = (name: string, heartbeat: string) => ({ name, host: 'h', pid: 1, version: '0.1.0', started: '2026-01-01T00:00:00Z', heartbeat });
  const rows = memberRows(
    [m('agent-2', '2026-01-01T00:00:02Z'), m('agent-1', '2026-01-01T00:00:01Z'), m('agent-1', '2026-01-01T00:00:03Z')],
    { name: 'agent-1', term: 4, since: '2026-01-01T00:00:00Z' },
    [{ sourceId: 's1', agent: 'agent-1', term: 4, boundAt: '' }, { sourceId: 's1', agent: 'agent-1', term: 4, boundAt: '' }],
  );
  assert.deepEqual(rows.map((r) => [r.name, r.leader, r.sources, r.heartbeat]), [
    ['agent-1', true, ['s1'], '2026-01-01T00:00:03Z'],
    ['agent-2', false, [], '2026-01-01T00:00:02Z'],
  ]);
});
