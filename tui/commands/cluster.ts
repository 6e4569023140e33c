import {
  Bucket,
  Keys,
  Op,
  Subjects,
  type BoundRecord,
  type Coord,
  type EvictResult,
  type LeaderRecord,
  type MemberRecord,
  type OfflineMemberResult,
  type SourceRecord,
  type TransferSourceRequest,
} from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { Exit, usageError, type Command } from '../context.ts';
import { opRequest } from './shared.ts';

/** The current leader's name, or NoLeader. Leader ops go to the leader's own subject (agent/cluster/ops.ts). */
async function leaderName(coord: Coord): Promise<string> {
  const l = await coord.get<LeaderRecord>(Bucket.leader, Keys.leader);
  if (!l) throw new DmError('NoLeader', 'no agent leads the cluster right now');
  return l.value.name;
}

async function liveMembers(coord: Coord): Promise<MemberRecord[]> {
  return (await coord.list<MemberRecord>(Bucket.members)).map((e) => e.value);
}

export type MemberRow = MemberRecord & { leader: boolean; sources: string[] };

/**
 * One row per agent name, sorted (the freshest heartbeat wins when a listing named an agent twice; Coord.list drops
 * repeated keys, this also covers two records of one name), with its leadership and bound sources.
 */
export function memberRows(
  members: MemberRecord[],
  leader: LeaderRecord | undefined,
  bounds: BoundRecord[],
): MemberRow[] {
  const byName = new Map<string, MemberRecord>();
  for (const m of members) {
    const seen = byName.get(m.name);
    if (!seen || m.heartbeat > seen.heartbeat) byName.set(m.name, m);
  }
  return [...byName.values()]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((m) => ({
      ...m,
      leader: leader?.name === m.name,
      sources: [...new Set(bounds.filter((b) => b.agent === m.name).map((b) => b.sourceId))].sort(),
    }));
}

export const transferSource: Command = {
  name: 'transfer-source',
  summary: 'bind a source to another agent (its subtasks move there and resume from their checkpoints)',
  usage: `
  Usage
    $ dmctl transfer-source SOURCE-ID AGENT

  The leader rebinds the source with a new term; the old agent stops its subtasks, the new one claims the source
  in the downstream (fencing) and resumes every subtask from its checkpoint.
  With --json: {"result":true,"bound":{"sourceId","agent","term","boundAt","previous"}}.
`,
  async run(ctx, args) {
    const [source, agent] = args;
    if (!source || !agent) throw usageError('transfer-source needs SOURCE-ID and AGENT');
    const coord = await ctx.coord();
    const leader = await leaderName(coord);
    const rec = await opRequest<BoundRecord>(
      coord,
      Subjects.agentOp(ctx.flags.cluster, leader, Op.transferSource),
      { source, agent } satisfies TransferSourceRequest,
      ctx.flags.timeout,
    );
    if (ctx.flags.json) ctx.json({ result: true, bound: rec });
    else
      ctx.print(
        `source ${rec.sourceId} bound to ${rec.agent} (term ${rec.term}${rec.previous ? `, was ${rec.previous}` : ''})`,
      );
    return Exit.ok;
  },
};

export const listMember: Command = {
  name: 'list-member',
  summary: 'list agents, the leader, and source bindings',
  usage: `
  Usage
    $ dmctl list-member [--leader | --worker] [--json]

  Every agent is both a candidate leader (DM's master) and a worker. --leader shows the leader only, --worker the
  agents with their bound sources. With --json: {"result":true,"leader":{"name","term","since"}|null,
  "members":[{"name","host","pid","version","started","heartbeat","leader","sources":[…],"kv"?}]} (only the part
  asked for). "kv" appears once an agent met an inconsistent NATS KV store (nats-server 2.9 after an outage):
  {"anomalies","repairs","last":{"kind","bucket","key","at"}}; the text output then says "kv-inconsistencies N".

  Flags
    --leader   only the leader
    --worker   only the agents and their sources
`,
  flags: { leader: { type: 'boolean' }, worker: { type: 'boolean' } },
  async run(ctx, _args, flags) {
    const coord = await ctx.coord();
    const members = await liveMembers(coord);
    const leader = (await coord.get<LeaderRecord>(Bucket.leader, Keys.leader))?.value;
    const bounds = (await coord.list<BoundRecord>(Bucket.bounds)).map((e) => e.value);
    const agents = memberRows(members, leader, bounds);
    const onlyLeader = flags.leader === true && flags.worker !== true;
    const onlyWorker = flags.worker === true && flags.leader !== true;
    if (ctx.flags.json) {
      ctx.json({
        result: true,
        ...(onlyWorker ? {} : { leader: leader ?? null }),
        ...(onlyLeader ? {} : { members: agents }),
      });
      return Exit.ok;
    }
    if (!onlyWorker)
      ctx.print(leader ? `leader ${leader.name}  term ${leader.term}  since ${leader.since}` : 'leader: none');
    if (onlyLeader) return Exit.ok;
    if (agents.length === 0) {
      ctx.print('no agents');
      return Exit.ok;
    }
    for (const a of agents)
      ctx.print(
        `${a.name}${a.leader ? ' [leader]' : ''}  host ${a.host}  pid ${a.pid}  version ${a.version}  heartbeat ${a.heartbeat}  sources ${a.sources.join(',') || '-'}${kvText(a)}`,
      );
    return Exit.ok;
  },
};

