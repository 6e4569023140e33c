/**
 * The Grafana dashboard shipped as deploy/grafana/tsdm.json (issue #17), written as code so that the layout, the
 * datasource and the filters stay the same on every panel and each panel's description is the metric's help from
 * src/metrics/catalog.ts. `npx tsx deploy/grafana/dashboard.ts` rewrites tsdm.json; test/unit/monitoring.test.ts
 * fails when the file and this code differ, or when a query reads a metric the catalogue does not have;
 * test/integration/monitoring-names.test.ts finds every metric here on a live agent's /metrics.
 *
 * Import: Grafana > Dashboards > New > Import > upload tsdm.json, pick the Prometheus datasource (the
 * `DS_PROMETHEUS` input). Filters: job, instance (agent), task, source.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { METRICS } from '../../src/metrics/catalog.ts';

const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

/** Label filters, by what a metric is labelled with. */
const AGENT = 'job=~"$job", instance=~"$instance"';
const TASK = `${AGENT}, task=~"$task", source_id=~"$source"`;
const SOURCE = `${AGENT}, source_id=~"$source"`;
const TASK_ONLY = `${AGENT}, task=~"$task"`;

/** DM's task stage numbers as Grafana value mappings (dm_worker_task_state). */
const STAGE_MAPPINGS = [
  {
    type: 'value',
    options: {
      '0': { text: 'Invalid', color: 'dark-red', index: 0 },
      '1': { text: 'New', color: 'blue', index: 1 },
      '2': { text: 'Running', color: 'green', index: 2 },
      '3': { text: 'Paused', color: 'orange', index: 3 },
      '4': { text: 'Stopped', color: 'red', index: 4 },
      '5': { text: 'Finished', color: 'purple', index: 5 },
    },
  },
];

interface Query {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  /** Shown as the panel's (i) text; by default the help of the first catalogue metric the first query reads. */
  description?: string;
  queries: Query[];
  unit?: string;
  /** Width in grid columns (of 24); 8 by default. */
  w?: number;
  type?: 'timeseries' | 'stat';
  mappings?: unknown[];
  /** Draw as bars (counts per interval) rather than lines. */
  bars?: boolean;
  /** The y axis starts at 0 unless a value can be negative (false). */
  nonNegative?: boolean;
}

interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

const q = (expr: string, legend: string): Query => ({ expr, legend });
const rate = (name: string, filter: string) => `rate(${name}{${filter}}[$__rate_interval])`;
const quantile = (p: number, name: string, filter: string, by: string) =>
  `histogram_quantile(${p}, sum by (le, ${by}) (rate(${name}_bucket{${filter}}[$__rate_interval])))`;

