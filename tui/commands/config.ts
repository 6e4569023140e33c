import { readdirSync, existsSync } from 'node:fs';
import { mkdirPrivate, writePrivateFile } from '../../src/fs/private.ts';
import { join } from 'node:path';
import { parseSourceConfig, parseTaskConfig } from '../../src/config/index.ts';
import {
  encryptPassword,
  encryptYamlPasswords,
  redactYamlPasswords,
  SOURCE_PASSWORD_PATHS,
  TASK_PASSWORD_PATHS,
} from '../../src/config/secret.ts';
import { Bucket, Keys, type DesiredStage, type SourceRecord, type TaskRecord } from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { Exit, usageError, type Command, type CommandContext } from '../context.ts';
import { readConfigFile } from './shared.ts';
import { sourceRecord } from './cluster.ts';

/** What `config export` writes beside the files: which agent each source prefers and each task's desired stage. */
interface ClusterManifest {
  sources: { sourceId: string; worker?: string }[];
  tasks: { name: string; stage: DesiredStage; sourceStages?: Record<string, DesiredStage> }[];
}

export const config: Command = {
  name: 'config',
  summary: 'print a stored task or source file (passwords redacted), or export/import all of them',
  usage: `
  Usage
    $ dmctl config task TASK-NAME          the task file as stored (passwords shown as ******)
    $ dmctl config source SOURCE-ID        the source file as stored (passwords shown as ******)
    $ dmctl config export -d DIR           write DIR/sources/*.yaml, DIR/tasks/*.yaml and DIR/cluster.json
    $ dmctl config import -d DIR           create the sources and tasks found in DIR (existing ones are kept)

  Exported files hold passwords in encrypted form only (the same key file is needed to use them); they are written
  readable by their owner only (files 0600, directories 0700). An imported task
  gets the desired stage recorded in cluster.json (Running when absent).
  With --json: print {"result":true,"kind","name","yaml"}; export/import {"result":true,"sources":[…],"tasks":[…],"skipped":[…]}.

  Flags
    -d, --dir DIR   directory for export/import
`,
  flags: { dir: { type: 'string', shortFlag: 'd' } },
  async run(ctx, args, flags) {
    const [what, name] = args;
    const dir = flags.dir as string | undefined;
    if (what === 'task' || what === 'source') {
      if (!name) throw usageError(`config ${what} needs a ${what === 'task' ? 'TASK-NAME' : 'SOURCE-ID'}`);
      return print(ctx, what, name);
    }
    if (what === 'export' || what === 'import') {
      if (!dir) throw usageError(`config ${what} needs -d DIR`);
      return what === 'export' ? exportAll(ctx, dir) : importAll(ctx, dir);
    }
    throw usageError(`config needs task, source, export or import (got ${what ?? 'nothing'})`);
  },
};

async function print(ctx: CommandContext, kind: 'task' | 'source', name: string): Promise<number> {
  const coord = await ctx.coord();
  let yaml: string;
  if (kind === 'source') yaml = redactYamlPasswords((await sourceRecord(coord, name)).yaml, SOURCE_PASSWORD_PATHS);
  else {
    const e = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(name));
    if (!e) throw new DmError('TaskNotFound', `task ${name} does not exist`);
    yaml = redactYamlPasswords(e.value.yaml, TASK_PASSWORD_PATHS);
  }
  if (ctx.flags.json) ctx.json({ result: true, kind, name, yaml });
  else ctx.print(yaml);
  return Exit.ok;
}

/** File names from ids users chose: the KV key escaping keeps them safe as file names too. */
const fileFor = (id: string) => `${Keys.source(id)}.yaml`;

async function exportAll(ctx: CommandContext, dir: string): Promise<number> {
  const coord = await ctx.coord();
  const sources = (await coord.list<SourceRecord>(Bucket.sources)).map((e) => e.value);
  const tasks = (await coord.list<TaskRecord>(Bucket.tasks)).map((e) => e.value);
  // Owner-only (0700 dirs, 0600 files): the passwords in them are only as safe as the key, maybe the built-in one.
  mkdirPrivate(dir);
  mkdirPrivate(join(dir, 'sources'), true);
  mkdirPrivate(join(dir, 'tasks'), true);
  const key = ctx.secretKey();
  // Stored files already hold encrypted passwords; encrypting again is a no-op then, and covers older records.
  for (const s of sources)
    writePrivateFile(
      join(dir, 'sources', fileFor(s.sourceId)),
      encryptYamlPasswords(s.yaml, SOURCE_PASSWORD_PATHS, key),
    );
  for (const t of tasks)
    writePrivateFile(join(dir, 'tasks', fileFor(t.name)), encryptYamlPasswords(t.yaml, TASK_PASSWORD_PATHS, key));
  const manifest: ClusterManifest = {
    sources: sources.map((s) => ({ sourceId: s.sourceId, ...(s.worker ? { worker: s.worker } : {}) })),
    tasks: tasks.map((t) => ({
      name: t.name,
      stage: t.stage,
      ...(t.sourceStages ? { sourceStages: t.sourceStages } : {}),
    })),
  };
  writePrivateFile(join(dir, 'cluster.json'), JSON.stringify(manifest, null, 2) + '\n');
  const doc = {
    result: true,
    sources: sources.map((s) => s.sourceId),
    tasks: tasks.map((t) => t.name),
    skipped: [] as string[],
  };
  if (ctx.flags.json) ctx.json(doc);
  else ctx.print(`exported ${doc.sources.length} source(s) and ${doc.tasks.length} task(s) to ${dir}`);
  return Exit.ok;
}

