import {
  Bucket,
  eventsOf,
  Keys,
  type BoundRecord,
  type Coord,
  type Entry,
  type MemberRecord,
  type SourceRecord,
} from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { EventKind } from '../../src/events/record.ts';
import type { Logger } from '../log.ts';

/**
 * Source scheduling, run by the leader only (on every election tick, and at once when a member key is deleted).
 *
 * Protocol (docs/architecture.md "Protocol steps" 3 and 6), for each source in dm_sources:
 *  S0. (after S1) when dm_members was found inconsistent (nats-server 2.9 after an outage longer than the lease: Coord
 *      then lists it from its messages, so S1 is still right), repair it: purge the stream and write back the live
 *      members' records (Coord.repair; a record the previous repair wrote back and its agent did not renew since is
 *      left to expire). A crash in between loses some records until their agents' next renewal (one heartbeat,
 *      shorter than the lease: no failover);
 *  S1. read dm_members (live agents), dm_sources, dm_bounds (with revisions);
 *  S2. a source bound to a live agent keeps its binding (no move without a reason: transfer-source is the reason);
 *  S3. a source that is unbound, or bound to an agent whose member key is gone, is bound to the first live agent of:
 *      the agent named by `operate-source create -w`, the agent it is bound to now (it came back), the agent it was
 *      bound to before, else the live agent with the fewest sources (ties: by name);
 *  S4. the binding is written by CAS (create if absent, update with the revision read in S1) with a new term
 *      (`nextTerm`: strictly greater than the previous one). A CAS failure means another writer (a leader that
 *      has not yet noticed it lost) got there first: skip, the next tick reads again;
 *  S5. bindings of sources that no longer exist are deleted.
 * The bound agent watches dm_bounds (step 4 of the protocol) and starts or stops subtasks. A crash of the leader
 * between S4 writes leaves some sources rebound and others not: the next leader's S1 sees exactly that and goes on.
 * Fencing makes a stale binding harmless: the new term is claimed in the downstream before anything is written.
 * Logs (the leader's): "source bound" per binding written, with from/to, why it moved and why that agent; "source
 * unbound" per binding deleted; "source transferred" for transfer-source. A pass that changes nothing logs nothing.
 */
export function nextTerm(prev: number | undefined): number {
  // Monotonic per source while the record exists; "now" keeps it growing across a delete and re-create of the
  // source (the downstream owner row remembers the highest term ever claimed).
  return Math.max((prev ?? 0) + 1, Date.now());
}

export interface ClusterView {
  members: Set<string>;
  sources: Entry<SourceRecord>[];
  bounds: Map<string, Entry<BoundRecord>>;
}

export async function readView(coord: Coord): Promise<ClusterView> {
  const members = new Set((await coord.list<MemberRecord>(Bucket.members)).map((e) => e.value.name));
  const sources = await coord.list<SourceRecord>(Bucket.sources);
  const bounds = new Map((await coord.list<BoundRecord>(Bucket.bounds)).map((e) => [e.value.sourceId, e]));
  return { members, sources, bounds };
}

/** Writes one binding by CAS (S4); returns the record, or undefined when another writer won. */
export async function writeBinding(
  coord: Coord,
  sourceId: string,
  agent: string,
  leaderTerm: number,
  cur: Entry<BoundRecord> | undefined,
): Promise<BoundRecord | undefined> {
  const rec: BoundRecord = {
    sourceId,
    agent,
    term: nextTerm(cur?.value.term),
    boundAt: new Date().toISOString(),
    leaderTerm,
  };
  const previous = cur?.value.agent !== agent ? cur?.value.agent : cur?.value.previous;
  if (previous) rec.previous = previous;
  const rev = cur
    ? await coord.update(Bucket.bounds, Keys.bound(sourceId), rec, cur.revision)
    : await coord.create(Bucket.bounds, Keys.bound(sourceId), rec);
  return rev === undefined ? undefined : rec;
}

/**
 * S3's event: a failover when the source was bound to an agent whose member key is gone (its subtasks resume on
 * `rec.agent` from their checkpoints), else a first binding (a new source, or no previous agent).
 */
