/**
 * A complete test environment: N upstream MariaDBs (binlog ROW/FULL, server ids 101, 102, ...), one downstream
 * MariaDB (server id 201, no binlog) and one JetStream nats-server, all started in parallel on private ports.
 */
import { startMariaDB, type MariaDBInstance } from './mariadb.ts';
import { startNats, type NatsInstance, type StartNatsOptions } from './nats.ts';

export interface SandboxOptions {
  /** Number of upstream servers; default 1. */
  upstreams?: number;
  /** Start a nats-server; default true. Reading `sandbox.nats` without it throws. */
  withNats?: boolean;
  /** Extra mariadbd arguments for every upstream (e.g. --binlog-row-metadata=FULL). */
  upstreamArgs?: string[];
  /** Extra mariadbd arguments for the downstream (e.g. TLS files). */
  downstreamArgs?: string[];
  /** nats-server config (auth, TLS) and how the harness connects to it (startNats). */
  nats?: Pick<StartNatsOptions, 'config' | 'client'>;
}

export interface Sandbox {
  upstreams: MariaDBInstance[];
  downstream: MariaDBInstance;
  nats: NatsInstance;
  /** Stops everything (in parallel) and removes the temp dirs; safe to call twice. */
  stop(): Promise<void>;
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const n = opts.upstreams ?? 1;
  const withNats = opts.withNats ?? true;
  const pending: Promise<{ stop(): Promise<void> }>[] = [];
  const ups = Array.from({ length: n }, (_, i) =>
    startMariaDB({
      name: `up${i + 1}`,
      upstream: true,
      serverId: 101 + i,
      ...(opts.upstreamArgs ? { extraArgs: opts.upstreamArgs } : {}),
    }),
  );
  const down = startMariaDB({
    name: 'down',
    serverId: 201,
    ...(opts.downstreamArgs ? { extraArgs: opts.downstreamArgs } : {}),
  });
  const nats = withNats ? startNats({ name: 'nats', ...opts.nats }) : undefined;
  pending.push(...ups, down, ...(nats ? [nats] : []));

  const settled = await Promise.allSettled(pending);
  const started = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((x) => x.stop()));
    throw failed.reason;
  }

  const upstreams = await Promise.all(ups);
  const downstream = await down;
  const natsInstance = nats ? await nats : undefined;
  let stopped: Promise<void> | undefined;
  return {
    upstreams,
    downstream,
    get nats(): NatsInstance {
      if (!natsInstance) throw new Error('this sandbox was started with withNats: false');
      return natsInstance;
    },
    stop() {
      stopped ??= Promise.allSettled(started.map((x) => x.stop())).then((rs) => {
        const bad = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (bad) throw bad.reason;
      });
      return stopped;
    },
  };
}