/** ` kv-inconsistencies N (last KIND BUCKET/KEY AT)` for an agent that met an inconsistent KV store. */
export function kvText(m: MemberRecord): string {
  if (!m.kv) return '';
  const l = m.kv.last;
  const last = l ? ` (last ${l.kind} ${l.bucket}${l.key ? `/${l.key}` : ''} at ${l.at})` : '';
  return `  kv-inconsistencies ${m.kv.anomalies}${last}  kv-repairs ${m.kv.repairs}`;
}

export const offlineMember: Command = {
  name: 'offline-member',
  summary: 'forget an agent that is gone for good (its sources are rebound at once)',
  usage: `
  Usage
    $ dmctl offline-member --name AGENT

  Only for an agent that is not alive (its member key expired, e.g. the host is lost): the leader deletes its
  bindings and binds those sources to live agents now. A live agent is refused (exit 1): stop it first.
  With --json: {"result":true,"name":"…","rebound":["source-id",…]}.

  Flags
    --name AGENT   the agent to offline
`,
  flags: { name: { type: 'string' } },
  async run(ctx, _args, flags) {
    const name = flags.name as string | undefined;
    if (!name) throw usageError('offline-member needs --name AGENT');
    const coord = await ctx.coord();
    if ((await liveMembers(coord)).some((m) => m.name === name))
      throw new DmError('MemberAlive', `agent ${name} is alive`);
    const res = await opRequest<OfflineMemberResult>(
      coord,
      Subjects.agentOp(ctx.flags.cluster, await leaderName(coord), Op.offlineMember),
      { name },
      ctx.flags.timeout,
    );
    if (ctx.flags.json) ctx.json({ result: true, ...res });
    else ctx.print(`agent ${name} offlined${res.rebound.length ? `; sources rebound: ${res.rebound.join(', ')}` : ''}`);
    return Exit.ok;
  },
};

export const operateLeader: Command = {
  name: 'operate-leader',
  summary: 'evict the leader (it stops taking part in elections) or cancel that',
  usage: `
  Usage
    $ dmctl operate-leader evict [--name AGENT]
    $ dmctl operate-leader cancel-evict [--name AGENT]

  evict: the agent (default: the current leader) resigns and no longer campaigns, so another agent leads within
  one election tick. cancel-evict: the agent (default: every live agent) campaigns again. As in DM the eviction is
  kept in the agent's memory: a restarted agent campaigns again.
  With --json: {"result":true,"agents":[{"name","evicted","wasLeader"}]}.

  Flags
    --name AGENT   the agent to evict or un-evict
`,
  flags: { name: { type: 'string' } },
  async run(ctx, args, flags) {
    const [op] = args;
    if (op !== 'evict' && op !== 'cancel-evict')
      throw usageError(`operate-leader needs evict or cancel-evict (got ${op ?? 'nothing'})`);
    const coord = await ctx.coord();
    let names: string[];
    const members = await liveMembers(coord);
    if (typeof flags.name === 'string') {
      if (!members.some((m) => m.name === flags.name))
        throw new DmError('AgentNotFound', `agent ${flags.name} is not a live member`);
      names = [flags.name];
    } else names = op === 'evict' ? [await leaderName(coord)] : members.map((m) => m.name);
    const subject = op === 'evict' ? Op.evictLeader : Op.cancelEvict;
    const out: EvictResult[] = [];
    for (const n of names)
      out.push(
        await opRequest<EvictResult>(coord, Subjects.agentOp(ctx.flags.cluster, n, subject), {}, ctx.flags.timeout),
      );
    if (ctx.flags.json) ctx.json({ result: true, agents: out });
    else
      for (const r of out)
        ctx.print(
          `${r.name}: ${r.evicted ? 'evicted from leadership' : 'takes part in elections'}${r.wasLeader && r.evicted ? ' (was the leader)' : ''}`,
        );
    return Exit.ok;
  },
};

/** Sources known to the cluster, for commands that name one. */
export async function sourceRecord(coord: Coord, id: string): Promise<SourceRecord> {
  const e = await coord.get<SourceRecord>(Bucket.sources, Keys.source(id));
  if (!e) throw new DmError('SourceNotFound', `source ${id} does not exist`);
  return e.value;
}
