import { Bucket, HEARTBEAT_MS, Keys, type Coord, type LeaderRecord } from '../../src/coord/index.ts';
import type { Logger } from '../log.ts';

/**
 * Leader election on dm_leader/leader (DESIGN.md §3, §8). Protocol, each step by any agent every HEARTBEAT_MS:
 *  1. get(leader). Absent (never written, deleted, or expired by the bucket max-age, which is silent) -> step 2.
 *     Present and ours -> step 3. Present and another's -> follower; nothing to do.
 *  2. create(leader, {me, term+1}). Success: we lead with that term. Failure (someone else created it first): follower.
 *  3. update(leader, {me, term}, revision). Success renews the lease. Failure (stale revision: the key expired and
 *     someone else won) -> we are a follower at once and stop scheduling.
 * A crash between any two steps leaves either a key that expires within LEASE_TTL_MS or nothing; both lead to a
 * new election. Only the leader writes dm_bounds (by CAS, see scheduler.ts), and each binding carries a term.
 *  4. Eviction (`dmctl operate-leader evict`): an evicted agent skips steps 1-3; if it leads it deletes the key
 *     (only while it is still its own) so another agent wins at its next step 2. `cancel-evict` clears the flag.
 *     The flag lives in the agent's memory (as in DM): a restarted agent takes part in elections again.
 *  5. Graceful stop: like eviction, then the agent stops ticking.
 */
export class Election {
  private timer: NodeJS.Timeout | undefined;
  private revision: number | undefined;
  private lastTerm = 0;
  private stopped = false;
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

  private async step(): Promise<void> {
    if (this.evicted) {
      if (this.isLeader) await this.resign('evicted');
      return;
    }
    const cur = await this.coord.get<LeaderRecord>(Bucket.leader, Keys.leader);
    if (cur) this.lastTerm = Math.max(this.lastTerm, cur.value.term);
    if (cur && cur.value.name === this.name && this.isLeader && this.revision !== undefined) {
      const rev = await this.coord.update<LeaderRecord>(Bucket.leader, Keys.leader, { ...cur.value }, cur.revision);
      if (rev === undefined) this.lose('lease renewal lost');
      else this.revision = rev;
      return;
    }
    if (cur) {
      if (this.isLeader) this.lose(`${cur.value.name} leads`);
      return;
    }
    const term = this.lastTerm + 1;
    const rev = await this.coord.create<LeaderRecord>(Bucket.leader, Keys.leader, {
      name: this.name,
      term,
      since: new Date().toISOString(),
    });
    if (rev !== undefined) {
      this.isLeader = true;
      this.term = term;
      this.revision = rev;
      this.lastTerm = term;
      this.log.info({ term }, 'became leader');
    }
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