function bindingEvent(coord: Coord, rec: BoundRecord, was: string | undefined): void {
  const detail = { agent: rec.agent, term: rec.term, ...(was ? { previous: was } : {}) };
  if (was && was !== rec.agent)
    eventsOf(coord).emit({
      kind: EventKind.failover,
      source: rec.sourceId,
      message: `agent ${was} is gone: source moved to ${rec.agent}`,
      detail,
    });
  else
    eventsOf(coord).emit({
      kind: EventKind.sourceBound,
      source: rec.sourceId,
      message: `bound to ${rec.agent}`,
      detail,
    });
}

export async function schedule(coord: Coord, leaderTerm: number, log: Logger): Promise<void> {
  const { members, sources, bounds } = await readView(coord);
  // S0: dm_members inconsistent (Coord.list read it from its messages then, so `members` is right): the leader
  // purges it and writes back every live member's record, so the server's per-subject index is right again.
  if (coord.needsRepair(Bucket.members)) await coord.repair(Bucket.members);
  const load = new Map<string, number>([...members].map((m) => [m, 0]));
  for (const b of bounds.values())
    if (members.has(b.value.agent)) load.set(b.value.agent, (load.get(b.value.agent) ?? 0) + 1);
  const live = new Set(sources.map((s) => s.value.sourceId));
  for (const [id, b] of bounds) {
    if (live.has(id)) continue;
    await coord.delete(Bucket.bounds, Keys.bound(id));
    log.info({ source: id, from: b.value.agent, reason: 'source removed' }, 'source unbound');
    eventsOf(coord).emit({ kind: EventKind.sourceUnbound, source: id, message: 'source removed: binding deleted' });
  }
  for (const s of sources) {
    const id = s.value.sourceId;
    const b = bounds.get(id);
    if (b && members.has(b.value.agent)) continue;
    if (members.size === 0) continue;
    const preferred = [s.value.worker, b?.value.agent, b?.value.previous].find(
      (a): a is string => a !== undefined && members.has(a),
    );
    const pick = preferred ?? [...load.entries()].sort((a, c) => a[1] - c[1] || a[0].localeCompare(c[0]))[0]![0];
    const choice =
      pick === s.value.worker
        ? 'named by operate-source -w'
        : pick === b?.value.previous
          ? 'the agent it was bound to before'
          : 'fewest sources';
    const rec = await writeBinding(coord, id, pick, leaderTerm, b);
    if (!rec) {
      log.warn({ source: id }, 'binding changed concurrently; retrying on the next tick');
      continue;
    }
    load.set(pick, (load.get(pick) ?? 0) + 1);
    bindingEvent(coord, rec, b?.value.agent);
    log.info(
      {
        source: id,
        from: b?.value.agent,
        to: pick,
        reason: b ? `agent ${b.value.agent} is gone (no member key)` : 'not bound',
        choice,
        term: rec.term,
        leaderTerm,
      },
      'source bound',
    );
  }
}

/** transfer-source (leader only): moves a source to a live agent with a new term. */
export async function transfer(
  coord: Coord,
  leaderTerm: number,
  log: Logger,
  sourceId: string,
  agent: string,
): Promise<BoundRecord> {
  const { members, sources, bounds } = await readView(coord);
  if (!sources.some((s) => s.value.sourceId === sourceId))
    throw new DmError('SourceNotFound', `source ${sourceId} does not exist`);
  if (!members.has(agent)) throw new DmError('AgentNotFound', `agent ${agent} is not a live member`);
  const cur = bounds.get(sourceId);
  if (cur?.value.agent === agent) return cur.value;
  const rec = await writeBinding(coord, sourceId, agent, leaderTerm, cur);
  if (!rec) throw new DmError('Timeout', `binding of ${sourceId} changed concurrently; retry`);
  log.info(
    { source: sourceId, from: cur?.value.agent, to: agent, reason: 'transfer-source', term: rec.term, leaderTerm },
    'source transferred',
  );
  const from = cur?.value.agent ?? 'none';
  eventsOf(coord).emit({
    kind: EventKind.sourceTransferred,
    source: sourceId,
    message: `transferred from ${from} to ${agent}`,
    detail: { to: agent, from, term: rec.term },
  });
  return rec;
}
