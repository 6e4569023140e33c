import { checkLine, Keys, LEASE_TTL_MS, validationLine, type SyncTableProgress } from '../../src/coord/index.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import { showPos as position } from '../../src/binlog/position.ts';
import { percentText as percent } from '../../src/coord/status-derive.ts';
import { ago, count, duration, exact, oneLine, truncate, wrap } from './format.ts';
import { liveness, type DashboardState } from './read-model.ts';
import { agentRows, errorRows, eventRows, lockRows, taskRows } from './selectors.ts';
import { eventSubject } from '../../src/events/format.ts';
import type { ViewName } from './ui-state.ts';
import { bytes as mb, relayBehind, relayStage } from './columns.ts';

/**
 * Detail views are lists of lines (already cut or wrapped to the width) so that they scroll the same way at any
 * terminal size. One builder per view; each says plainly when its subject no longer exists.
 */

export interface Line {
  text: string;
  bold?: boolean;
  color?: string;
}
export interface Detail {
  title: string;
  lines: Line[];
}

const INDENT = '  ';

function field(label: string, value: string, w: number): Line[] {
  const head = `${INDENT}${label.padEnd(11)}`;
  const body = wrap(value, Math.max(10, w - head.length));
  return body.map((t, i) => ({ text: (i === 0 ? head : ' '.repeat(head.length)) + t }));
}

function errorLines(rec: ErrorRecord, w: number, now: number): Line[] {
  const c = rec.context ?? {};
  const out: Line[] = [
    ...field(
      'code',
      `${rec.code} (${rec.class}, ${rec.retryable ? 'retryable: tsdm retries it' : 'not retryable: the subtask stays paused'})`,
      w,
    ),
    ...field('message', rec.message, w),
  ];
  if (rec.time) out.push(...field('when', `${rec.time} (${ago(Date.parse(rec.time), now)})`, w));
  const where = [
    c.task && `task ${c.task}`,
    c.source && `source ${c.source}`,
    c.table && `table ${c.table}`,
    c.position && `at ${c.position}`,
    c.file && `${c.file}${c.line ? `:${c.line}` : ''}`,
    c.key && `key ${c.key}`,
    c.errno !== undefined && `errno ${c.errno}`,
  ]
    .filter(Boolean)
    .join(', ');
  if (where) out.push(...field('where', where, w));
  if (c.sql) out.push(...field('statement', c.sql, w));
  if (rec.cause) out.push(...field('cause', rec.cause, w));
  out.push(...field('suggestion', rec.suggestion, w));
  return out;
}

