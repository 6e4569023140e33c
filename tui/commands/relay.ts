import { parseSourceConfig } from '../../src/config/index.ts';
import {
  Bucket,
  Keys,
  Op,
  Subjects,
  type BoundRecord,
  type PurgeRelayRequest,
  type PurgeRelayResult,
  type SourceRecord,
} from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { opRequest } from './shared.ts';

/**
 * Relay commands (DM: start-relay, stop-relay, pause-relay, resume-relay, purge-relay). The stage is desired state
 * in the source record (`relayStage`), reconciled by the agent the source is bound to; purge-relay is a one-off
 * request to that agent.
 */

type RelayStage = NonNullable<SourceRecord['relayStage']>;

function stageCommand(name: string, stage: RelayStage, summary: string, detail: string): Command {
  return {
    name,
    summary,
    usage: `
  Usage
    $ dmctl ${name} -s SOURCE-ID [-s SOURCE-ID ...]

  ${detail}

  Flags
    -s, --source SOURCE-ID   the source(s) whose relay to change (repeatable)
`,
    flags: { source: { type: 'string', shortFlag: 's', isMultiple: true } },
    async run(ctx, args, flags) {
      const sources = [...((flags.source as string[] | undefined) ?? []), ...args];
      if (sources.length === 0) throw usageError(`${name} needs -s SOURCE-ID`);
      for (const id of sources) await setRelayStage(ctx, id, stage);
      if (ctx.flags.json) ctx.json({ result: true, sources, relayStage: stage });
      else for (const id of sources) ctx.print(`relay of ${id}: ${stage}`);
      return Exit.ok;
    },
  };
}

async function setRelayStage(ctx: CommandContext, id: string, stage: RelayStage): Promise<void> {
  const coord = await ctx.coord();
  for (let i = 0; i < 5; i++) {
    const e = await coord.get<SourceRecord>(Bucket.sources, Keys.source(id));
    if (!e) throw new DmError('SourceNotFound', `source ${id} does not exist`);
    const rec: SourceRecord = { ...e.value, relayStage: stage, relayStageAt: new Date().toISOString() };
    if ((await coord.update(Bucket.sources, Keys.source(id), rec, e.revision)) !== undefined) return;
  }
  throw new DmError('Timeout', `source ${id} kept changing concurrently; retry`);
}

export const startRelay = stageCommand(
  'start-relay',
  'Running',
  'start the relay log of a source (also without enable-relay)',
  'The agent bound to the source pulls its binlog into the local relay (LMDB); tasks started afterwards read it.',
);
export const stopRelay = stageCommand(
  'stop-relay',
  'Stopped',
  'stop pulling the binlog into the relay (stored data stays readable)',
  'Tasks reading the relay keep reading what it holds, then wait; start-relay continues where it stopped.',
);
export const pauseRelay = stageCommand(
  'pause-relay',
  'Paused',
  'pause the relay (resume-relay continues where it stopped)',
  'The upstream binlog connection is closed; the relay position stays.',
);
export const resumeRelay = stageCommand(
  'resume-relay',
  'Running',
  'resume a paused relay (also retries a relay stopped by an error)',
  'The relay reconnects to the upstream and continues from its last complete transaction.',
);

export const purgeRelay: Command = {
  name: 'purge-relay',
  summary: 'remove relay data no task needs',
  usage: `
  Usage
    $ dmctl purge-relay -s SOURCE-ID [--filename BINLOG-FILE]

  Removes the relay records of binlog files before BINLOG-FILE (without it: every record no task needs). Refuses,
  removing nothing, when a task of the source still needs any of them (error TSDM-40005). The freed space is
  reused by the relay (the file does not shrink): query-status shows the store's size and reusable space.

  Flags
    -s, --source SOURCE-ID   the source whose relay to purge
    --filename FILE          purge records before this upstream binlog file (e.g. mysql-bin.000042)
`,
  flags: { source: { type: 'string', shortFlag: 's' }, filename: { type: 'string' } },
  async run(ctx, args, flags) {
    const id = (flags.source as string | undefined) ?? args[0];
    if (!id) throw usageError('purge-relay needs -s SOURCE-ID');
    const coord = await ctx.coord();
    const src = await coord.get<SourceRecord>(Bucket.sources, Keys.source(id));
    if (!src) throw new DmError('SourceNotFound', `source ${id} does not exist`);
    const bound = await coord.get<BoundRecord>(Bucket.bounds, Keys.bound(id));
    if (!bound) throw new DmError('NoAgent', `source ${id} is not bound to an agent`);
    const cfg = parseSourceConfig(src.value.yaml, src.value.file);
    if (!cfg.enableRelay && !src.value.relayStage)
      throw new DmError('RelayNotEnabled', `source ${id} has no relay (enable-relay is false)`);
    const filename = flags.filename as string | undefined;
    const req: PurgeRelayRequest = { source: id, ...(filename ? { filename } : {}) };
    const r = await opRequest<PurgeRelayResult>(
      coord,
      Subjects.agentOp(ctx.flags.cluster, bound.value.agent, Op.purgeRelay),
      req,
      ctx.flags.timeout,
    );
    if (ctx.flags.json) ctx.json({ result: true, ...r });
    else
      ctx.print(
        `relay of ${id}: purged ${r.purged} records; now #${r.firstSeq}..#${r.lastSeq}, file ${mb(r.size.fileBytes)}, reusable ${mb(r.size.reusableBytes)}`,
      );
    return Exit.ok;
  },
};

function mb(n: number): string {
  return `${(n / 1048576).toFixed(1)} MB`;
}