const ROWS: RowSpec[] = [
  {
    title: 'Overview',
    panels: [
      {
        title: 'Task state',
        type: 'stat',
        w: 24,
        queries: [q(`dm_worker_task_state{${TASK}}`, '{{task}} / {{source_id}} @ {{worker}}')],
        mappings: STAGE_MAPPINGS,
      },
      {
        title: 'Replication lag',
        unit: 's',
        queries: [q(`dm_syncer_replication_lag_gauge{${TASK}}`, '{{task}} / {{source_id}}')],
      },
      {
        title: 'Throughput: transactions/s',
        unit: 'ops',
        queries: [
          q(
            `sum by (task, source_id) (${rate('dm_syncer_finished_transaction_total', TASK)})`,
            '{{task}} / {{source_id}}',
          ),
        ],
      },
      {
        title: 'Throughput: rows/s',
        unit: 'rowsps',
        queries: [
          q(`sum by (task, source_id) (${rate('tsdm_sync_rows_applied_total', TASK)})`, '{{task}} / {{source_id}}'),
        ],
      },
      {
        title: 'Remaining time to catch up',
        description:
          'Seconds until sync catches up at the current rate: 0 when caught up, -1 while the lag is not shrinking.',
        unit: 's',
        nonNegative: false,
        queries: [q(`dm_syncer_remaining_time{${TASK}}`, '{{task}} / {{source_id}}')],
      },
      {
        title: 'Units exiting with an error',
        description:
          'Times a unit stopped on an error over the interval (dump, load, sync per subtask; relay per source).',
        bars: true,
        w: 16,
        queries: [
          q(`increase(dm_dumpling_exit_with_error_count{${TASK}}[$__rate_interval])`, 'dump {{task}} / {{source_id}}'),
          q(`increase(dm_loader_exit_with_error_count{${TASK}}[$__rate_interval])`, 'load {{task}} / {{source_id}}'),
          q(
            `increase(dm_syncer_exit_with_error_count{${TASK}}[$__rate_interval])`,
            'sync {{task}} / {{source_id}} resumable={{resumable_err}}',
          ),
          q(
            `increase(dm_relay_exit_with_error_count{${SOURCE}}[$__rate_interval])`,
            'relay {{source_id}} resumable={{resumable_err}}',
          ),
        ],
      },
    ],
  },
  {
    title: 'Sync',
    panels: [
      {
        title: 'Finished transactions/s',
        unit: 'ops',
        queries: [q(rate('dm_syncer_finished_transaction_total', TASK), '{{task}} / {{source_id}} @ {{worker}}')],
      },
      {
        title: 'Rows applied/s by target table (top 10)',
        unit: 'rowsps',
        queries: [
          q(
            `topk(10, sum by (task, schema, table) (${rate('tsdm_sync_rows_applied_total', TASK)}))`,
            '{{task}} {{schema}}.{{table}}',
          ),
        ],
      },
      {
        title: 'Read lag vs apply lag',
        description:
          'Read lag: now minus the upstream time of the last event read; apply lag: of the last event committed downstream. A gap between them is work queued inside the agent.',
        unit: 's',
        queries: [
          q(`tsdm_sync_read_lag_seconds{${TASK}}`, 'read {{task}} / {{source_id}}'),
          q(`tsdm_sync_apply_lag_seconds{${TASK}}`, 'apply {{task}} / {{source_id}}'),
        ],
      },
      {
        title: 'Batch size (rows)',
        queries: [
          q(quantile(0.5, 'tsdm_sync_batch_rows', TASK, 'task, source_id'), 'p50 {{task}} / {{source_id}}'),
          q(quantile(0.95, 'tsdm_sync_batch_rows', TASK, 'task, source_id'), 'p95 {{task}} / {{source_id}}'),
        ],
      },
      {
        title: 'Commit latency',
        unit: 's',
        queries: [
          q(quantile(0.5, 'tsdm_sync_commit_seconds', TASK, 'task, source_id'), 'p50 {{task}} / {{source_id}}'),
          q(quantile(0.99, 'tsdm_sync_commit_seconds', TASK, 'task, source_id'), 'p99 {{task}} / {{source_id}}'),
        ],
      },
      {
        title: 'Transaction duration (p95)',
        unit: 's',
        queries: [
          q(quantile(0.95, 'dm_syncer_txn_duration_time', TASK, 'task, source_id'), '{{task}} / {{source_id}}'),
        ],
      },
      {
        title: 'Replication lag (p95 of batches)',
        unit: 's',
        queries: [q(quantile(0.95, 'dm_syncer_replication_lag', TASK, 'task, source_id'), '{{task}} / {{source_id}}')],
      },
      {
        title: 'Lag by target table (top 10)',
        unit: 's',
        queries: [q(`topk(10, tsdm_sync_table_lag_seconds{${TASK}})`, '{{task}} {{schema}}.{{table}}')],
      },
      {
        title: 'Checkpoint age',
        unit: 's',
        queries: [q(`tsdm_sync_checkpoint_age_seconds{${TASK}}`, '{{task}} / {{source_id}}')],
      },
      {
        title: 'Binlog file: upstream head vs synced',
        queries: [q(`dm_syncer_binlog_file{${TASK}}`, '{{node}} {{task}} / {{source_id}}')],
      },
      {
        title: 'Binlog position: upstream head vs synced',
        unit: 'decbytes',
        queries: [q(`dm_syncer_binlog_pos{${TASK}}`, '{{node}} {{task}} / {{source_id}}')],
      },
      {
        title: 'Validation errors',
        queries: [q(`dm_validator_validator_error_count{${TASK}}`, '{{task}} / {{source_id}}')],
      },
    ],
  },
  {
    title: 'Load',
    panels: [
      {
        title: 'Load progress',
        // tsdm exports 0-100 (rows loaded / rows to load, in percent).
        unit: 'percent',
        queries: [q(`dm_loader_progress{${TASK}}`, '{{task}} / {{source_id}}')],
      },
      {
        title: 'Rows loaded / expected',
        queries: [
          q(`tsdm_load_rows_loaded{${TASK}}`, 'loaded {{task}} / {{source_id}}'),
          q(`tsdm_load_rows_expected{${TASK}}`, 'expected {{task}} / {{source_id}}'),
        ],
      },
      {
        title: 'Tables to load',
        queries: [q(`dm_loader_table_gauge{${TASK}}`, '{{task}} / {{source_id}}')],
      },
    ],
  },
  {
    title: 'Relay',
    panels: [
      {
        title: 'Relay binlog file: upstream head vs relay',
        queries: [q(`dm_relay_binlog_file{${SOURCE}}`, '{{node}} {{source_id}}')],
      },
      {
        title: 'Relay binlog position',
        unit: 'decbytes',
        queries: [q(`dm_relay_binlog_pos{${SOURCE}}`, '{{node}} {{source_id}}')],
      },
      {
        title: 'Relay lag',
        unit: 's',
        queries: [q(`tsdm_relay_lag_seconds{${SOURCE}}`, '{{source_id}}')],
      },
      {
        title: 'Relay disk space',
        unit: 'bytes',
        queries: [q(`dm_relay_space{${SOURCE}}`, '{{type}} {{source_id}} @ {{instance}}')],
      },
      {
        title: 'Relay log size and reusable space',
        unit: 'bytes',
        queries: [
          q(`tsdm_relay_size_bytes{${SOURCE}}`, 'size {{source_id}}'),
          q(`tsdm_relay_reusable_bytes{${SOURCE}}`, 'reusable {{source_id}}'),
        ],
      },
    ],
  },
  {
    title: 'Cluster',
    panels: [
      {
        title: 'Leader',
        type: 'stat',
        queries: [q(`tsdm_is_leader{${AGENT}}`, '{{instance}}')],
        mappings: [
          {
            type: 'value',
            options: { '0': { text: 'follower', index: 0 }, '1': { text: 'leader', color: 'green', index: 1 } },
          },
        ],
      },
      {
        title: 'Leader changes',
        bars: true,
        queries: [q(`increase(tsdm_leader_changes_total{${AGENT}}[$__rate_interval])`, '{{instance}}')],
      },
      {
        title: 'Sources bound',
        queries: [q(`tsdm_bindings{${AGENT}}`, '{{instance}}')],
      },
      {
        title: 'NATS KV round trip (p99)',
        unit: 's',
        queries: [q(quantile(0.99, 'tsdm_nats_kv_roundtrip_seconds', AGENT, 'instance, op'), '{{op}} @ {{instance}}')],
      },
      {
        title: 'NATS KV anomalies and repairs',
        bars: true,
        queries: [
          q(`increase(tsdm_nats_kv_anomalies_total{${AGENT}}[$__rate_interval])`, '{{kind}} @ {{instance}}'),
          q(`increase(tsdm_nats_kv_repairs_total{${AGENT}}[$__rate_interval])`, 'repairs @ {{instance}}'),
        ],
      },
      {
        title: 'NATS connected / member key age',
        queries: [
          q(`tsdm_nats_connected{${AGENT}}`, 'connected @ {{instance}}'),
          q(`tsdm_member_renew_age_seconds{${AGENT}}`, 'member key age (s) @ {{instance}}'),
        ],
      },
    ],
  },
  {
    title: 'Shard DDL locks',
    panels: [
      {
        title: 'Locks pending',
        queries: [q(`max by (task) (tsdm_shard_locks_pending{${TASK_ONLY}})`, '{{task}}')],
      },
      {
        title: 'Oldest lock age',
        unit: 's',
        queries: [q(`max by (task) (tsdm_shard_lock_oldest_age_seconds{${TASK_ONLY}})`, '{{task}}')],
      },
      {
        title: 'Subtasks waiting on a lock',
        queries: [q(`dm_syncer_shard_lock_resolving{${TASK}}`, '{{task}} / {{source_id}}')],
      },
    ],
  },
  {
    title: 'Process',
    panels: [
      {
        title: 'Resident memory',
        unit: 'bytes',
        queries: [
          q(`process_resident_memory_bytes{${AGENT}}`, 'RSS @ {{instance}}'),
          q(`nodejs_heap_size_used_bytes{${AGENT}}`, 'heap used @ {{instance}}'),
        ],
      },
      {
        title: 'Event-loop lag',
        description:
          'A blocked event loop delays lease renewals (a lag near the 10 s lease costs the agent its sources).',
        unit: 's',
        queries: [
          q(`nodejs_eventloop_lag_p99_seconds{${AGENT}}`, 'p99 @ {{instance}}'),
          q(`nodejs_eventloop_lag_max_seconds{${AGENT}}`, 'max @ {{instance}}'),
        ],
      },
      {
        title: 'CPU',
        unit: 'percentunit',
        queries: [q(rate('process_cpu_seconds_total', AGENT), '{{instance}}')],
      },
      {
        title: 'GC pauses/s',
        unit: 's',
        queries: [q(`sum by (instance) (${rate('nodejs_gc_duration_seconds_sum', AGENT)})`, '{{instance}}')],
      },
      {
        title: 'Open file descriptors',
        queries: [q(`process_open_fds{${AGENT}}`, '{{instance}}')],
      },
    ],
  },
];

