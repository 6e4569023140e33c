import { parseSourceConfig, parseTaskConfig } from '../src/config/index.ts';
import type { CheckItem, CheckResult, CheckSourceRequest, CheckTaskRequest } from '../src/coord/index.ts';
import { asDmError, DmError } from '../src/errors/index.ts';
import { connect } from './db/mysql.ts';
import { taskZone } from './db/timezone.ts';
import { buildRules } from './rules.ts';
import { checkUpstream } from './check/check.ts';
import { checkExtendedColumns } from './check/check-extend.ts';
import { checkShards } from './shard/precheck.ts';
import { checkConnections } from './check/check-connections.ts';
import { checkMetaPosition, checkStartTime } from './check/check-meta.ts';
import { checkRouteCollisions } from './check/check-routes.ts';
import type { DbConfig, SourceConfig } from '../src/config/types.ts';
import { tlsOptOutWarning } from './db/tls.ts';
import { formatOverride, planSession, type SessionSide } from '../src/sql/session-vars.ts';

/**
 * Handlers of the request/reply operations any agent serves (dmctl cannot open database connections itself:
 * the console never imports mysql2, and only agents can reach the databases from where they run).
 */

export async function checkSource(req: CheckSourceRequest): Promise<CheckResult> {
  const src = parseSourceConfig(req.yaml, req.file);
  const items: CheckItem[] = [];
  try {
    const c = await connect(src.from, 'upstream');
    c.destroy();
    items.push({ name: 'upstream connection', source: src.sourceId, ok: true });
  } catch (err) {
    items.push({ name: 'upstream connection', source: src.sourceId, ok: false, error: asDmError(err).toRecord() });
  }
  return { ok: items.every((i) => i.ok), items };
}

export async function checkTask(req: CheckTaskRequest): Promise<CheckResult> {
  const task = parseTaskConfig(req.yaml, req.file, req.startTime !== undefined ? { startTime: true } : {});
  const items: CheckItem[] = [];
  const run = async (name: string, source: string | undefined, fn: () => Promise<void>) => {
    try {
      await fn();
      items.push({ name, ...(source ? { source } : {}), ok: true });
    } catch (err) {
      items.push({ name, ...(source ? { source } : {}), ok: false, error: asDmError(err).toRecord() });
    }
  };
  await run('task timezone', undefined, async () => {
    taskZone(task);
  });
  items.push(...sessionWarnings('downstream', task.targetDatabase, undefined, () => taskZone(task).session));
  items.push(...tlsWarnings('downstream', task.targetDatabase, undefined));
  await run('downstream connection', undefined, async () => {
    (await connect(task.targetDatabase, 'downstream')).destroy();
  });
  const srcs: Record<string, SourceConfig> = {};
  for (const spec of task.subtasks) {
    const s = req.sources[spec.sourceId];
    if (!s) {
      items.push({
        name: 'source exists',
        source: spec.sourceId,
        ok: false,
        error: new DmError('SourceNotFound', `source ${spec.sourceId} does not exist`).toRecord(),
      });
      continue;
    }
    const src = parseSourceConfig(s.yaml, s.file);
    srcs[spec.sourceId] = src;
    items.push(...sessionWarnings('upstream', src.from, spec.sourceId, () => '+00:00'));
    items.push(...tlsWarnings('upstream', src.from, spec.sourceId));
    await run(
      task.taskMode === 'full' ? 'upstream dump privileges' : 'upstream binlog and privileges',
      spec.sourceId,
      async () => {
        const c = await connect(src.from, 'upstream');
        try {
          await checkUpstream(c, task.taskMode);
        } finally {
          c.destroy();
        }
      },
    );
    if (spec.routes.some((r) => r.extractTable || r.extractSchema || r.extractSource)) {
      await run('downstream tables have the extended columns', spec.sourceId, async () => {
        const up = await connect(src.from, 'upstream');
        try {
          const down = await connect(task.targetDatabase, 'downstream');
          try {
            await checkExtendedColumns(up, down, buildRules(task, spec));
          } finally {
            down.destroy();
          }
        } finally {
          up.destroy();
        }
      });
    }
    // With --start-time, meta is not used (DM): the time must have a position instead.
    const meta = req.startTime
      ? await checkStartTime(task, spec, src, req.startTime, relayOn(src, req.sources[spec.sourceId]?.relayStage))
      : await checkMetaPosition(task, spec, src, req.removeMeta === true);
    if (meta) items.push(meta);
  }
  // What the task opens against each server's max_connections (an unreachable server: a "not checked" warning).
  items.push(...(await checkConnections(task, srcs)));
  if (task.shardMode && items.every((i) => i.ok)) {
    try {
      items.push(...(await checkShards(task, srcs)));
    } catch (err) {
      items.push({ name: 'shard tables', ok: false, error: asDmError(err).toRecord() });
    }
  } else if (items.every((i) => i.ok)) {
    try {
      items.push(...(await checkRouteCollisions(task, srcs)));
    } catch (err) {
      items.push({ name: 'tables routed to one target', ok: false, error: asDmError(err).toRecord() });
    }
  }
  return { ok: items.every((i) => i.ok), items };
}

/** The source's relay runs or will (the agent's wantedRelays: the record's stage, else enable-relay). */
function relayOn(src: SourceConfig, stage: string | undefined): boolean {
  return (stage ?? (src.enableRelay ? 'Running' : 'Stopped')) !== 'Stopped';
}

/** A WARN item when a security block turns off the check of the server's name (ssl-verify-server-cert: false). */
function tlsWarnings(side: SessionSide, db: DbConfig, source: string | undefined): CheckItem[] {
  const w = tlsOptOutWarning(db.security, db.host, side);
  return w ? [{ name: 'tls server name', ...(source ? { source } : {}), ok: true, warning: w }] : [];
}

/** The user's session values tsdm replaces on its data connections, one WARN item each (never a failure). */
function sessionWarnings(side: SessionSide, db: DbConfig, source: string | undefined, zone: () => string): CheckItem[] {
  let timeZone: string;
  try {
    timeZone = zone();
  } catch {
    return [];
  } // an unusable task timezone is its own failed check
  const plan = planSession(side, db.session, {
    timeZone,
    keyPrefix: `${side === 'upstream' ? 'from' : 'target-database'}.session`,
  });
  return plan.overrides.map((o) => ({
    name: 'session variable',
    ...(source ? { source } : {}),
    ok: true,
    warning: formatOverride(o, db.sessionOrigin?.file),
  }));
}
