/** Writes docs/metrics.md from the catalogue (`npx tsx src/metrics/gen-docs.ts`); a unit test keeps the two in step. */
import { writeFileSync } from 'node:fs';
import { DEFAULT_METRICS, METRICS, type MetricSpec } from './catalog.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function metricsMarkdown(): string {
  const specs: MetricSpec[] = Object.values(METRICS);
  const row = (s: MetricSpec) =>
    `| \`${s.name}\` | ${s.type} | ${s.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${cell(s.help)}${
      s.buckets ? ` Buckets: ${s.buckets.length} from ${s.buckets[0]} to ${s.buckets[s.buckets.length - 1]}.` : ''
    } |`;
  const table = (list: MetricSpec[]) =>
    `| metric | type | labels | meaning |\n|---|---|---|---|\n${list.map(row).join('\n')}`;
  return `# Metrics

dm-agent serves Prometheus metrics, a liveness and a readiness probe on \`--metrics-addr HOST:PORT\` (env
\`TSDM_METRICS_ADDR\`, agent.yaml \`metrics-addr\`; off by default, \`:8262\` — DM-worker's port — in the shipped
deployment; docs/configuration.md):

| path | answers |
|---|---|
| \`/metrics\` | every metric below, Prometheus text format 0.0.4 |
| \`/healthz\` | 200 \`{"ok":true}\` while the process runs and its event loop turns (503 after a stall over 5 s) |
| \`/readyz\` | 200 while NATS is connected and this agent's member key was renewed within the lease (10 s); else 503 \`{"ok":false,"why":"..."}\` |

Labels: \`task\` and \`source_id\` name a subtask, \`worker\` is the agent's name (DM's worker), \`schema\`/\`table\` a target
table. Values read from state (stages, positions, lags, relay sizes) are taken when Prometheus scrapes; counters and
histograms are updated where the work happens, once per committed batch (never per row).

This file is generated from \`src/metrics/catalog.ts\` by \`npx tsx src/metrics/gen-docs.ts\`.

## DM's metrics

Names, labels and encodings as DM-worker exports them, so DM's Grafana panels and alert expressions apply.
\`dm_worker_task_state\`: ${Object.entries({ invalid: 0, New: 1, Running: 2, Paused: 3, Stopped: 4, Finished: 5 })
    .map(([k, v]) => `${v} = ${k}`)
    .join(', ')}.

${table(specs.filter((s) => s.dm))}

## tsdm's own metrics

${table(specs.filter((s) => !s.dm))}

## Process metrics

prom-client's default metrics of the Node.js process, without a prefix, among them:

| metric | meaning |
|---|---|
${DEFAULT_METRICS.map((d) => `| \`${d.name}\` | ${cell(d.help)} |`).join('\n')}

## Compatibility with DM

- **Relay metrics carry \`source_id\`.** DM-worker runs one relay (its bound source) and its \`dm_relay_*\` have no
  source label; a tsdm agent may run the relays of several bound sources. Queries that select by \`instance\` keep
  working; sum or filter by \`source_id\` where an agent runs more than one relay. \`dm_relay_space\` is the file
  system holding the agent's relay directory (\`data-dir/relay\`), as DM's is the relay dir's.
- **Lag** (\`dm_syncer_replication_lag_gauge\`): now minus the upstream time of the last event committed downstream,
  0 while caught up (DM uses heartbeat events for the idle case). Unlike DM, it keeps moving while a subtask is paused
  or stopped by an error: the agent checks the upstream's head every 2 s and lets the lag grow once the upstream
  has moved past the synced position. \`dm_syncer_remaining_time\` is estimated from how fast the lag shrank over the
  last 10 s or more (-1 while it does not shrink).
- **Transactions**: \`dm_syncer_txn_duration_time\` times one writer's downstream transaction (tsdm commits a batch
  as one transaction per writer); \`dm_syncer_finished_transaction_total\` counts upstream transactions applied.
- **Loader**: \`dm_loader_progress\` is by rows (DM: by bytes of dump files); tsdm has no dump files, so DM's
  \`dm_loader_data_file_gauge\` and \`dm_loader_data_size_gauge\` are not exported (\`tsdm_load_rows_expected\` instead).
- **Exit counters** (\`dm_*_exit_with_error_count\`) count each error that stopped the unit, retryable ones included
  (\`resumable_err="true"\` for the syncer), as DM's do.
- Not exported: DM's per-job and queue internals (\`dm_syncer_added_jobs_total\`, \`dm_syncer_queue_size\`,
  \`dm_syncer_binlog_transform_cost\`, …), which describe DM's job pipeline rather than the data; tsdm's batch,
  commit and per-table series cover the same ground.
`;
}

if (process.argv[1]?.endsWith('gen-docs.ts'))
  writeFileSync(new URL('../../docs/metrics.md', import.meta.url), metricsMarkdown());