async function importAll(ctx: CommandContext, dir: string): Promise<number> {
  if (!existsSync(join(dir, 'sources')) && !existsSync(join(dir, 'tasks'))) {
    throw new DmError(
      'ConfigFileRead',
      `${dir} holds neither sources/ nor tasks/ (write it with dmctl config export -d ${dir})`,
      { context: { file: dir } },
    );
  }
  let manifest: ClusterManifest = { sources: [], tasks: [] };
  if (existsSync(join(dir, 'cluster.json'))) {
    try {
      manifest = JSON.parse(readConfigFile(join(dir, 'cluster.json'))) as ClusterManifest;
    } catch (err) {
      throw new DmError('ConfigInvalid', `${join(dir, 'cluster.json')} is not valid JSON`, {
        cause: err,
        context: { file: join(dir, 'cluster.json') },
      });
    }
  }
  const list = (sub: string) =>
    existsSync(join(dir, sub))
      ? readdirSync(join(dir, sub))
          .filter((f) => /\.ya?ml$/.test(f))
          .sort()
          .map((f) => join(dir, sub, f))
      : [];
  const key = ctx.secretKey();
  // Validate everything before writing anything.
  const srcs = list('sources').map((file) => {
    const text = readConfigFile(file);
    return { file, text, cfg: parseSourceConfig(text, file) };
  });
  const tasks = list('tasks').map((file) => {
    const text = readConfigFile(file);
    return { file, text, cfg: parseTaskConfig(text, file) };
  });
  const coord = await ctx.coord();
  const doc = { result: true, sources: [] as string[], tasks: [] as string[], skipped: [] as string[] };
  for (const s of srcs) {
    const worker = manifest.sources.find((m) => m.sourceId === s.cfg.sourceId)?.worker;
    const rec: SourceRecord = {
      sourceId: s.cfg.sourceId,
      yaml: encryptYamlPasswords(s.text, SOURCE_PASSWORD_PATHS, key),
      file: s.file,
      createdAt: new Date().toISOString(),
      ...(worker ? { worker } : {}),
    };
    if ((await coord.create(Bucket.sources, Keys.source(rec.sourceId), rec)) === undefined)
      doc.skipped.push(`source ${rec.sourceId}`);
    else doc.sources.push(rec.sourceId);
  }
  for (const t of tasks) {
    const m = manifest.tasks.find((x) => x.name === t.cfg.name);
    for (const st of t.cfg.subtasks) {
      if (!(await coord.get(Bucket.sources, Keys.source(st.sourceId))))
        throw new DmError('SourceNotFound', `task ${t.cfg.name} uses source ${st.sourceId}, which does not exist`, {
          context: { file: t.file },
        });
    }
    const rec: TaskRecord = {
      name: t.cfg.name,
      yaml: encryptYamlPasswords(t.text, TASK_PASSWORD_PATHS, key),
      file: t.file,
      stage: m?.stage ?? 'Running',
      sources: t.cfg.subtasks.map((x) => x.sourceId),
      generation: 1,
      updatedAt: new Date().toISOString(),
      ...(m?.sourceStages ? { sourceStages: m.sourceStages } : {}),
    };
    if ((await coord.create(Bucket.tasks, Keys.task(rec.name), rec)) === undefined)
      doc.skipped.push(`task ${rec.name}`);
    else doc.tasks.push(rec.name);
  }
  if (ctx.flags.json) ctx.json(doc);
  else
    ctx.print(
      `imported ${doc.sources.length} source(s) and ${doc.tasks.length} task(s)${doc.skipped.length ? `; kept existing: ${doc.skipped.join(', ')}` : ''}`,
    );
  return Exit.ok;
}

export const encrypt: Command = {
  name: 'encrypt',
  summary: 'encrypt a password for source/task files (AES-256-GCM with the key file)',
  usage: `
  Usage
    $ dmctl encrypt PASSWORD [--secret-key-path FILE]

  Prints the ciphertext (base64), to write in place of a plain password (from.password, target-database.password).
  The agents decrypt it with the same key file (dm-agent --secret-key-path); without a key file a built-in key is
  used, which anyone can compute from tsdm's source, and a WARNING says so (with --json: a "warnings" list).
  Make a key with: openssl rand -hex 32 > /etc/tsdm/secret.key. The key is never sent to NATS; this command needs
  no cluster. With --json: {"result":true,"ciphertext":"…"}.
`,
  async run(ctx, args) {
    const [plain] = args;
    if (plain === undefined || plain === '') throw usageError('encrypt needs the PASSWORD to encrypt');
    const c = encryptPassword(plain, ctx.secretKey());
    if (ctx.flags.json) ctx.json({ result: true, ciphertext: c });
    else ctx.print(c);
    return Exit.ok;
  },
};
