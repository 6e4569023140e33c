import {
  Bucket,
  Keys,
  Op,
  type Coord,
  type EvictResult,
  type OfflineMemberRequest,
  type OfflineMemberResult,
  type TransferSourceRequest,
} from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import type { Logger } from '../log.ts';
import type { Election } from './election.ts';
import { readView, transfer } from './scheduler.ts';
import type { OpHandler } from '../op-registry.ts';

/**
 * Cluster operations, addressed to this agent by name (`<cluster>.op.agent.<name>.<op>`; served by op-registry.ts).
 * dmctl reads dm_leader to find the leader and sends leader ops there; a follower (the lease moved meanwhile) answers
 * NoLeader, and dmctl says to retry.
 */
export function clusterOps(
  coord: Coord,
  name: string,
  election: Election,
  log: Logger,
  reschedule: () => Promise<void>,
): OpHandler[] {
  const leaderOnly = () => {
    if (!election.isLeader) throw new DmError('NoLeader', `agent ${name} is not the leader (any more)`);
  };
  return [
    {
      op: Op.transferSource,
      to: 'agent',
      handle: async (p) => {
        leaderOnly();
        const req = p as TransferSourceRequest;
        return transfer(coord, election.term, log, req.source, req.agent);
      },
    },
    {
      op: Op.offlineMember,
      to: 'agent',
      handle: async (p) => {
        leaderOnly();
        const req = p as OfflineMemberRequest;
        const view = await readView(coord);
        if (view.members.has(req.name))
          throw new DmError('MemberAlive', `agent ${req.name} is alive (its member key is renewed)`);
        const out: OfflineMemberResult = { name: req.name, rebound: [] };
        // Its bindings are deleted (so it is not "the agent it is bound to now" if a process of that name reappears)
        // and the scheduler binds those sources afresh; terms still grow (nextTerm uses the clock).
        for (const [id, b] of view.bounds) {
          if (b.value.agent !== req.name) continue;
          await coord.delete(Bucket.bounds, Keys.bound(id));
          log.info({ source: id, from: req.name, reason: 'offline-member' }, 'source unbound');
          out.rebound.push(id);
        }
        await reschedule();
        log.info({ member: req.name, rebound: out.rebound }, 'member offlined');
        return out;
      },
    },
    {
      op: Op.evictLeader,
      to: 'agent',
      handle: async () => {
        const wasLeader = election.isLeader;
        election.evicted = true;
        await election.resign('evicted by dmctl operate-leader evict');
        log.warn({ wasLeader }, 'evicted from leadership');
        const r: EvictResult = { name, evicted: true, wasLeader };
        return r;
      },
    },
    {
      op: Op.cancelEvict,
      to: 'agent',
      handle: async () => {
        election.evicted = false;
        log.info('leader eviction cancelled');
        const r: EvictResult = { name, evicted: false, wasLeader: election.isLeader };
        return r;
      },
    },
  ];
}
