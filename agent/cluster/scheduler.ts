import { Bucket, Keys, type BoundRecord, type Coord, type MemberRecord, type SourceRecord } from '../../src/coord/index.ts';
import type { Logger } from '../log.ts';

/**
 * Source scheduling, run by the leader on every election tick. For each source in dm_sources:
 *  - bound to a live agent (its dm_members key exists): keep it;
 *  - unbound, or bound to an agent whose member key expired: bind it to the preferred agent (operate-source -w)
 *    if live, else the previous agent if live, else the live agent with the fewest sources; write dm_bounds with
 *    the leader's term;
 * and delete bindings of sources that no longer exist. The bound agent watches dm_bounds and starts or stops its
 * subtasks accordingly.
 */
export async function schedule(coord: Coord, term: number, log: Logger): Promise<void> {
  const members = new Set((await coord.list<MemberRecord>(Bucket.members)).map((e) => e.value.name));
  const sources = await coord.list<SourceRecord>(Bucket.sources);
  const bounds = new Map((await coord.list<BoundRecord>(Bucket.bounds)).map((e) => [e.value.sourceId, e.value]));
  const load = new Map<string, number>([...members].map((m) => [m, 0]));
  for (const b of bounds.values()) if (members.has(b.agent)) load.set(b.agent, (load.get(b.agent) ?? 0) + 1);
  const live = new Set(sources.map((s) => s.value.sourceId));
  for (const [id] of bounds) {
    if (!live.has(id)) await coord.delete(Bucket.bounds, Keys.bound(id));
  }
  for (const s of sources) {
    const id = s.value.sourceId;
    const b = bounds.get(id);
    if (b && members.has(b.agent)) continue;
    if (members.size === 0) continue;
    const pick = (s.value.worker && members.has(s.value.worker)) ? s.value.worker
      : [...load.entries()].sort((a, c) => a[1] - c[1] || a[0].localeCompare(c[0]))[0]![0];
    const rec: BoundRecord = { sourceId: id, agent: pick, term, boundAt: new Date().toISOString() };
    await coord.put(Bucket.bounds, Keys.bound(id), rec);
    load.set(pick, (load.get(pick) ?? 0) + 1);
    log.info({ source: id, agent: pick, previous: b?.agent, term }, 'source bound');
  }
}
