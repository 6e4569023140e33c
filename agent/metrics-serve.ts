import { AgentMetrics } from '../src/metrics/registry.ts';
import { MetricsServer } from '../src/metrics/server.ts';
import { AgentProbes } from './agent-metrics.ts';
import type { Logger } from './log.ts';

/**
 * Starts dm-agent's metrics endpoint on `addr` (--metrics-addr): /metrics, /healthz, /readyz. The server lives as
 * long as the process (it answers until exit, so a scrape during a graceful stop still sees the last values).
 */
export async function serveMetrics(worker: string, addr: string, log: Logger): Promise<AgentProbes> {
  const probes = new AgentProbes(new AgentMetrics(worker));
  const server = new MetricsServer({ metrics: probes.metrics, ready: () => probes.ready() });
  const a = await server.listen(addr);
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  log.info({ addr: `${host}:${a.port}` }, 'metrics listening: /metrics, /healthz, /readyz');
  return probes;
}