const HELP = new Map<string, string>(Object.values(METRICS).map((m) => [m.name, m.help]));

/** The help of the first catalogue metric the expression reads. */
function helpOf(expr: string): string | undefined {
  for (const m of expr.matchAll(/[a-z_][a-z0-9_]*/g)) {
    const name = m[0].replace(/_(bucket|sum|count)$/, '');
    const h = HELP.get(name) ?? HELP.get(m[0]);
    if (h) return h;
  }
  return undefined;
}

function panel(p: PanelSpec, id: number, x: number, y: number): Record<string, unknown> {
  const description = p.description ?? helpOf(p.queries[0]!.expr) ?? '';
  const targets = p.queries.map((t, i) => ({
    datasource: DS,
    expr: t.expr,
    legendFormat: t.legend,
    refId: String.fromCharCode(65 + i),
  }));
  const common = { id, type: p.type ?? 'timeseries', title: p.title, description, datasource: DS, targets };
  const gridPos = { h: p.type === 'stat' && p.w === 24 ? 5 : 8, w: p.w ?? 8, x, y };
  if (p.type === 'stat') {
    return {
      ...common,
      gridPos,
      fieldConfig: {
        defaults: { mappings: p.mappings ?? [], unit: p.unit ?? 'none', color: { mode: 'fixed', fixedColor: 'text' } },
        overrides: [],
      },
      options: {
        reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
        colorMode: 'background',
        graphMode: 'none',
        textMode: 'value_and_name',
        orientation: 'auto',
        justifyMode: 'auto',
      },
    };
  }
  return {
    ...common,
    gridPos,
    fieldConfig: {
      defaults: {
        unit: p.unit ?? 'short',
        ...(p.nonNegative === false ? {} : { min: 0 }),
        custom: p.bars
          ? { drawStyle: 'bars', fillOpacity: 60, lineWidth: 1, showPoints: 'never' }
          : { drawStyle: 'line', fillOpacity: 10, lineWidth: 1, showPoints: 'never', spanNulls: false },
      },
      overrides: [],
    },
    options: {
      legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['lastNotNull', 'max'] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

function variable(name: string, label: string, query: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    query: { query, refId: `${name}-query` },
    definition: query,
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 1,
    hide: 0,
  };
}

/** The whole dashboard, as Grafana's import expects it. */
export function dashboard(): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  // Rows are expanded (collapsed: false), so their panels follow them at the top level, laid out left to right.
  for (const row of ROWS) {
    panels.push({
      id: id++,
      type: 'row',
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.w ?? 8;
      if (x + w > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      const built = panel(p, id++, x, y);
      panels.push(built);
      rowHeight = Math.max(rowHeight, (built['gridPos'] as { h: number }).h);
      x += w;
    }
    y += rowHeight;
  }
  return {
    __inputs: [
      {
        name: 'DS_PROMETHEUS',
        label: 'Prometheus',
        description: 'The Prometheus that scrapes the dm-agents (deploy/prometheus/prometheus.yml)',
        type: 'datasource',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
      },
    ],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '9.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      { type: 'panel', id: 'timeseries', name: 'Time series', version: '' },
      { type: 'panel', id: 'stat', name: 'Stat', version: '' },
    ],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: 'tsdm (DM-compatible data migration): tasks, sync, load, relay, cluster, shard DDL locks, process',
    editable: true,
    graphTooltip: 1,
    id: null,
    links: [],
    panels,
    refresh: '30s',
    schemaVersion: 36,
    tags: ['tsdm', 'dm'],
    templating: {
      list: [
        variable('job', 'job', 'label_values(tsdm_is_leader, job)'),
        variable('instance', 'agent', 'label_values(tsdm_is_leader{job=~"$job"}, instance)'),
        variable('task', 'task', 'label_values(dm_worker_task_state{job=~"$job", instance=~"$instance"}, task)'),
        variable(
          'source',
          'source',
          'label_values(dm_worker_task_state{job=~"$job", instance=~"$instance", task=~"$task"}, source_id)',
        ),
      ],
    },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: '',
    title: 'tsdm',
    uid: 'tsdm-overview',
    version: 1,
  };
}

export const DASHBOARD_FILE = fileURLToPath(new URL('./tsdm.json', import.meta.url));

export function renderDashboard(): string {
  return `${JSON.stringify(dashboard(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(DASHBOARD_FILE, renderDashboard());
  console.log(`wrote ${DASHBOARD_FILE}`);
}
