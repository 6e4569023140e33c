import { Bucket, Keys, type TaskRecord } from '../../src/coord/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { whoAmI } from '../../src/events/record.ts';
import { Exit, usageError, type Command } from '../context.ts';
import { limitsOf, precheck, readTask, reportJson } from './task-precheck.ts';
import { buildReport, printReport } from './task-report.ts';

export const startTask: Command = {
  name: 'start-task',
  summary: 'start a task (full dump+load and/or incremental sync, by task-mode)',
  usage: `
  Usage
    $ dmctl start-task TASK.yaml [-s SOURCE-ID ...] [--remove-meta] [--start-time TIME]

  Validates the file, runs the prechecks, then records the task as Running; the agents bound to its sources start
  it. A task stopped before resumes from its checkpoints unless --remove-meta is given. WARN lines name the DM keys
  of the file that tsdm accepts without effect (file:line key: why).

  Flags
    -s, --source SOURCE-ID   start the task on these sources only (repeatable); the others are not started and
                             query-status does not list them. Later, start-task -s OTHER adds a source to the
                             running task (the sources already running go on untouched)
    --remove-meta            drop the task's checkpoints and shard-DDL locks first (the migration starts over).
                             Once: a restart of the task later (pause/resume, an agent restart or failover) resumes
                             from the checkpoints written since
    --start-time TIME        task-mode incremental: replicate from the first binlog event at or after TIME, e.g.
                             '2021-10-21 00:01:00' or 2021-10-21T00:01:00 (the upstream's time zone), or with an
                             offset (+08:00, +0800, Z). It wins over meta and over the checkpoint; from a checkpoint
                             further on, safe mode stays on until the stream passes it again. Applied once: a
                             restart later resumes from the checkpoint. A source with its relay on: the relay is
                             searched first, then the upstream's binlog
`,
  flags: {
    removeMeta: { type: 'boolean' },
    source: { type: 'string', shortFlag: 's', isMultiple: true },
    startTime: { type: 'string' },
  },
  async run(ctx, args, flags) {
    const [file] = args;
    if (!file) throw usageError('start-task needs a task file');
    const limits = limitsOf(flags);
    // NATS holds only the encrypted form of the password (the agents decrypt it with the same key file).
    const { yaml, task, notes, time } = readTask(ctx, file, flags.startTime);
    const all = task.subtasks.map((s) => s.sourceId);
    const only = (flags.source as string[] | undefined) ?? [];
    for (const s of only)
      if (!all.includes(s))
        throw new DmError('SourceNotFound', `source ${s} is not in task ${task.name}'s mysql-instances (${file})`, {
          context: { file, key: 'mysql-instances' },
        });
    const selected = only.length ? all.filter((s) => only.includes(s)) : all;
    const coord = await ctx.coord();
    const existing = await coord.get<TaskRecord>(Bucket.tasks, Keys.task(task.name));
    const running = existing && existing.value.stage !== 'Stopped' ? existing.value : undefined;
    // DM: starting a task whose subtasks all exist is an error; one with some missing adds those (start-task -s).
    const added = running ? selected.filter((s) => !running.sources.includes(s)) : selected;
    if (running && (added.length === 0 || flags.removeMeta))
      throw new DmError(
        'TaskExists',
        `task ${task.name} already exists (stage ${running.stage}, sources ${running.sources.join(', ')})${added.length ? '; --remove-meta needs it stopped' : ''}`,
      );
    const res = await precheck(ctx, coord, yaml, file, time, flags.removeMeta === true);
    const report = buildReport(res, notes, limits);
    if (!res.ok) {
      if (ctx.flags.json)
        ctx.json({ result: false, ...reportJson(report), error: res.items.find((i) => !i.ok)?.error });
      else {
        ctx.err.write('precheck failed, task not started:\n');
        printReport(ctx.err, report, notes);
      }
      return Exit.failed;
    }
    if (flags.removeMeta) {
      // The task starts over: its shard-DDL locks describe checkpoints (holds) that are being dropped too. The task is
      // new or stopped here, so no agent is using them.
      for (const e of await coord.list<{ task?: string }>(Bucket.locks))
        if (e.value?.task === task.name) await coord.delete(Bucket.locks, e.key);
    }
    const byTime = time ? Object.fromEntries(added.map((s) => [s, time])) : undefined;
    // Incremental without meta: where each started source's upstream was at this start-task (DM's GetLatestMeta).
    const current = Object.fromEntries(
      res.items.flatMap((i) => (i.startFrom && i.source && added.includes(i.source) ? [[i.source, i.startFrom]] : [])),
    );
    const byPosition = Object.keys(current).length ? current : undefined;
    const now = new Date().toISOString();
    const stampOf = (t: Record<string, string> | undefined) =>
      Object.fromEntries(Object.keys(t ?? {}).map((s) => [s, now]));
    const generation = (existing?.value.generation ?? 0) + 1;
    const rec: TaskRecord = running
      ? {
          // Added sources: same generation, so the subtasks already running are not restarted. `removeMeta` stays the
          // running one's, for its sources only: an added source resumes from its checkpoints (no --remove-meta here).
          ...running,
          yaml,
          file,
          sources: all.filter((s) => running.sources.includes(s) || added.includes(s)),
          ...(byTime || running.startTime ? { startTime: { ...running.startTime, ...byTime } } : {}),
          ...(byTime || running.startTimeAt ? { startTimeAt: { ...running.startTimeAt, ...stampOf(byTime) } } : {}),
          ...(byPosition || running.startPosition
            ? { startPosition: { ...running.startPosition, ...byPosition } }
            : {}),
          ...(running.stage !== 'Running'
            ? { sourceStages: { ...running.sourceStages, ...Object.fromEntries(added.map((s) => [s, 'Running'])) } }
            : {}),
          updatedAt: now,
          by: whoAmI(),
        }
      : {
          name: task.name,
          yaml,
          file,
          stage: 'Running',
          sources: selected,
          generation,
          updatedAt: now,
          by: whoAmI(),
          ...(byTime ? { startTime: byTime, startTimeAt: stampOf(byTime) } : {}),
          ...(byPosition ? { startPosition: byPosition } : {}),
          // Carried out once per source by the agents (RemoveMetaRequest): the id tells this request from the next.
          ...(flags.removeMeta ? { removeMeta: { id: `g${generation} ${now}`, sources: selected } } : {}),
        };
    const ok = existing
      ? await coord.update(Bucket.tasks, Keys.task(task.name), rec, existing.revision)
      : await coord.create(Bucket.tasks, Keys.task(task.name), rec);
    if (ok === undefined) throw new DmError('TaskExists', `task ${task.name} was changed concurrently; retry`);
    if (ctx.flags.json)
      ctx.json({
        result: true,
        task: task.name,
        sources: added,
        ...reportJson(report),
        ...(time ? { startTime: time } : {}),
      });
    else {
      // The checks passed; what they warned about (a session value tsdm replaces, say) is still worth a line.
      printReport(ctx.err, { ...report, items: report.items.filter((i) => i.warning) }, notes);
      const rest = all.filter((s) => !rec.sources.includes(s));
      ctx.print(
        `task ${task.name} started on ${added.join(', ')}${time ? ` from ${time}` : ''}${rest.length ? ` (not started: ${rest.join(', ')})` : ''}`,
      );
    }
    return Exit.ok;
  },
};
