import { agentNatsSettings, type AgentConfig } from '../src/config/agent-config.ts';
import { Bucket, Coord, resolveNatsAuth, type NatsAuth } from '../src/coord/index.ts';
import { DmError, Errors } from '../src/errors/index.ts';
import type { Logger } from './log.ts';

/**
 * The agent's connection to NATS with every KV bucket open, its inconsistencies and repairs logged. Credentials and
 * TLS files are checked first: a missing or wrong one is a config error (exit 2) naming it.
 */
export async function openCoord(cfg: AgentConfig, log: Logger): Promise<{ coord: Coord; auth: NatsAuth }> {
  const { settings, origins } = agentNatsSettings(cfg);
  const auth = resolveNatsAuth(settings, origins);
  const coord = await Coord.connect({
    auth,
    cluster: cfg.cluster,
    name: `dm-agent ${cfg.name}`,
    replicas: cfg.replicas,
  });
  // nats-server 2.9 can lose track of lease keys after an outage (docs/architecture.md "After a NATS outage"):
  // every inconsistency Coord meets and every repair is a warning with a stable message.
  coord.health.onAnomaly((a) =>
    log.warn({ bucket: a.bucket, key: a.key, kind: a.kind, detail: a.detail }, 'nats kv inconsistent'),
  );
  coord.health.onRepair((bucket, rewritten) => log.warn({ bucket, rewritten }, 'nats kv bucket repaired'));
  // A NATS cluster still electing its JetStream meta leader (all nodes just started, or one just lost) answers
  // bucket creation with timeouts (Coord.kv retries those for READ_RETRY_MS) and, while peers are still joining,
  // with errors that are not timeouts: 12 attempts 5 s apart before giving up.
  for (const b of Object.values(Bucket)) {
    for (let attempt = 1; ; attempt++) {
      try {
        await coord.kv(b);
        break;
      } catch (err) {
        // JetStream off is not a cluster still electing: exit now with the coded error (systemd restarts us).
        if (attempt >= 12 || (err instanceof DmError && err.code === Errors.JetStreamDisabled.code)) throw err;
        log.warn({ bucket: b, attempt, delayMs: 5000, err: String(err) }, 'cannot open KV bucket yet; retrying');
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  }
  return { coord, auth };
}
