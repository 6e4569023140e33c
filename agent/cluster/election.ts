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
 * Logs: one line per change, never per tick: "became leader" (term), "lost leadership" (term, reason: one of
 * LostReason, and a detail), "leader changed" (a follower sees another leader or term), "leader key rewritten" (R);
 * a failing step warns once ("election step failed") and says when steps succeed again.
 */
/** Why an agent stopped leading, in its "lost leadership" line. */
export const LostReason = {
  /** Our key expired (not renewed within the lease) or another agent's record replaced it. */
  leaseExpired: 'lease expired',
  /** We gave it up: eviction by dmctl, or a graceful stop. */
  resigned: 'resigned',
  /** The bucket was repaired (step R) and another agent created the key before us. */
  kvRepair: 'KV repair',
} as const;
export type LostReason = (typeof LostReason)[keyof typeof LostReason];

export class Election {
  private timer: NodeJS.Timeout | undefined;
  private revision: number | undefined;
  private lastTerm = 0;
  private stopped = false;
  private since = '';
  private repairedAt = 0;
  /** When the key was last created or renewed by us (leader only). */
  private renewedAt = 0;
  /** Failed steps in a row, and when the first of them failed (one warning per outage, not one per tick). */
  private failures = 0;
  private failingSince = 0;
  /** The leader and term this agent last saw (a change is logged once). */
  private seen = '';
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
    const next = async () => {
      await this.tick();
      if (!this.stopped) this.timer = setTimeout(() => void next(), HEARTBEAT_MS);
    };
    void next();
  }

  /** One election step, then scheduling if we lead; never throws. */
  private async tick(): Promise<void> {
    try {
      await this.step();
      if (this.failures > 0)
        this.log.info(
          { failures: this.failures, sinceMs: Date.now() - this.failingSince },
          'election steps succeed again',
        );
      this.failures = 0;
      if (this.isLeader) await this.onTick();
    } catch (err) {
      this.stepFailed(err);
    }
  }

  /** A repair is due (steps 0, 2, 3) unless one ran within the last lease. */
  private repairDue(): boolean {
    return this.coord.needsRepair(Bucket.leader) && Date.now() - this.repairedAt > LEASE_TTL_MS;
  }

  /**
   * A step threw (NATS unreachable, a timeout): warn on the first. A leader keeps its role meanwhile: every act of a
   * leader is a compare-and-set on NATS, so a leader that cannot reach NATS cannot act; when NATS answers again the
   * next step renews the key if it is still ours, or finds another leader (logged "lost leadership", lease expired).
   * Stepping down here made a cluster whose NATS and agents had both stalled longer than a lease change leader for
   * nothing (test/integration/cluster-nats-crash.test.ts).
   */
  private stepFailed(err: unknown): void {
    if (this.failures++ === 0) {
      this.failingSince = Date.now();
      this.log.warn({ err: String(err), leader: this.isLeader }, 'election step failed');
    } else this.log.debug({ err: String(err), failures: this.failures }, 'election step failed');
  }

  private async step(): Promise<void> {
    if (this.evicted) {
      if (this.isLeader) await this.resign('evicted by dmctl operate-leader evict');
      return;
    }
    // A leader whose last renewal is older than the lease holds no lease (its process or NATS stalled past it): it
    // may not repair, since step R purges the bucket and would erase the key of a leader elected meanwhile. It
    // reads the key like any agent and loses to that leader, or renews a key that is still its own.
    const lapsed = this.isLeader && Date.now() - this.renewedAt > LEASE_TTL_MS;
    if (this.isLeader && !lapsed && !(await this.coord.inspect(Bucket.leader)) && this.repairDue())
      return this.repair();
    const sent = Date.now();
    const cur = await this.coord.get<LeaderRecord>(Bucket.leader, Keys.leader);
    if (cur) this.lastTerm = Math.max(this.lastTerm, cur.value.term);
    if (cur && cur.value.name === this.name && this.isLeader && this.revision !== undefined) {
      const rev = await this.coord.update<LeaderRecord>(Bucket.leader, Keys.leader, { ...cur.value }, cur.revision);
      if (rev !== undefined) {
        this.revision = rev;
        this.renewedAt = sent;
      } else if (!lapsed && this.repairDue()) await this.repair();
      else this.lose(LostReason.leaseExpired, 'the renewal was refused: the key changed since it was read');
      return;
    }
    if (cur) {
      if (this.isLeader) this.lose(LostReason.leaseExpired, `${cur.value.name} leads with term ${cur.value.term}`);
      this.saw(cur.value);
      return;
    }
    // No key while we lead: ours expired (the event loop or NATS too slow to renew it in time, under load).
    if (this.isLeader)
      this.lose(LostReason.leaseExpired, `the leader key is gone; last renewed ${Date.now() - this.renewedAt} ms ago`);
    const term = this.lastTerm + 1;
    const since = new Date().toISOString();
    const rev = await this.coord.create<LeaderRecord>(Bucket.leader, Keys.leader, { name: this.name, term, since });
    if (rev === undefined) return;
    if (this.repairDue()) {
      this.repairedAt = Date.now();
      this.log.warn({ term }, 'leader key created on an inconsistent bucket: repairing it, electing again next tick');
      await this.coord.repair(Bucket.leader, () => false);
      return;
    }
    this.isLeader = true;
    this.term = term;
    this.since = since;
    this.revision = rev;
    this.lastTerm = term;
    this.renewedAt = sent;
    this.log.info({ term, previous: this.seen || undefined }, 'became leader');
    eventsOf(this.coord).emit({
      kind: EventKind.leaderChanged,
      message: `${this.name} became leader (term ${term})`,
      detail: { term },
    });
    this.saw({ name: this.name, term, since });
  }

  /** Remembers the leader a step read; a change (another agent, a new term) is one info line. */
  private saw(rec: LeaderRecord): void {
    const id = `${rec.name}@${rec.term}`;
    if (id === this.seen) return;
    const previous = this.seen;
    this.seen = id;
    if (rec.name !== this.name)
      this.log.info({ leader: rec.name, term: rec.term, previous: previous || undefined }, 'leader changed');
  }

  /** Step R: stop leading, purge dm_leader, create our record again with the same term. */
  private async repair(): Promise<void> {
    this.isLeader = false;
    this.revision = undefined;
    this.repairedAt = Date.now();
    const sent = Date.now();
    await this.coord.repair(Bucket.leader, () => false);
    const rec: LeaderRecord = { name: this.name, term: this.term, since: this.since };
    const rev = await this.coord.create<LeaderRecord>(Bucket.leader, Keys.leader, rec);
    if (rev === undefined) {
      this.log.warn(
        {
          term: this.term,
          reason: LostReason.kvRepair,
          detail: 'another agent created the leader key after the repair',
        },
        'lost leadership',
      );
      return;
    }
    this.isLeader = true;
    this.revision = rev;
    this.renewedAt = sent;
    this.log.warn({ term: this.term }, 'leader key rewritten');
  }

  private lose(reason: LostReason, detail: string): void {
    if (!this.isLeader) return;
    this.isLeader = false;
    this.revision = undefined;
    this.log.warn({ term: this.term, reason, detail }, 'lost leadership');
  }

  /** Steps down at once (instead of letting the lease run out), deleting the key only if it is still ours. */
  async resign(why: string): Promise<void> {
    if (!this.isLeader) return;
    this.lose(LostReason.resigned, why);
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