export function taskDetail(s: DashboardState, key: string, w: number): Detail {
  const row = taskRows(s).find((r) => r.key === key);
  if (!row) return { title: 'Task', lines: [{ text: 'This subtask no longer exists (its task was removed).' }] };
  const task = s.tasks[Keys.task(row.task)];
  const st = row.status;
  const lines: Line[] = [];
  const stageText =
    row.stage === 'Paused' && st?.error && row.desired === 'Running'
      ? 'Paused by the error below (r retries it)'
      : `${row.stage}${row.desired !== row.stage ? ` (desired ${row.desired})` : ''}`;
  lines.push(...field('stage', stageText, w));
  lines.push(...field('unit', row.unit, w));
  lines.push(...field('agent', row.agent ? `${row.agent} (${row.agentState})` : 'not bound to an agent yet', w));
  if (task) {
    const others = task.sources.filter((x) => x !== row.source);
    lines.push(
      ...field(
        'task',
        `desired ${task.stage}, generation ${task.generation}, ${task.sources.length} source(s)${others.length ? `; also ${others.join(', ')}` : ''}`,
        w,
      ),
    );
  }
  if (st?.error) {
    lines.push({ text: '' }, { text: 'Error (the subtask is paused on it)', bold: true, color: 'red' });
    lines.push(...errorLines(st.error, w, s.now));
    if (st.error.context?.position)
      lines.push(
        { text: '' },
        ...field(
          'resolve',
          `x skips this event after y (dmctl binlog skip ${row.task} -s ${row.source}); r retries it; dmctl binlog replace runs other SQL instead`,
          w,
        ),
      );
  }
  const check = s.checks[row.task];
  if (check) {
    lines.push({ text: '' }, { text: 'Data check (dmctl check-data)', bold: true });
    lines.push(...field('check', checkLine(check), w));
  }
  if (st?.load) {
    const l = st.load;
    const per = l.perTable ?? [];
    const loading = st.unit === 'load' || st.unit === 'dump';
    const tablesDone = per.filter((t) => t.totalChunks > 0 && t.doneChunks >= t.totalChunks).length;
    lines.push(
      { text: '' },
      {
        text: loading ? `Load (${row.stage === 'Running' ? 'running' : row.stage.toLowerCase()})` : 'Load (done)',
        bold: true,
      },
    );
    lines.push(
      ...field('rows', `${exact(l.doneRows)} of ${exact(l.totalRows)} (${percent(l.doneRows, l.totalRows)})`, w),
    );
    lines.push(...field('chunks', `${l.doneChunks} of ${l.totalChunks} (${percent(l.doneChunks, l.totalChunks)})`, w));
    // The per-table list is complete (so it counts finished tables) when it holds every table.
    lines.push(...field('tables', per.length >= l.tables ? `${tablesDone} of ${l.tables} done` : String(l.tables), w));
    if (loading) {
      lines.push(...field('rate', row.rowsPerSecond === undefined ? '-' : `${count(row.rowsPerSecond)} rows/s`, w));
      lines.push(...field('ETA', row.etaSeconds !== undefined ? duration(row.etaSeconds) : '-', w));
    }
    if (per.length) {
      lines.push(
        { text: '' },
        {
          text: `Load per table (${per.length}${l.tables > per.length ? ` of ${l.tables}` : ''}, unfinished first)`,
          bold: true,
        },
      );
      for (const t of per)
        lines.push({
          text: truncate(
            `${INDENT}${t.doneChunks === t.totalChunks ? 'done ' : 'load '} ${t.table}  chunks ${t.doneChunks}/${t.totalChunks}  rows ${exact(t.doneRows)}/${exact(t.totalRows)} (${percent(t.doneRows, t.totalRows)})`,
            w,
          ),
        });
    }
  }
  if (row.sync) {
    // Live figures only while the sync unit runs (src/coord/status-derive.ts); otherwise its last positions.
    const y = row.sync;
    const stale = y.state === 'stale';
    lines.push(
      { text: '' },
      { text: stale ? `Sync (not running: ${y.staleReason}; last report)` : 'Sync', bold: true },
    );
    lines.push(
      ...field(
        stale ? 'applied' : 'synced',
        `${position(y.synced)}${y.synced?.gtid ? ` gtid ${y.synced.gtid}` : ''}`,
        w,
      ),
    );
    lines.push(
      ...field(
        'upstream',
        `${position(y.master)}${y.master?.gtid ? ` gtid ${y.master.gtid}` : ''}${y.masterRaised ? ' (at least: the last upstream read is older than synced)' : ''}`,
        w,
      ),
    );
    lines.push(
      ...field(
        'lag',
        stale
          ? 'unknown (not running)'
          : `${duration(y.lagSeconds ?? undefined)}${y.caughtUp ? ', caught up' : ', catching up'}`,
        w,
      ),
    );
    lines.push(...field('rate', stale ? '-' : `${count(y.rowsPerSecond ?? undefined)} rows/s`, w));
    lines.push(...field('totals', `${exact(y.totalRows)} rows, ${exact(y.totalEvents)} events`, w));
    lines.push(...field('safe mode', y.safeMode ? 'on (INSERT as REPLACE, UPDATE as DELETE + REPLACE)' : 'off', w));
    lines.push(...syncTableLines(st?.sync?.perTable ?? [], s.now, w));
  }
  if (st?.validation) {
    lines.push({ text: '' }, { text: 'Continuous validation (dmctl validation)', bold: true });
    lines.push(...field('validation', validationLine(st.validation), w));
    if (st.validation.errors.new > 0)
      lines.push(...field('errors', `dmctl validation show-error ${row.task} lists the error rows`, w));
  }
  const recent = st?.recentErrors ?? [];
  if (recent.length) {
    lines.push(
      { text: '' },
      { text: `Recent retried errors and warnings (${recent.length}, newest first)`, bold: true },
    );
    for (const r of recent)
      lines.push({
        text: truncate(
          `${INDENT}${r.time ? ago(Date.parse(r.time), s.now) + ' ' : ''}[${r.code}]${r.warning ? ' warning:' : ''} ${oneLine(r.message)}`,
          w,
        ),
      });
  }
  if (st)
    lines.push({ text: '' }, ...field('reported', `${st.updatedAt} (${ago(Date.parse(st.updatedAt), s.now)})`, w));
  else lines.push({ text: '' }, { text: `${INDENT}No status reported yet: the agent has not started this subtask.` });
  return { title: `Task ${row.task} · source ${row.source}`, lines };
}

