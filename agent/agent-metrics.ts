import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Coord } from '../src/coord/index.ts';
import { LEASE_TTL_MS } from '../src/coord/index.ts';
import type { RelayStatus } from '../src/coord/relay-records.ts';
import { binlogFileIndex } from '../src/metrics/lag.ts';
import type { AgentMetrics } from '../src/metrics/registry.ts';
import type { Health } from '../src/metrics/server.ts';

/** What the agent shows the metrics (agent.ts `start`). */
export interface AgentView {
  coord: Coord;
  dataDir: string;
  isLeader(): boolean;
  /** Wall time (ms) of the member key's last renewal. */
  lastRenewed(): number;
  /** Sources bound to this agent. */
  bindings(): number;
}

/**
 * The agent-wide readings of /metrics (leadership, bindings, NATS, relays) and the readiness of /readyz. Created by
 * main.ts before the agent starts (so the endpoint answers "starting" meanwhile), attached once the agent runs.
 */
export class AgentProbes {
  private view: AgentView | undefined;
  private connected = false;
  private wasLeader = false;
  private leaderTimer: NodeJS.Timeout | undefined;
  private readonly relays = new Map<string, RelayStatus>();
  private readonly relayErrors = new Map<string, string>();

  constructor(readonly metrics: AgentMetrics) {}

  attach(v: AgentView): void {
    this.view = v;
    const { m } = this.metrics;
    this.connected = !v.coord.nc.isClosed();
    void this.followConnection(v.coord);
    v.coord.health.onAnomaly((a) => m.kvAnomalies.inc({ kind: a.kind }));
    v.coord.health.onRepair(() => m.kvRepairs.inc());
    const rt = {
      get: m.kvRoundTrip.labels({ op: 'get' }),
      put: m.kvRoundTrip.labels({ op: 'put' }),
      create: m.kvRoundTrip.labels({ op: 'create' }),
      update: m.kvRoundTrip.labels({ op: 'update' }),
      delete: m.kvRoundTrip.labels({ op: 'delete' }),
    };
    v.coord.roundTrip = (op, seconds) => rt[op].observe(seconds);
    m.kvRepairs.inc(0);
    m.leaderChanges.inc(0);
    // Leadership is sampled every second (a term lasts at least one heartbeat, HEARTBEAT_MS), so election.ts stays
    // free of metrics; a change between two samples is counted once.
    this.leaderTimer = setInterval(() => this.sampleLeader(), 1000);
    this.leaderTimer.unref();
    this.metrics.onCollect((now) => this.collect(now));
  }

  /** The agent published a relay's status (about once a second), or the relay went away (undefined). */
  relay(source: string, s: RelayStatus | undefined): void {
    if (!s) {
      this.relays.delete(source);
      this.relayErrors.delete(source);
      return;
    }
    this.relays.set(source, s);
    // DM counts each exit of the relay unit with an error: here each new error record the relay reports.
    const key = s.error ? `${s.error.code}\u0000${s.error.time ?? ''}\u0000${s.error.message}` : '';
    if (key !== '' && this.relayErrors.get(source) !== key)
      this.metrics.m.relayExitWithError.inc({ source_id: source, resumable_err: String(s.error?.retryable === true) });
    this.relayErrors.set(source, key);
  }

  /** `/readyz`: NATS connected and the member key renewed within the lease. */
  ready(): Health {
    const v = this.view;
    if (!v) return { ok: false, why: 'agent starting' };
    if (!this.connected || v.coord.nc.isClosed()) return { ok: false, why: 'NATS not reachable' };
    const age = Date.now() - v.lastRenewed();
    if (age > LEASE_TTL_MS)
      return {
        ok: false,
        why: `member key not renewed for ${Math.round(age / 1000)} s (lease ${LEASE_TTL_MS / 1000} s)`,
      };
    return { ok: true };
  }

  close(): void {
    if (this.leaderTimer) clearInterval(this.leaderTimer);
  }

  private sampleLeader(): void {
    const now = this.view?.isLeader() ?? false;
    if (now !== this.wasLeader) this.metrics.m.leaderChanges.inc();
    this.wasLeader = now;
  }

  private async followConnection(coord: Coord): Promise<void> {
    for await (const s of coord.nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') this.connected = false;
      else if (s.type === 'reconnect') this.connected = true;
    }
    this.connected = false;
  }

  private collect(now: number): void {
    const v = this.view;
    if (!v) return;
    const { m } = this.metrics;
    this.sampleLeader();
    m.isLeader.set(this.wasLeader ? 1 : 0);
    m.bindings.set(v.bindings());
    m.natsConnected.set(this.connected && !v.coord.nc.isClosed() ? 1 : 0);
    m.memberRenewAge.set(v.lastRenewed() > 0 ? Math.max(0, (now - v.lastRenewed()) / 1000) : 0);
    for (const [source, s] of this.relays) {
      const l = { source_id: source };
      for (const [node, p] of [
        ['master', s.master],
        ['relay', s.relayPos],
      ] as const) {
        if (!p) continue;
        m.relayBinlogFile.set({ node, ...l }, binlogFileIndex(p.name));
        m.relayBinlogPos.set({ node, ...l }, p.pos);
      }
      m.relaySize.set(l, s.size.fileBytes);
      m.relayReusable.set(l, s.size.reusableBytes);
      m.relayLag.set(l, s.lagSeconds);
      try {
        const fs = statfsSync(join(v.dataDir, 'relay'));
        m.relaySpace.set({ type: 'capacity', ...l }, fs.blocks * fs.bsize);
        m.relaySpace.set({ type: 'available', ...l }, fs.bavail * fs.bsize);
      } catch {
        // no relay directory (yet): no space reading
      }
    }
  }
}
