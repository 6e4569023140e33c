import { hostname } from 'node:os';
import {
  Bucket,
  bucketName,
  HEARTBEAT_MS,
  Keys,
  KvAnomalyKind,
  readBehindWriteAnomaly,
  type Coord,
  type MemberRecord,
} from '../../src/coord/index.ts';
import type { Logger } from '../log.ts';

/**
 * Membership: the agent's key in dm_members, renewed every HEARTBEAT_MS. The bucket's max-age (LEASE_TTL_MS) makes
 * the key vanish ~10 s after the last renewal, which is how the leader learns that an agent is gone. Each renewal is
 * read back, and the record carries this agent's count of KV inconsistencies (`kv`, shown by `dmctl list-member`).
 */
export class Membership {
  private timer: NodeJS.Timeout | undefined;
  private readonly record: MemberRecord;
  /** When the last renewal was acknowledged by JetStream (the member key lives LEASE_TTL_MS from about then). */
  lastRenewed = 0;
  /** Renewals failed in a row: the first is a warning, the rest debug, the recovery one info line (no per-beat spam). */
  private failures = 0;

  constructor(
    private readonly coord: Coord,
    private readonly name: string,
    version: string,
    private readonly log: Logger,
  ) {
    const now = new Date().toISOString();
    this.record = { name, host: hostname(), pid: process.pid, version, started: now, heartbeat: now };
  }

  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => {
      void this.beat();
    }, HEARTBEAT_MS);
  }

  private async beat(): Promise<void> {
    const sent = Date.now();
    this.record.heartbeat = new Date(sent).toISOString();
    // The lease is measured from when the put was sent, not acknowledged: the server may have stored it any time
    // in between, so this is the conservative end for fencing.
    const kv = this.coord.health.report();
    if (kv) this.record.kv = kv;
    try {
      const rev = await this.coord.put(Bucket.members, Keys.member(this.name), this.record);
      if (this.failures > 0)
        this.log.info({ failures: this.failures, downMs: sent - this.lastRenewed }, 'heartbeat renewed again');
      this.failures = 0;
      this.lastRenewed = Math.max(this.lastRenewed, sent);
      // Read-after-write: the key must read back at least this revision (nats-server 2.9 after an outage may not;
      // an inconsistency is noted, the leader repairs the bucket: scheduler.ts).
      const read = await this.coord.get(Bucket.members, Keys.member(this.name));
      const detail = readBehindWriteAnomaly(rev, read?.revision);
      if (detail)
        this.coord.health.note({
          kind: KvAnomalyKind.readBehindWrite,
          bucket: bucketName(this.coord.cluster, Bucket.members),
          key: this.name,
          detail,
        });
    } catch (err) {
      if (this.failures++ === 0) this.log.warn({ err: String(err) }, 'heartbeat failed');
      else this.log.debug({ err: String(err), failures: this.failures }, 'heartbeat failed');
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.coord.delete(Bucket.members, Keys.member(this.name)).catch(() => undefined);
  }
}