/** Sync per target table: rows applied since the unit started, lag at the table's last commit, when that was. */
function syncTableLines(per: SyncTableProgress[], now: number, w: number): Line[] {
  if (per.length === 0) return [];
  const out: Line[] = [
    { text: '' },
    { text: `Sync per table (${per.length}, last applied first; lag at the table's last commit)`, bold: true },
  ];
  const nameW = Math.min(40, Math.max(5, ...per.map((t) => t.table.length)));
  for (const t of per)
    out.push({
      text: truncate(
        `${INDENT}${truncate(t.table, nameW).padEnd(nameW)}  rows ${count(t.rows).padStart(6)}  lag ${duration(t.lagSeconds).padStart(6)}  ${ago(Date.parse(t.lastAppliedAt), now)}`,
        w,
      ),
    });
  return out;
}

export function errorDetail(s: DashboardState, id: string, w: number): Detail {
  const e = errorRows(s).find((x) => x.id === id);
  if (!e) return { title: 'Error', lines: [{ text: 'This error is no longer in the log.' }] };
  const state = e.pausing
    ? 'the subtask is paused on it'
    : e.active
      ? e.record.warning
        ? 'a warning (nothing to retry)'
        : 'retried by the agent'
      : 'cleared (no longer reported)';
  return {
    title: `Error ${e.record.code} · ${e.task} · ${e.source}`,
    lines: [
      ...field('state', state, w),
      ...field('subtask', `task ${e.task}, source ${e.source}, agent ${e.agent || '-'}`, w),
      ...field('seen', ago(e.at, s.now), w),
      ...errorLines(e.record, w, s.now),
    ],
  };
}

export function lockDetail(s: DashboardState, key: string, w: number): Detail {
  const l = lockRows(s).find((x) => x.key === key);
  if (!l) return { title: 'Shard lock', lines: [{ text: 'This lock no longer exists (it was resolved).' }] };
  const lines: Line[] = [
    ...field('task', l.task, w),
    ...field('target', l.target, w),
    ...field('mode', l.mode, w),
    ...field('owner', l.owner || '-', w),
    ...field('age', l.createdAt !== undefined ? ago(l.createdAt, s.now) : '-', w),
    ...field('reached', l.reached.join(', ') || '-', w),
    ...field('waiting', l.waiting.join(', ') || '-', w),
    { text: '' },
    { text: `DDL (${l.ddls.length})`, bold: true },
  ];
  for (const d of l.ddls)
    lines.push(...wrap(d, w - 4).map((t, i) => ({ text: `${INDENT}${i === 0 ? '- ' : '  '}${t}` })));
  lines.push(
    { text: '' },
    { text: `${INDENT}u unlocks it after y (dmctl shard-ddl-lock unlock: the owner runs the DDL)` },
  );
  return { title: `Shard lock ${l.target} · ${l.task}`, lines };
}

export function agentDetail(s: DashboardState, name: string, w: number): Detail {
  const a = agentRows(s).find((x) => x.name === name);
  if (!a) return { title: 'Agent', lines: [{ text: 'This agent is no longer known.' }] };
  const m = s.members[Keys.member(name)];
  const lines: Line[] = [
    ...field(
      'state',
      `${liveness(m, s.now)}${a.leader ? ', leader' + (s.leader ? ` (term ${s.leader.term})` : '') : ''}`,
      w,
    ),
    ...field(
      'heartbeat',
      a.lastSeenAt !== undefined
        ? `${ago(a.lastSeenAt, s.now)} (gone after ${LEASE_TTL_MS / 1000}s without one)`
        : 'never seen',
      w,
    ),
    ...field('host', `${a.host}${a.pid !== undefined ? `, pid ${a.pid}` : ''}`, w),
    ...field('version', a.version, w),
    ...field('started', m?.record.started ?? '-', w),
    ...field('sources', a.sources.join(', ') || '-', w),
    { text: '' },
    { text: 'Subtasks on this agent', bold: true },
  ];
  const mine = taskRows(s).filter((r) => r.agent === name);
  if (mine.length === 0) lines.push({ text: `${INDENT}none` });
  for (const r of mine)
    lines.push({
      text: truncate(`${INDENT}${r.task} / ${r.source}: ${r.stage} ${r.unit}${r.error ? ` [${r.error.code}]` : ''}`, w),
    });
  return { title: `Agent ${name}`, lines };
}

