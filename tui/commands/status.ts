import { Bucket, Keys, readStatus, type BoundRecord, type LeaderRecord, type MemberRecord, type TaskView } from '../../src/coord/index.ts';
import { formatRecord } from '../../src/errors/index.ts';
import { Exit, type Command } from '../context.ts';

function pct(a: number, b: number): string { return b > 0 ? `${Math.min(100, (100 * a) / b).toFixed(1)}%` : '-'; }
function pos(p?: { name: string; pos: number }): string { return p ? `${p.name}:${p.pos}` : '-'; }

export function renderStatus(views: TaskView[]): string {
  if (views.length === 0) return 'no tasks';
  const lines: string[] = [];
  for (const v of views) {
    lines.push(`task ${v.name}  (desired ${v.desiredStage})`);
    for (const s of v.sources) {
      lines.push(`  source ${s.source}  stage ${s.stage}  unit ${s.unit}  agent ${s.agent || '-'}${s.agent && !s.agentAlive ? ' (offline)' : ''}`);
      if (s.load) lines.push(`    load: chunks ${s.load.doneChunks}/${s.load.totalChunks}  rows ${s.load.doneRows}/${s.load.totalRows} (${pct(s.load.doneRows, s.load.totalRows)})  tables ${s.load.tables}`);
      if (s.sync) lines.push(`    sync: synced ${pos(s.sync.synced)}  master ${pos(s.sync.master)}  lag ${s.sync.lagSeconds}s  ${s.sync.rowsPerSecond} rows/s  total ${s.sync.totalRows} rows${s.sync.caughtUp ? '  [synced]' : ''}${s.sync.safeMode ? '  [safe mode]' : ''}`);
      if (s.error) lines.push('    error: ' + formatRecord(s.error).split('\n').join('\n    '));
    }
  }
  return lines.join('\n');
}

export const queryStatus: Command = {
  name: 'query-status',
  summary: 'show tasks: stage, unit, progress, positions, lag, errors',
  usage: `
  Usage
    $ dmctl query-status [TASK-NAME] [--json]

  Reads only from the cluster's KV buckets. With --json prints one document: {"result":true,"tasks":[...]}.
`,
  async run(ctx, args) {
    const views = await readStatus(await ctx.coord(), args[0]);
    if (ctx.flags.json) ctx.json({ result: true, tasks: views });
    else ctx.print(renderStatus(views));
    return Exit.ok;
  },
};

export const listMember: Command = {
  name: 'list-member',
  summary: 'list agents, the leader, and source bindings',
  usage: `
  Usage
    $ dmctl list-member [--json]
`,
  async run(ctx) {
    const coord = await ctx.coord();
    const members = (await coord.list<MemberRecord>(Bucket.members)).map((e) => e.value);
    const leader = (await coord.get<LeaderRecord>(Bucket.leader, Keys.leader))?.value;
    const bounds = (await coord.list<BoundRecord>(Bucket.bounds)).map((e) => e.value);
    const agents = members.map((m) => ({ ...m, leader: leader?.name === m.name, sources: bounds.filter((b) => b.agent === m.name).map((b) => b.sourceId) }));
    if (ctx.flags.json) { ctx.json({ result: true, leader: leader ?? null, members: agents }); return Exit.ok; }
    if (agents.length === 0) { ctx.print('no agents'); return Exit.ok; }
    for (const a of agents) ctx.print(`${a.name}${a.leader ? ' [leader]' : ''}  host ${a.host}  pid ${a.pid}  version ${a.version}  heartbeat ${a.heartbeat}  sources ${a.sources.join(',') || '-'}`);
    return Exit.ok;
  },
};
