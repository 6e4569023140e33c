/** Several agents on one NATS (or a NATS cluster): the setting of the cluster/failover tests (issue #5). */
import assert from 'node:assert/strict';
import { Bucket, Coord, Keys, type BoundRecord, type LeaderRecord } from '../../src/coord/index.ts';
import { startNatsCluster, startSandbox, waitFor, type NatsCluster } from '../harness/index.ts';
import { dmctl, sourceYaml, startAgent, writeTemp, type AgentProcess } from '../harness/tsdm.ts';
import type { Cluster } from './helpers.ts';

export interface MultiCluster extends Cluster {
  agents: AgentProcess[];
  /** NATS URL(s) as the agents got them (comma-separated for a NATS cluster). */
  natsUrl: string;
  natsCluster: NatsCluster | undefined;
  byName(name: string): AgentProcess;
}

export async function startMultiCluster(
  opts: { agents?: number; agentEnv?: NodeJS.ProcessEnv; natsCluster?: boolean; sources?: boolean } = {},
): Promise<MultiCluster> {
  const natsCluster = opts.natsCluster ? await startNatsCluster(3) : undefined;
  if (natsCluster) await natsCluster.waitReady();
  const sb = await startSandbox({ upstreams: 1, withNats: !natsCluster });
  const natsUrl = natsCluster ? natsCluster.url : sb.nats.url;
  const env = { ...(natsCluster ? { TSDM_REPLICAS: '3' } : {}), ...opts.agentEnv };
  const agents = Array.from({ length: opts.agents ?? 3 }, (_, i) =>
    startAgent({ name: `agent-${i + 1}`, nats: natsUrl, env }),
  );
  for (const a of agents) await a.ready();
  const coord = await Coord.connect({
    servers: natsUrl.split(','),
    cluster: 'dm',
    ...(natsCluster ? { replicas: 3 } : {}),
  });
  const ctl = (args: string[]) => dmctl(natsUrl, natsCluster ? ['--replicas', '3', ...args] : args);
  if (opts.sources !== false) {
    const r = await ctl([
      'operate-source',
      'create',
      writeTemp('source1.yaml', sourceYaml('source1', sb.upstreams[0]!)),
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  return {
    sb,
    agent: agents[0]!,
    agents,
    coord,
    ctl,
    natsUrl,
    natsCluster,
    byName: (n) => {
      const a = agents.find((x) => x.name === n);
      if (!a) throw new Error(`no agent ${n}`);
      return a;
    },
    async stop() {
      await Promise.allSettled(agents.map((a) => a.stop()));
      await coord.close().catch(() => undefined);
      await sb.stop();
      await natsCluster?.stop();
    },
  };
}

export async function bound(coord: Coord, source: string): Promise<BoundRecord | undefined> {
  return (await coord.get<BoundRecord>(Bucket.bounds, Keys.bound(source)))?.value;
}

export async function leader(coord: Coord): Promise<LeaderRecord | undefined> {
  return (await coord.get<LeaderRecord>(Bucket.leader, Keys.leader))?.value;
}

/** Waits until the source is bound to an agent other than `from` (with a higher term); returns the binding. */
export async function waitRebound(
  coord: Coord,
  source: string,
  from: BoundRecord,
  timeoutMs = 60_000,
): Promise<BoundRecord> {
  let b: BoundRecord | undefined;
  await waitFor(
    async () => {
      b = await bound(coord, source);
      return b !== undefined && b.agent !== from.agent && b.term > from.term;
    },
    timeoutMs,
    `${source} rebound away from ${from.agent}`,
  );
  return b!;
}

/** A log line's time (ISO text) in ms since the epoch. */
export function logTime(l: Record<string, unknown>): number {
  return Date.parse(String(l.time));
}

/** Lines of an agent's JSON log with a given msg. */
export function logLines(a: AgentProcess, msg: string): Record<string, unknown>[] {
  return a
    .log()
    .split('\n')
    .filter((l) => l.includes(`"msg":"${msg}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