export function eventDetail(s: DashboardState, id: string, w: number): Detail {
  const e = eventRows(s).find((x) => x.id === id);
  if (!e)
    return { title: 'Event', lines: [{ text: 'This event is no longer kept (the view keeps the newest ones).' }] };
  const lines: Line[] = [
    ...field('when', `${e.time} (${ago(Date.parse(e.time), s.now)})`, w),
    ...field('severity', e.severity, w),
    ...field('kind', e.kind, w),
    ...field('about', eventSubject(e) || 'the cluster', w),
    ...field('message', e.message, w),
    ...field('agent', e.agent ?? '-', w),
  ];
  if (e.by) lines.push(...field('by', e.by, w));
  if (e.error) {
    lines.push(...field('code', e.error.code, w), ...field('error', e.error.message, w));
    if (e.error.suggestion) lines.push(...field('suggestion', e.error.suggestion, w));
  }
  for (const [k, v] of Object.entries(e.detail ?? {})) lines.push(...field(k, String(v), w));
  if (e.seq !== undefined) lines.push(...field('sequence', String(e.seq), w));
  return { title: `Event ${e.kind}${e.task ? ` · ${e.task}` : ''}${e.source ? ` · ${e.source}` : ''}`, lines };
}

export function relayDetail(s: DashboardState, key: string, w: number): Detail {
  const r = s.relays[key];
  if (!r) return { title: 'Relay', lines: [{ text: 'This relay no longer reports (its source was removed).' }] };
  const lines: Line[] = [
    ...field('stage', relayStage(r), w),
    ...field('agent', r.agent || '-', w),
    ...field('relay pos', `${position(r.relayPos)}${r.relayPos?.gtid ? ` gtid ${r.relayPos.gtid}` : ''}`, w),
    ...field('upstream', `${position(r.master)}${r.master?.gtid ? ` gtid ${r.master.gtid}` : ''}`, w),
    ...field('behind', relayBehind(r).text, w),
    ...field('lag', `${duration(r.lagSeconds)}, ${count(r.eventsPerSecond)} events/s`, w),
    ...field('server', `segment ${r.segment ?? '-'}, uuid ${r.serverUuid ?? '-'}`, w),
    { text: '' },
    { text: 'Store', bold: true },
    ...field('records', `#${r.firstSeq}..#${r.lastSeq} (${exact(r.size.records)})`, w),
    ...field(
      'size',
      `file ${mb(r.size.fileBytes)}, used ${mb(r.size.usedBytes)}, reusable ${mb(r.size.reusableBytes)}`,
      w,
    ),
    ...field(
      'readers',
      `${r.readers}${r.neededSeq !== undefined ? `; needed from #${r.neededSeq}${r.neededBy ? ` by ${r.neededBy}` : ''}` : ''}`,
      w,
    ),
    ...field(
      'upstream',
      `${r.upstreamPaused ? 'paused now (backpressure: readers are behind)' : 'reading'}; paused ${r.upstreamPauses} time(s)`,
      w,
    ),
  ];
  if (r.lastPurge)
    lines.push(
      ...field('last purge', `${r.lastPurge.records} records at ${r.lastPurge.at} (${r.lastPurge.reason})`, w),
    );
  if (r.error) lines.push({ text: '' }, { text: 'Error', bold: true, color: 'red' }, ...errorLines(r.error, w, s.now));
  lines.push(
    { text: '' },
    ...field('reported', `${r.updatedAt} (${ago(Date.parse(r.updatedAt), s.now)})`, w),
    ...field('commands', `dmctl pause-relay|resume-relay|purge-relay -s ${r.source}`, w),
  );
  return { title: `Relay ${r.source}`, lines };
}

export function detailFor(view: ViewName, s: DashboardState, key: string, w: number): Detail {
  switch (view) {
    case 'tasks':
      return taskDetail(s, key, w);
    case 'errors':
      return errorDetail(s, key, w);
    case 'locks':
      return lockDetail(s, key, w);
    case 'topology':
      return agentDetail(s, key, w);
    case 'events':
      return eventDetail(s, key, w);
    case 'relays':
      return relayDetail(s, key, w);
  }
}
