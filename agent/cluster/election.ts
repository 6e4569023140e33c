import {
  Bucket,
  eventsOf,
  HEARTBEAT_MS,
  Keys,
  LEASE_TTL_MS,
  type Coord,
  type LeaderRecord,
} from '../../src/coord/index.ts';
import { EventKind } from '../../src/events/record.ts';
import type { Logger } from '../log.ts';

/**
 * Leader election on dm_leader/leader (DESIGN.md §3, §8). Protocol, each step by any agent every HEARTBEAT_MS:
 *  0. Check (leader only): the leader checks the bucket's subject counts (one stream info, Coord.inspect). Counts
 *     that cannot be (nats-server 2.9 after an outage longer than the lease, docs/architecture.md "After a NATS
 *     outage"), or an inconsistency its own reads or writes met, lead to the repair below.
 *  1. get(leader). Coord.get does not take "absent" on a lease bucket for granted: when the stream still counts
 *     messages on the key it reads the newest one by sequence. Absent (never written, deleted, or expired by the
 *     bucket max-age, which is silent) -> step 2. Present and ours -> step 3. Present and another's -> follower.
 *  2. create(leader, {me, term+1}). Failure (someone else created it first): follower. Success is checked against
 *     the stream (Coord.create): when the key had another live message the create proved nothing (the server let
 *     it through on a live key); the creator purges the bucket and stays a follower this tick; the next tick elects
 *     on a repaired bucket, where create is a real compare-and-set again. Otherwise we lead with that term.
 *  3. update(leader, {me, term}, revision). Success renews the lease. Failure (stale revision: the key expired and
 *     someone else won) -> we are a follower at once and stop scheduling; but when the key's newest message is
 *     still our revision, the server's index is wrong (cas-refused): repair.
 *  R. Repair (the leader, from steps 0 and 3): it stops leading first, purges the bucket (Coord.repair), then
 *     creates its record again with the same term: success -> it leads on; failure (another agent created the key
 *     between the purge and the create) -> follower. Stopping first keeps two agents from leading at once. At most
 *     one repair per lease: if a repaired bucket is inconsistent again at once, the plain protocol goes on.
 * A crash between any two steps leaves either a key that expires within LEASE_TTL_MS or nothing; both lead to a
 * new election. Only the leader writes dm_bounds (by CAS, see scheduler.ts), and each binding carries a term.
 *  4. Eviction (`dmctl operate-leader evict`): an evicted agent skips steps 0-3; if it leads it deletes the key
 *     (only while it is still its own) so another agent wins at its next step 2. `cancel-evict` clears the flag.
 *     The flag lives in the agent's memory (as in DM): a restarted agent takes part in elections again.
 *  5. Graceful stop: like eviction, then the agent stops ticking.
 */
export class Election {
  private timer: NodeJS.Timeout | undefined;
  private revision: number | undefined;
  private lastTerm = 0;
  private stopped = false;
  private since = '';
  private repairedAt = 0;
  term = 0;
  isLeader = false;
  evicted = false;

  constructor(
    private readonly coord: Coord,
    private readonly name: string,
    private readonly log: Logger,
    private readonly onTick: () => Promise<void>,
  ) {}

  start(): void {
    const tick = async () => {
      try {
        await this.step();
        if (this.isLeader) await this.onTick();
      } catch (err) {
        this.log.warn({ err: String(err) }, 'election step failed');
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), HEARTBEAT_MS);
    };
    void tick();
  }

  /** A repair is due (steps 0, 2, 3) unless one ran within the last lease. */
  private repairDue(): boolean {
    return this.coord.needsRepair(Bucket.leader) && Date.now() - this.repairedAt > LEASE_TTL_MS;
  }

  private async step(): Promise<void> {
    if (this.evicted) {
      if (this.isLeader) await this.resign('evicted');
      return;
    }
    if (this.isLeader && !(await this.coord.inspect(Bucket.leader)) && this.repairDue()) return this.repair();
    const cur = await this.coord.get<LeaderRecord>(Bucket.leader, Keys.leader);
    if (cur) this.lastTerm = Math.max(this.lastTerm, cur.value.term);
    if (cur && cur.value.name === this.name && this.isLeader && this.revision !== undefined) {
      const rev = await this.coord.update<LeaderRecord>(Bucket.leader, Keys.leader, { ...cur.value }, cur.revision);
      if (rev !== undefined) this.revision = rev;
      else if (this.repairDue()) await this.repair();
      else this.lose('lease renewal lost');
      return;
    }
    if (cur) {
      if (this.isLeader) this.lose(`${cur.value.name} leads`);
      return;
    }
    const term = this.lastTerm + 1;
    const since = new Date().toISOString();
    const rev = await this.coord.create<LeaderRecord>(Bucket.leader, Keys.leader, { name: this.name, term, since });
    if (rev === undefined) return;
    if (this.repairDue()) {
      this.repairedAt = Date.now();
      await this.coord.repair(Bucket.leader, () => false);
      return;
    }
    this.isLeader = true;
    this.term = term;
    this.since = since;
    this.revision = rev;
    this.lastTerm = term;
    this.log.info({ term }, 'became leader');
    eventsOf(this.coord).emit({
      kind: EventKind.leaderChanged,
      message: `${this.name} became leader (term ${term})`,
      detail: { term },
    });
  }

  /** Step R: stop leading, purge dm_leader, create our record again with the same term. */
  private async repair(): Promise<void> {
    this.isLeader = false;
    this.revision = undefined;
    this.repairedAt = Date.now();
    await this.coord.repair(Bucket.leader, () => false);
    const rec: LeaderRecord = { name: this.name, term: this.term, since: this.since };
    const rev = await this.coord.create<LeaderRecord>(Bucket.leader, Keys.leader, rec);
    if (rev === undefined) {
      this.log.warn({ why: 'another agent created the leader key after the repair' }, 'lost leadership');
      return;
    }
    this.isLeader = true;
    this.revision = rev;
    this.log.warn({ term: this.term }, 'leader key rewritten');
  }

  private lose(why: string): void {
    this.isLeader = false;
    this.revision = undefined;
    this.log.warn({ why }, 'lost leadership');
  }

  /** Steps down at once (instead of letting the lease run out), deleting the key only if it is still ours. */
  async resign(why: string): Promise<void> {
    if (!this.isLeader) return;
    this.lose(why);
    const cur = await this.coord.get<LeaderRecord>(Bucket.leader, Keys.leader).catch(() => undefined);
    if (cur?.value.name === this.name) await this.coord.delete(Bucket.leader, Keys.leader).catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopped = true;
    await this.resign('agent stopping');
  }
}
