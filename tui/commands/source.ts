import { parseSourceConfig, sampleSourceYaml } from '../../src/config/index.ts';
import { redact } from '../../src/config/redact.ts';
import { encryptYamlPasswords, SOURCE_PASSWORD_PATHS } from '../../src/config/secret.ts';
import {
  Bucket,
  Keys,
  Op,
  Subjects,
  type BoundRecord,
  type CheckResult,
  type CheckSourceRequest,
  type SourceRecord,
  type TaskRecord,
} from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { opRequest, readConfigFile } from './shared.ts';

export const operateSource: Command = {
  name: 'operate-source',
  summary: 'create, show or stop upstream sources',
  usage: `
  Usage
    $ dmctl operate-source create SOURCE.yaml [-w AGENT]   register a source (connectivity is checked by an agent)
    $ dmctl operate-source show [SOURCE-ID]                 show sources, their binding and config (passwords masked)
    $ dmctl operate-source stop SOURCE-ID                   remove a source (no task may use it)
    $ dmctl operate-source create -p                        print a sample source.yaml

  Flags
    -w, --worker AGENT   preferred agent for the source
    -p, --print-sample   print a sample source file
`,
  flags: { worker: { type: 'string', shortFlag: 'w' }, printSample: { type: 'boolean', shortFlag: 'p' } },
  async run(ctx, args, flags) {
    const [op, arg] = args;
    if (flags.printSample) {
      ctx.print(sampleSourceYaml());
      return Exit.ok;
    }
    if (op === 'create') return create(ctx, arg, flags.worker as string | undefined);
    if (op === 'show') return show(ctx, arg);
    if (op === 'stop') return stop(ctx, arg);
    throw usageError(`operate-source needs create, show or stop (got ${op ?? 'nothing'})`);
  },
};

async function create(ctx: CommandContext, file: string | undefined, worker: string | undefined): Promise<number> {
  if (!file) throw usageError('operate-source create needs a source file');
  const text = readConfigFile(file);
  const src = parseSourceConfig(text, file);
  // NATS holds only the encrypted form of the password (the agents decrypt it with the same key file).
  const yaml = encryptYamlPasswords(text, SOURCE_PASSWORD_PATHS, ctx.secretKey());
  const coord = await ctx.coord();
  const res = await opRequest<CheckResult>(
    coord,
    Subjects.anyOp(ctx.flags.cluster, Op.checkSource),
    { yaml, file } satisfies CheckSourceRequest,
    ctx.flags.timeout,
  );
  const bad = res.items.find((i) => !i.ok);
  if (bad?.error) return ctx.failRecord(bad.error);
  const rec: SourceRecord = {
    sourceId: src.sourceId,
    yaml,
    file,
    createdAt: new Date().toISOString(),
    ...(worker ? { worker } : {}),
  };
  const rev = await coord.create(Bucket.sources, Keys.source(src.sourceId), rec);
  if (rev === undefined) throw new DmError('SourceExists', `source ${src.sourceId} already exists`);
  if (ctx.flags.json) ctx.json({ result: true, source: src.sourceId });
  else ctx.print(`source ${src.sourceId} created`);
  return Exit.ok;
}

async function show(ctx: CommandContext, id: string | undefined): Promise<number> {
  const coord = await ctx.coord();
  const sources = (await coord.list<SourceRecord>(Bucket.sources))
    .map((e) => e.value)
    .filter((s) => !id || s.sourceId === id);
  if (id && sources.length === 0) throw new DmError('SourceNotFound', `source ${id} does not exist`);
  const bounds = new Map((await coord.list<BoundRecord>(Bucket.bounds)).map((e) => [e.value.sourceId, e.value]));
  const out = sources.map((s) => ({
    sourceId: s.sourceId,
    agent: bounds.get(s.sourceId)?.agent ?? null,
    config: redact(parseSourceConfig(s.yaml, s.file)),
  }));
  if (ctx.flags.json) {
    ctx.json({ result: true, sources: out });
    return Exit.ok;
  }
  if (out.length === 0) {
    ctx.print('no sources');
    return Exit.ok;
  }
  for (const s of out)
    ctx.print(
      `${s.sourceId}  agent=${s.agent ?? '(unbound)'}  ${s.config.from.user}@${s.config.from.host}:${s.config.from.port}  relay=${s.config.enableRelay} gtid=${s.config.enableGtid}`,
    );
  return Exit.ok;
}

async function stop(ctx: CommandContext, id: string | undefined): Promise<number> {
  if (!id) throw usageError('operate-source stop needs a SOURCE-ID');
  const coord = await ctx.coord();
  if (!(await coord.get(Bucket.sources, Keys.source(id))))
    throw new DmError('SourceNotFound', `source ${id} does not exist`);
  const users = (await coord.list<TaskRecord>(Bucket.tasks))
    .map((e) => e.value)
    .filter((t) => t.stage !== 'Stopped' && t.sources.includes(id));
  if (users.length)
    throw new DmError('SourceInUse', `source ${id} is used by task(s) ${users.map((t) => t.name).join(', ')}`);
  await coord.delete(Bucket.sources, Keys.source(id));
  if (ctx.flags.json) ctx.json({ result: true, source: id });
  else ctx.print(`source ${id} stopped`);
  return Exit.ok;
}
