/**
 * Issue #5 acceptance 1: three agents, 20 SIGKILLs of the leader in a row. At any time at most one agent believes
 * it leads (checked on the agents' own logs: the intervals between "became leader" and "lost leadership" or the
 * kill never overlap), and a new leader takes over each time; the takeover times are printed (expected: the lease
 * after the last renewal, plus at most one election tick). The cluster runs on a 5 s lease and 1 s tick
 * (short-lease.ts): the same protocol as the 10 s default, each of the 20 takeovers waiting half as long.
 */
import './short-lease.ts'; // first: it sets the lease before src/coord is loaded
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HEARTBEAT_MS, LEASE_TTL_MS } from '../../src/coord/index.ts';
import { waitFor } from '../harness/index.ts';
import { leader, logLines, logTime, startMultiCluster, type MultiCluster } from './cluster-helpers.ts';

let c: MultiCluster;
before(async () => {
  c = await startMultiCluster({ agents: 3, sources: false });
});
after(async () => {
  await c?.stop();
});

const KILLS = Number(process.env.TSDM_ELECTION_KILLS ?? 20);

test(`exactly one leader across ${KILLS} leader SIGKILLs`, { timeout: 900_000 }, async () => {
  const kills: { name: string; pid: number; at: number }[] = [];
  const takeovers: number[] = [];
  let cur = await waitLeader(undefined);
  for (let i = 0; i < KILLS; i++) {
    const a = c.byName(cur.name);
    const pid = a.pid()!;
    await a.kill();
    const at = Date.now();
    kills.push({ name: a.name, pid, at });
    const next = await waitLeader(cur);
    // The key is in NATS before the line reaches the log file (pino, then the pipe): wait for the line.
    let became: Record<string, unknown> | undefined;
    await waitFor(
      async () => {
        became = logLines(c.byName(next.name), 'became leader').find((l) => Number(l.term) === next.term);
        return became !== undefined;
      },
      30_000,
      `${next.name} logs "became leader" for its term ${next.term}`,
    );
    takeovers.push(logTime(became!) - at);
    await a.restart();
    await a.ready();
    cur = next;
  }
  // Leadership intervals from the agents' logs: [became, lost or killed].
  const intervals: { name: string; from: number; to: number; term: number }[] = [];
  for (const a of c.agents) {
    const lines = a
      .log()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    let open: { from: number; term: number; pid: number } | undefined;
    for (const l of lines) {
      if (open && Number(l.pid) !== open.pid) {
        const k = kills.find((x) => x.pid === open!.pid);
        intervals.push({ name: a.name, from: open.from, to: k ? k.at : logTime(l), term: open.term });
        open = undefined;
      }
      if (l.msg === 'became leader') open = { from: logTime(l), term: Number(l.term), pid: Number(l.pid) };
      else if (l.msg === 'lost leadership' && open) {
        intervals.push({ name: a.name, from: open.from, to: logTime(l), term: open.term });
        open = undefined;
      }
    }
    if (open) {
      const k = kills.find((x) => x.pid === open!.pid);
      intervals.push({ name: a.name, from: open.from, to: k ? k.at : Date.now(), term: open.term });
    }
  }
  intervals.sort((x, y) => x.from - y.from);
  for (let i = 1; i < intervals.length; i++) {
    assert.ok(
      intervals[i]!.from >= intervals[i - 1]!.to,
      `leaders overlap: ${JSON.stringify(intervals[i - 1])} and ${JSON.stringify(intervals[i])}`,
    );
    assert.ok(intervals[i]!.term > intervals[i - 1]!.term, 'terms grow');
  }
  assert.ok(intervals.length >= KILLS + 1, `${intervals.length} leadership intervals`);
  const sorted = [...takeovers].sort((x, y) => x - y);
  console.log(
    `takeover after leader SIGKILL over ${KILLS} kills: min ${sorted[0]} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted[sorted.length - 1]} ms (lease ${LEASE_TTL_MS} ms, election tick ${HEARTBEAT_MS} ms)`,
  );
  // No timing assertion (a loaded 2-core machine): the figures are reported; every kill did produce a new leader.
  assert.equal(takeovers.length, KILLS);
});

async function waitLeader(prev: { name: string; term: number } | undefined): Promise<{ name: string; term: number }> {
  let l: { name: string; term: number } | undefined;
  await waitFor(
    async () => {
      l = await leader(c.coord);
      return l !== undefined && (!prev || (l.name !== prev.name && l.term > prev.term));
    },
    60_000,
    'a new leader',
  );
  return l!;
}
